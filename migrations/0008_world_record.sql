-- 0008_world_record.sql - what the world model records per tick.
--
-- world_ticks: one row per committed tick with the public figures of the
-- world (the TickSnapshot of the tick engine together with tick_snapshots'
-- hashes; see the view tick_snapshot): BTC price, difficulty, network
-- hashrate, block height, the regional energy prices ({region id: micro-USD
-- per kWh}) and the ids of the events active after the tick.  It feeds
-- history charts (GET /world/history) and is written by tickd only.
--
-- world_params_applied: admin parameter changes with the tick that picked
-- them up, so that `tickd replay` applies the same parameters at the same
-- tick as the live run did (world_shocks already records applied_tick).

CREATE TABLE world_ticks (
    world_id               bigint NOT NULL REFERENCES worlds (id),
    tick                   bigint NOT NULL,
    game_time_s            bigint NOT NULL,
    price_uusd             bigint NOT NULL CHECK (price_uusd > 0),
    difficulty             bigint NOT NULL CHECK (difficulty > 0),
    network_hashrate_ths   bigint NOT NULL CHECK (network_hashrate_ths >= 0),
    height                 bigint NOT NULL,
    region_price_uusd      jsonb NOT NULL,
    active_event_ids       bigint[] NOT NULL,
    PRIMARY KEY (world_id, tick)
);

-- The tick snapshot as one row: figures plus the engine's hashes.
CREATE VIEW tick_snapshot AS
SELECT s.world_id, s.tick, s.at, w.game_time_s, w.price_uusd, w.difficulty,
       w.network_hashrate_ths, w.region_price_uusd, w.active_event_ids,
       s.inputs_hash, s.state_hash, s.intents, s.full_state IS NOT NULL AS full
FROM tick_snapshots s LEFT JOIN world_ticks w USING (world_id, tick);

CREATE TABLE world_params_applied (
    world_id  bigint NOT NULL REFERENCES worlds (id),
    tick      bigint NOT NULL,
    version   bigint NOT NULL,  -- worlds.params_version taken
    params    jsonb NOT NULL,
    PRIMARY KEY (world_id, tick)
);

CREATE INDEX world_shocks_applied ON world_shocks (world_id, applied_tick)
    WHERE applied_tick IS NOT NULL;
