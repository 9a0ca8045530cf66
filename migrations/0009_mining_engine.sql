-- 0009_mining_engine.sql - what the mining tick phase (tickd/mining_phase.c)
-- writes besides the 0007 tables: accrued site uptime and the per-company
-- per-tick results behind GET /player/me/history.

-- Sites are written only when something changed: a tick at full uptime is
-- not written.  uptime_sum_ppm and ticks_run are their values as of
-- uptime_tick; every later tick up to the world's tick ran at 100 % (tickd
-- adds them back when it loads the world).
ALTER TABLE sites ADD COLUMN uptime_tick bigint NOT NULL DEFAULT 0;

-- One row per company and tick in which it mined, paid energy, was
-- credited or had failures (a tick without any is no row: zero).  Written
-- by tickd only, in bulk every tick: no foreign keys (their per-row checks
-- cost more than the insert).  rem_nsat is the company's yield remainder
-- below one satoshi (1e-9 sat) after that tick, carried so rounding never
-- loses nor creates money: tickd loads each company's latest.
CREATE TABLE mining_history (
    world_id      bigint NOT NULL,
    company_id    bigint NOT NULL,
    tick          bigint NOT NULL,
    hash_ghs      bigint NOT NULL CHECK (hash_ghs >= 0),
    mined_sat     bigint NOT NULL CHECK (mined_sat >= 0),
    energy_wh     bigint NOT NULL CHECK (energy_wh >= 0),
    energy_uusd   bigint NOT NULL CHECK (energy_uusd >= 0),
    credit_uusd   bigint NOT NULL CHECK (credit_uusd >= 0),
    uptime_ppm    integer NOT NULL CHECK (uptime_ppm BETWEEN 0 AND 1000000),
    throttle_ppm  integer NOT NULL CHECK (throttle_ppm BETWEEN 0 AND 1000000),
    failures      integer NOT NULL CHECK (failures >= 0),
    rem_nsat      bigint NOT NULL CHECK (rem_nsat BETWEEN 0 AND 999999999),
    PRIMARY KEY (company_id, tick)
);
