-- 0011_engine_perf.sql - what the tick engine writes every tick, made cheaper
-- (docs/BENCHMARKS.md, tick benchmark).
--
-- Ledger entries: every mining company gets entries every tick, so their
-- per-row foreign-key checks (four index probes and a row lock per entry)
-- cost more than the insert itself.  The statement trigger that applies
-- the entries to the balances already joins both accounts once per
-- statement; it now also refuses a missing account (what the keys to
-- ledger_accounts and worlds checked: an account belongs to a world) and an
-- intent that does not exist, set-based.  Accounts and intents are never
-- deleted (accounts refuse it below), so nothing can orphan an entry later.
ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_world_id_fkey,
    DROP CONSTRAINT ledger_entries_debit_account_fkey,
    DROP CONSTRAINT ledger_entries_credit_account_fkey,
    DROP CONSTRAINT ledger_entries_intent_id_fkey;

CREATE OR REPLACE FUNCTION ledger_apply_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_entries e
               LEFT JOIN ledger_accounts d ON d.id = e.debit_account
               LEFT JOIN ledger_accounts c ON c.id = e.credit_account
               WHERE d.id IS NULL OR c.id IS NULL
                  OR d.currency <> e.currency OR c.currency <> e.currency
                  OR d.world_id <> e.world_id OR c.world_id <> e.world_id) THEN
        RAISE EXCEPTION 'ledger entry between missing accounts or accounts of another currency or world';
    END IF;
    IF EXISTS (SELECT 1 FROM new_entries e
               WHERE e.intent_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.id = e.intent_id)) THEN
        RAISE EXCEPTION 'ledger entry for an intent that does not exist';
    END IF;
    UPDATE ledger_accounts a SET balance = a.balance + d.delta
    FROM (SELECT account, sum(delta) AS delta
          FROM (SELECT debit_account AS account, -amount AS delta FROM new_entries
                UNION ALL
                SELECT credit_account, amount FROM new_entries) x
          GROUP BY account) d
    WHERE a.id = d.account;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_accounts_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger accounts are never deleted';
END $$;
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE OR TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_accounts_permanent();

-- Sites: every site.create intent inserts one, thousands per tick under
-- load, and their four per-row foreign-key checks took three times the
-- insert.  One statement trigger checks the same set-based (and that the
-- company is in the site's world, which the keys did not); deleting a grid
-- tier or cooling type that a site uses is refused below.  Companies and
-- worlds cannot disappear under a site: their ledger accounts and intents
-- still reference them by foreign key.
ALTER TABLE sites
    DROP CONSTRAINT sites_world_id_fkey,
    DROP CONSTRAINT sites_company_id_fkey,
    DROP CONSTRAINT sites_grid_tier_fk,
    DROP CONSTRAINT sites_cooling_type_fk;

CREATE FUNCTION sites_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_sites s
               LEFT JOIN companies c ON c.id = s.company_id AND c.world_id = s.world_id
               LEFT JOIN grid_tiers g ON g.tier = s.grid_tier
               LEFT JOIN cooling_types k ON k.id = s.cooling_type
               WHERE c.id IS NULL OR g.tier IS NULL OR k.id IS NULL) THEN
        RAISE EXCEPTION 'site of an unknown company, world, grid tier or cooling type';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sites_refs AFTER INSERT ON sites REFERENCING NEW TABLE AS new_sites
    FOR EACH STATEMENT EXECUTE FUNCTION sites_check_refs();

CREATE FUNCTION sites_tier_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sites s WHERE s.grid_tier IN (SELECT tier FROM gone_tiers)) THEN
        RAISE EXCEPTION 'grid tier in use by a site';
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION sites_cooling_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sites s WHERE s.cooling_type IN (SELECT id FROM gone_cooling)) THEN
        RAISE EXCEPTION 'cooling type in use by a site';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER grid_tiers_in_use AFTER DELETE ON grid_tiers REFERENCING OLD TABLE AS gone_tiers
    FOR EACH STATEMENT EXECUTE FUNCTION sites_tier_in_use();
CREATE TRIGGER cooling_types_in_use AFTER DELETE ON cooling_types
    REFERENCING OLD TABLE AS gone_cooling FOR EACH STATEMENT EXECUTE FUNCTION sites_cooling_in_use();

-- Balances change every tick for every mining company, and site uptime
-- whenever a site ran below 100 %: leave room on each page so those updates
-- stay on their page (HOT: no index entry, less WAL).  Applies to pages
-- written from now on.
ALTER TABLE ledger_accounts SET (fillfactor = 50);
ALTER TABLE sites SET (fillfactor = 70);

-- Full snapshots (every BT_SNAPSHOT_EVERY ticks and after each load) grow
-- with the world: at 100,000 companies and a million rig groups the JSON
-- passes jsonb's 256 MB limit and the tick that must store it fails, for
-- ever.  Stored as json (the text tickd wrote, up to 1 GB; replay parses it
-- anyway), compressed with lz4, several times faster than the default pglz.
DROP VIEW tick_snapshot;
ALTER TABLE tick_snapshots ALTER COLUMN full_state TYPE json USING full_state::json;
ALTER TABLE tick_snapshots ALTER COLUMN full_state SET COMPRESSION lz4;
CREATE VIEW tick_snapshot AS
SELECT s.world_id, s.tick, s.at, w.game_time_s, w.price_uusd, w.difficulty,
       w.network_hashrate_ths, w.region_price_uusd, w.active_event_ids,
       s.inputs_hash, s.state_hash, s.intents, s.full_state IS NOT NULL AS full
FROM tick_snapshots s LEFT JOIN world_ticks w USING (world_id, tick);

-- Accrued postings (tickd/ledger.h): mining energy, demand-response credit
-- and rewards change every mining company's balances every tick.  They are
-- written to ledger_entries aggregated, per company every 10 ticks
-- (staggered) and at once when another entry debits an account into which
-- an unsettled amount was credited; the per-tick amounts are committed with
-- their tick in mining_history (energy_uusd, credit_uusd, mined_sat).  This
-- row says up to which tick a company's mining results are in
-- ledger_entries; ledger_accounts.balance is still the sum of the entries
-- (never below zero: an entry meets it at or above the true balance), and
-- company_balance() adds the results since.  Every reader of a company's
-- current balance uses company_balance().
CREATE TABLE ledger_accrual_settled (
    company_id  bigint PRIMARY KEY,
    world_id    bigint NOT NULL,
    tick        bigint NOT NULL
);
-- Until now every result was booked the tick it happened.
INSERT INTO ledger_accrual_settled (company_id, world_id, tick)
SELECT company_id, world_id, max(tick) FROM mining_history GROUP BY company_id, world_id;

-- The current balance of a company in a currency ('usd' micro-dollars,
-- 'btc' satoshis), NULL before the company is opened.  One snapshot: the
-- settled balance plus the results of the ticks since (at most ~10 rows by
-- primary key).
CREATE FUNCTION company_balance(cid bigint, cur text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT a.balance + COALESCE((
        SELECT CASE WHEN cur = 'usd' THEN sum(h.credit_uusd - h.energy_uusd)
                    ELSE sum(h.mined_sat) END
        FROM mining_history h
        WHERE h.company_id = cid
          AND h.tick > COALESCE((SELECT s.tick FROM ledger_accrual_settled s
                                 WHERE s.company_id = cid), -1)), 0)
    FROM ledger_accounts a WHERE a.company_id = cid AND a.currency = cur
$$;
