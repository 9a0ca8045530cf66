-- 0013_market_24h.sql - GET /market/list's change and volume over a rolling
-- 24 game hours (it was since the game day's open): tickd keeps, per
-- instrument, one slot per game hour (slot = hour % 24) with the last price
-- when the hour began and the sats traded in it (tickd/market_instr.h).
ALTER TABLE market_instruments
    ADD COLUMN hour_open bigint[] NOT NULL DEFAULT array_fill(0::bigint, ARRAY[24])
        CHECK (cardinality(hour_open) = 24),
    ADD COLUMN hour_vol bigint[] NOT NULL DEFAULT array_fill(0::bigint, ARRAY[24])
        CHECK (cardinality(hour_vol) = 24),
    DROP COLUMN day_open,
    DROP COLUMN volume_day;

-- -1: no hour yet.  The next tick opens the whole window at the last price
-- (a world running while this migrates restarts its 24 h volume once).
ALTER TABLE market_worlds RENAME COLUMN day TO hour;
UPDATE market_worlds SET hour = -1;
