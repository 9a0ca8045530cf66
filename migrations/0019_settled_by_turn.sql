-- 0019_settled_by_turn.sql - a company's settlement tick follows from its
-- turn; only settlements out of turn are stored.
--
-- tickd settles a company's accrued mining results into ledger_entries at
-- its turn, every ticks where (company + tick) % 10 = 0
-- (LEDGER_SETTLE_EVERY, = mining_unsettled_window(), checked when tickd
-- loads), and out of turn when an entry of the tick debits an account with
-- an unsettled credit (tickd/ledger.c, must_settle).  It stored the tick of
-- every settlement in ledger_accrual_settled: a tenth of the mining
-- companies every tick, 10,000 upserts a tick at 100,000 companies.  The
-- turn is a formula of the company and the tick, so tickd now stores only
-- the settlements out of turn, and the settled tick of a company at its
-- world's tick T is the later of its last turn (T - (company + T) % 10) and
-- the stored one.  Rows stored before this migration are past settlements:
-- the later of the two is still the last settlement.
--
-- accrual_settled_tick(company) is that tick at the world's last committed
-- tick, for tickd's load, tests and ad-hoc readers; company_balances()
-- writes it out (a scalar SQL function with a subquery is never inlined).
CREATE FUNCTION accrual_settled_tick(cid bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT GREATEST(w.tick - (cid + w.tick) % mining_unsettled_window(),
                    COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                              WHERE s.company_id = cid), -1))
    FROM companies c JOIN worlds w ON w.id = c.world_id WHERE c.id = cid
$$;

-- company_balances() (0018): the unsettled ticks are those after the
-- settled tick, up to the world's last tick (at most 9 of them).
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
                         GREATEST(w.tick - (cid + w.tick) % mining_unsettled_window(),
                                  COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                                            WHERE s.company_id = cid), -1)) + 1,
                         w.tick)
              FROM companies c JOIN worlds w ON w.id = c.world_id WHERE c.id = cid))) h
$$;
