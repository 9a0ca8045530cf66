-- 0018_history_buckets.sql - the per-tick mining history stored compactly:
-- one row per tick and bucket of 64 company ids, a column per result.
--
-- tickd wrote one mining_history row per mining company every tick: at
-- 100,000 companies, 100,000 rows (a tuple header and a primary-key entry
-- each, ~150 bytes per company per tick) and about 0.7 s of the tick's
-- commit.  Here a row holds the results of the companies whose ids share
-- id / 64 (the bucket): element k (1-based) of each array belongs to
-- company bucket * 64 + k - 1 and is NULL when that company has no result
-- at that tick (another world's company, or one that does not mine).  So
-- 64 companies make one row, a reader of one company finds its element by
-- position (no search), and the arrays of a full bucket (~2.5 kB) stay
-- inline in the row, uncompressed (toast_tuple_target).  tickd writes the
-- rows with binary COPY (tickd/mining_phase.c).
--
-- mining_history is now a view with the old columns, for the readers that
-- want whole ticks (tickd's load, tests, ad-hoc queries).  Readers of one
-- company (company_balances(), the charts, the profile) read the bucket
-- rows directly.
CREATE FUNCTION mining_bucket_size() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 64::bigint $$;

CREATE TABLE mining_history_buckets (
    world_id      bigint NOT NULL,
    tick          bigint NOT NULL,
    bucket        bigint NOT NULL CHECK (bucket >= 0),
    hash_ghs      bigint[] NOT NULL,
    mined_sat     bigint[] NOT NULL,
    energy_wh     bigint[] NOT NULL,
    energy_uusd   bigint[] NOT NULL,
    credit_uusd   bigint[] NOT NULL,
    uptime_ppm    integer[] NOT NULL,
    throttle_ppm  integer[] NOT NULL,
    failures      integer[] NOT NULL,
    rem_nsat      integer[] NOT NULL,
    -- Tick first: a tick's rows are appended at the right edge, pruning
    -- deletes a range at the left edge, and a reader of one company looks
    -- its ticks up one by one (tick = ANY (...) AND bucket = ...).
    PRIMARY KEY (tick, bucket, world_id),
    -- One dimension from 1, at most a bucket long, and the same companies
    -- (the same NULL elements) in every column.
    CHECK (array_ndims(hash_ghs) = 1 AND array_lower(hash_ghs, 1) = 1
           AND cardinality(hash_ghs) <= mining_bucket_size()),
    CHECK (array_positions(hash_ghs, NULL) = array_positions(mined_sat, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(energy_wh, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(energy_uusd, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(credit_uusd, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(uptime_ppm, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(throttle_ppm, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(failures, NULL)
           AND array_positions(hash_ghs, NULL) = array_positions(rem_nsat, NULL)
           AND array_lower(mined_sat, 1) = 1 AND array_lower(energy_wh, 1) = 1
           AND array_lower(energy_uusd, 1) = 1 AND array_lower(credit_uusd, 1) = 1
           AND array_lower(uptime_ppm, 1) = 1 AND array_lower(throttle_ppm, 1) = 1
           AND array_lower(failures, 1) = 1 AND array_lower(rem_nsat, 1) = 1
           AND cardinality(mined_sat) = cardinality(hash_ghs)
           AND cardinality(energy_wh) = cardinality(hash_ghs)
           AND cardinality(energy_uusd) = cardinality(hash_ghs)
           AND cardinality(credit_uusd) = cardinality(hash_ghs)
           AND cardinality(uptime_ppm) = cardinality(hash_ghs)
           AND cardinality(throttle_ppm) = cardinality(hash_ghs)
           AND cardinality(failures) = cardinality(hash_ghs)
           AND cardinality(rem_nsat) = cardinality(hash_ghs)),
    -- The old table's value checks, element by element (NULLs pass).
    CHECK (0 <= ALL (hash_ghs) AND 0 <= ALL (mined_sat) AND 0 <= ALL (energy_wh)
           AND 0 <= ALL (energy_uusd) AND 0 <= ALL (credit_uusd)
           AND 0 <= ALL (uptime_ppm) AND 1000000 >= ALL (uptime_ppm)
           AND 0 <= ALL (throttle_ppm) AND 1000000 >= ALL (throttle_ppm)
           AND 0 <= ALL (failures)
           AND 0 <= ALL (rem_nsat) AND 999999999 >= ALL (rem_nsat))
) WITH (toast_tuple_target = 8160);

-- The rows of the old table, a bucket's elements in slot order with NULL
-- for the companies without a row.
INSERT INTO mining_history_buckets
SELECT g.world_id, g.tick, g.bucket,
       array_agg(h.hash_ghs ORDER BY s), array_agg(h.mined_sat ORDER BY s),
       array_agg(h.energy_wh ORDER BY s), array_agg(h.energy_uusd ORDER BY s),
       array_agg(h.credit_uusd ORDER BY s), array_agg(h.uptime_ppm ORDER BY s),
       array_agg(h.throttle_ppm ORDER BY s), array_agg(h.failures ORDER BY s),
       array_agg(h.rem_nsat::integer ORDER BY s)
FROM (SELECT world_id, tick, company_id / mining_bucket_size() AS bucket,
             max(company_id % mining_bucket_size()) AS top
      FROM mining_history GROUP BY 1, 2, 3) g
CROSS JOIN LATERAL generate_series(0, g.top) s
LEFT JOIN mining_history h
       ON h.tick = g.tick AND h.company_id = g.bucket * mining_bucket_size() + s AND h.world_id = g.world_id
GROUP BY g.world_id, g.tick, g.bucket;
DROP TABLE mining_history;

CREATE VIEW mining_history AS
SELECT b.world_id, b.bucket * mining_bucket_size() + u.slot - 1 AS company_id, b.tick,
       u.hash_ghs, u.mined_sat, u.energy_wh, u.energy_uusd, u.credit_uusd, u.uptime_ppm,
       u.throttle_ppm, u.failures, u.rem_nsat::bigint AS rem_nsat
FROM mining_history_buckets b,
     unnest(b.hash_ghs, b.mined_sat, b.energy_wh, b.energy_uusd, b.credit_uusd, b.uptime_ppm,
            b.throttle_ppm, b.failures, b.rem_nsat)
         WITH ORDINALITY AS u(hash_ghs, mined_sat, energy_wh, energy_uusd, credit_uusd,
                              uptime_ppm, throttle_ppm, failures, rem_nsat, slot)
WHERE u.hash_ghs IS NOT NULL;

-- company_balances() (0016) reading the company's element of its bucket's
-- rows in the unsettled window: one index descent per tick, as before.
CREATE OR REPLACE FUNCTION company_balances(cid bigint) RETURNS TABLE (usd bigint, btc bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'usd') + h.usd,
           (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'btc') + h.btc
    FROM (SELECT COALESCE(sum(m.credit_uusd[k.k] - m.energy_uusd[k.k]), 0) AS usd,
                 COALESCE(sum(m.mined_sat[k.k]), 0) AS btc
          FROM (SELECT (cid % mining_bucket_size() + 1)::integer AS k) k,
               mining_history_buckets m
          WHERE m.world_id = (SELECT c.world_id FROM companies c WHERE c.id = cid)
            AND m.bucket = cid / mining_bucket_size()
            AND m.tick = ANY (ARRAY(
              SELECT generate_series(
                         GREATEST(w.tick - mining_unsettled_window(),
                                  COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                                            WHERE s.company_id = cid), -1)) + 1,
                         w.tick)
              FROM companies c JOIN worlds w ON w.id = c.world_id WHERE c.id = cid))) h
$$;
