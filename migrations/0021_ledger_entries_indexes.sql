-- 0021_ledger_entries_indexes.sql - drop the per-account indexes of
-- ledger_entries (0005).
--
-- ledger_entries_debit and ledger_entries_credit served one reader: the
-- ledger check of `tickd verify`, which summed each account's entries with
-- two index lookups per account.  It now sums all entries in one pass and
-- joins the accounts (tickd/ledger.c, q_verify).  Meanwhile every entry paid
-- two index insertions on leaves chosen by account id: at 100,000 companies
-- a tick writes ~30,000 entries (purchases and a tenth of the companies'
-- settlements), 60,000 random leaves.  Balances are kept by the statement
-- trigger (0017), which reads the new entries, never the table.  Entries
-- are still found by tick (ledger_entries_tick) and by id; an operator who
-- wants account statements at scale can build an index again
-- (CREATE INDEX CONCURRENTLY ... ON ledger_entries (credit_account), and
-- the same for debit_account).
DROP INDEX ledger_entries_debit;
DROP INDEX ledger_entries_credit;
