-- 0017_ledger_apply.sql - the ledger's statement trigger checks the
-- accounts with the balance update itself.
--
-- 0011's ledger_apply_entries() first joined every new entry with both of
-- its accounts to refuse a missing account or one of another currency or
-- world (two index probes per entry: 60,000 a tick at 100,000 companies),
-- then updated the balances from the per-account sums.  The update now
-- groups the deltas by (account, currency, world) and matches all three:
-- an account that is missing, or of another currency or world, leaves its
-- group unmatched, and the trigger refuses the statement when fewer
-- accounts were updated than there are groups (an account used with two
-- currencies makes two groups and matches one).  Same refusals, one probe
-- per account instead of two per entry.
CREATE OR REPLACE FUNCTION ledger_apply_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    groups  bigint;
    updated bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM new_entries e
               WHERE e.intent_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.id = e.intent_id)) THEN
        RAISE EXCEPTION 'ledger entry for an intent that does not exist';
    END IF;
    WITH d AS (
        SELECT account, currency, world_id, sum(delta) AS delta
        FROM (SELECT debit_account AS account, currency, world_id, -amount AS delta
              FROM new_entries
              UNION ALL
              SELECT credit_account, currency, world_id, amount FROM new_entries) x
        GROUP BY account, currency, world_id),
    u AS (
        UPDATE ledger_accounts a SET balance = a.balance + d.delta
        FROM d
        WHERE a.id = d.account AND a.currency = d.currency AND a.world_id = d.world_id
        RETURNING 1)
    SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO groups, updated;
    IF updated <> groups THEN
        RAISE EXCEPTION 'ledger entry between missing accounts or accounts of another currency or world';
    END IF;
    RETURN NULL;
END $$;
