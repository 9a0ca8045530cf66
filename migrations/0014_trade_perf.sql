-- 0014_trade_perf.sql - a company's balances that a query can plan once.
--
-- company_balance() (0011) is a scalar SQL function with a FROM clause:
-- PostgreSQL cannot inline it, so every call parses and plans its body
-- again (in a profile of POST /market/trade under load, half of
-- PostgreSQL's CPU time was spent there, fmgr_sql).  A set-returning SQL
-- function whose body is a single SELECT is inlined into the calling
-- query instead and planned with it, once per prepared statement.
--
-- company_balances(cid) is that function: both currencies in one row
-- ('usd' micro-dollars, 'btc' satoshis; NULL before the company is
-- opened), the settled balance plus the mining results not yet settled,
-- exactly as company_balance() computed them.  Use it in FROM (hot paths:
-- CROSS JOIN company_balances($n)).  company_balance(cid, cur) stays for
-- the other readers and is now defined through it, so there is one
-- definition of a company's current balance.
CREATE FUNCTION company_balances(cid bigint) RETURNS TABLE (usd bigint, btc bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'usd') + h.usd,
           (SELECT a.balance FROM ledger_accounts a
            WHERE a.company_id = cid AND a.currency = 'btc') + h.btc
    FROM (SELECT COALESCE(sum(m.credit_uusd - m.energy_uusd), 0) AS usd,
                 COALESCE(sum(m.mined_sat), 0) AS btc
          FROM mining_history m
          WHERE m.company_id = cid
            AND m.tick > COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                                   WHERE s.company_id = cid), -1)) h
$$;

CREATE OR REPLACE FUNCTION company_balance(cid bigint, cur text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT CASE cur WHEN 'usd' THEN b.usd WHEN 'btc' THEN b.btc END
    FROM company_balances(cid) b
$$;
