-- 0022_mining_due.sql - what each company has accrued and not yet settled
-- into ledger_entries, kept for the world's last tick only.
--
-- tickd accrues a mining company's energy, demand-response credit and
-- reward in memory every tick and settles them into ledger_entries at the
-- company's turn, every LEDGER_SETTLE_EVERY ticks, or out of turn when a
-- debit meets an unsettled credit (tickd/ledger.c).  Readers of a balance
-- (company_balances(), tickd's load) added the unsettled part by summing
-- the company's history since its settled tick, so the turn had to be
-- short (10 ticks) to keep that read small, and a tenth of the companies
-- settled every tick: at 100,000 companies 20,000 entries and as many
-- balance updates, the largest part of a tick's commit.
--
-- Now tickd keeps, for each world, what every company has accrued and not
-- settled after the world's last tick in mining_due: a row per bucket of 64
-- company ids (as in mining_history_buckets, 0018), element id % 64 + 1 of
-- each array, NULL for a company with nothing due.  tickd replaces the
-- world's rows in every tick's transaction, so they always belong to the
-- world's last tick.  A reader takes a company's element: one index
-- descent, whatever the turn, so the turn can be long (100 ticks) and a
-- tick settles a hundredth of the companies.  The table holds one tick (a
-- few kB per 64 companies), not a history.
--
-- The migration settles what is unsettled at that point (the sums the old
-- readers computed) into ledger_entries at each world's tick, exactly as a
-- turn would, so mining_due starts empty.  ledger_accrual_settled,
-- accrual_settled_tick() and mining_unsettled_window() then have no readers
-- and go.
CREATE TABLE mining_due (
    world_id     bigint NOT NULL,
    bucket       bigint NOT NULL CHECK (bucket >= 0),
    tick         bigint NOT NULL,
    energy_uusd  bigint[] NOT NULL,
    credit_uusd  bigint[] NOT NULL,
    mined_sat    bigint[] NOT NULL,
    PRIMARY KEY (world_id, bucket),
    -- One dimension from 1, at most a bucket long, the same companies (the
    -- same NULL elements) in every column, never negative.
    CHECK (array_ndims(mined_sat) = 1 AND array_lower(mined_sat, 1) = 1
           AND cardinality(mined_sat) <= mining_bucket_size()
           AND array_lower(energy_uusd, 1) = 1 AND array_lower(credit_uusd, 1) = 1
           AND cardinality(energy_uusd) = cardinality(mined_sat)
           AND cardinality(credit_uusd) = cardinality(mined_sat)
           AND array_positions(mined_sat, NULL) = array_positions(energy_uusd, NULL)
           AND array_positions(mined_sat, NULL) = array_positions(credit_uusd, NULL)),
    CHECK (0 <= ALL (mined_sat) AND 0 <= ALL (energy_uusd) AND 0 <= ALL (credit_uusd))
) WITH (toast_tuple_target = 8160);

-- Settle what is unsettled now, as tickd's settlement does (kinds and
-- system accounts of tickd/mining_phase.c and tickd/ledger.c), at each
-- world's tick.  The unsettled ticks of a company are those after the later
-- of its last turn and its stored settlement (0019), up to its world's tick.
-- The entries' statement trigger moves the balances (0017).
WITH u AS (
    SELECT h.world_id, w.tick, h.company_id,
           sum(h.energy_uusd) AS energy, sum(h.credit_uusd) AS credit, sum(h.mined_sat) AS sat
    FROM mining_history h
    JOIN worlds w ON w.id = h.world_id
    LEFT JOIN ledger_accrual_settled a ON a.company_id = h.company_id
    WHERE h.tick <= w.tick AND h.tick > w.tick - mining_unsettled_window()
      AND h.tick > GREATEST(COALESCE(a.tick, -1),
                            w.tick - (h.company_id + w.tick) % mining_unsettled_window())
    GROUP BY 1, 2, 3),
m AS (
    SELECT world_id, tick, company_id, 'energy' AS sys, 'usd' AS cur, energy AS amount,
           'mining.energy' AS kind, true AS company_pays
    FROM u WHERE energy > 0
    UNION ALL
    SELECT world_id, tick, company_id, 'mining', 'usd', credit, 'mining.dr_credit', false
    FROM u WHERE credit > 0
    UNION ALL
    SELECT world_id, tick, company_id, 'mining', 'btc', sat, 'mining.reward', false
    FROM u WHERE sat > 0)
INSERT INTO ledger_entries (world_id, tick, debit_account, credit_account, currency, amount, kind)
SELECT m.world_id, m.tick,
       CASE WHEN m.company_pays THEN c.id ELSE s.id END,
       CASE WHEN m.company_pays THEN s.id ELSE c.id END,
       m.cur, m.amount, m.kind
FROM m
JOIN ledger_accounts c ON c.company_id = m.company_id AND c.currency = m.cur
JOIN ledger_accounts s ON s.world_id = m.world_id AND s.system = m.sys AND s.currency = m.cur
ORDER BY m.world_id, m.company_id, m.kind;

-- A company's balance: its accounts plus its element of mining_due (one
-- index descent; no row or a NULL element adds 0).  Always one row, NULL
-- balances for a company without accounts (not open).
CREATE OR REPLACE FUNCTION company_balances(cid bigint) RETURNS TABLE (usd bigint, btc bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.usd + COALESCE(d.usd, 0), a.btc + COALESCE(d.btc, 0)
    FROM (SELECT (SELECT b.balance FROM ledger_accounts b
                  WHERE b.company_id = cid AND b.currency = 'usd') AS usd,
                 (SELECT b.balance FROM ledger_accounts b
                  WHERE b.company_id = cid AND b.currency = 'btc') AS btc) a
    LEFT JOIN (
        SELECT m.credit_uusd[k.k] - m.energy_uusd[k.k] AS usd, m.mined_sat[k.k] AS btc
        FROM (SELECT (cid % mining_bucket_size() + 1)::integer AS k) k,
             companies c
             JOIN mining_due m ON m.world_id = c.world_id AND m.bucket = cid / mining_bucket_size()
        WHERE c.id = cid) d ON true
$$;

DROP FUNCTION accrual_settled_tick(bigint);
DROP TABLE ledger_accrual_settled;
DROP FUNCTION mining_unsettled_window();
