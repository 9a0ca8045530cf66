-- 0016_history_by_tick.sql - the per-tick mining history is keyed by tick
-- first, so that a tick's rows are appended at the end of the index.
--
-- tickd inserts one mining_history row per company with a result every
-- tick.  Keyed (company_id, tick), each of those rows went to a different
-- leaf of the primary key (100,000 random leaves a tick at 100,000
-- companies, and every one of them dirtied and logged); keyed (tick,
-- company_id) a tick's rows fill consecutive leaves at the right edge, and
-- pruning a tick is a range delete at the left edge.  Readers of one
-- company look its ticks up one by one (tick = ANY(array of ticks): one
-- index descent per tick, bounded: at most 1000 for the charts, 10 for the
-- unsettled results below).
ALTER TABLE mining_history DROP CONSTRAINT mining_history_pkey;
ALTER TABLE mining_history ADD PRIMARY KEY (tick, company_id);
-- The primary key now finds tick ranges (0012's BRIN index did).
DROP INDEX mining_history_tick;

-- A company's yield remainder (below one satoshi) travels in its history
-- rows; a company that stopped mining has none after its last one, and
-- retention deletes whole ticks.  So when a company's remainder differs
-- from the one stored here in a tick without a history row of its own,
-- tickd stores it here (rarely: when a company stops mining); a load takes
-- the remainder of the company's row at the loaded tick, else this one.
CREATE TABLE mining_remainders (
    company_id  bigint PRIMARY KEY,
    world_id    bigint NOT NULL,
    tick        bigint NOT NULL,
    rem_nsat    bigint NOT NULL CHECK (rem_nsat BETWEEN 0 AND 999999999)
);
INSERT INTO mining_remainders (company_id, world_id, tick, rem_nsat)
SELECT DISTINCT ON (company_id) company_id, world_id, tick, rem_nsat
FROM mining_history ORDER BY company_id, tick DESC;
-- What 0012's pruning kept below the pruned tick (each company's latest
-- row, rows then unsettled) is now in mining_remainders or settled: pruning
-- deletes whole ticks from here on, so delete those rows once.
DELETE FROM mining_history h USING mining_history_pruned p
WHERE h.world_id = p.world_id AND h.tick <= p.tick;

-- Mining results are settled into ledger_entries at most
-- LEDGER_SETTLE_EVERY (tickd/ledger.h) ticks after they happen, so at a
-- committed tick T the unsettled ones are in ticks (T - window, T].  tickd
-- refuses to start when its constant and this one differ.
CREATE FUNCTION mining_unsettled_window() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 10::bigint $$;

-- company_balances() (0014), reading the ticks whose results may not be
-- settled one by one: those after the company's settlement within the
-- window before its world's last tick (written out here, not as a function
-- of its own: a scalar SQL function with a subquery is not inlined).
CREATE OR REPLACE FUNCTION company_balances(cid bigint) RETURNS TABLE (usd bigint, btc bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'usd') + h.usd,
           (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'btc') + h.btc
    FROM (SELECT COALESCE(sum(m.credit_uusd - m.energy_uusd), 0) AS usd,
                 COALESCE(sum(m.mined_sat), 0) AS btc
          FROM mining_history m
          WHERE m.company_id = cid AND m.tick = ANY (ARRAY(
              SELECT generate_series(
                         GREATEST(w.tick - mining_unsettled_window(),
                                  COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                                            WHERE s.company_id = cid), -1)) + 1,
                         w.tick)
              FROM companies c JOIN worlds w ON w.id = c.world_id WHERE c.id = cid))) h
$$;
