-- 0004_world.sql - the world processes: regions, the persisted model state,
-- live parameters, admin shocks and world events.
--
-- tickd is the only writer of world_state, region_state and events; it
-- keeps the regions' descriptive columns in step with its C table
-- (tickd/world_region.c) when it loads a world.  Admins write world_params
-- (and bump worlds.params_version so tickd reloads at the next tick) and
-- queue world_shocks, which tickd claims by stamping applied_tick.

CREATE TABLE regions (
    id                   text PRIMARY KEY CHECK (id ~ '^[a-z]{2,32}$'),
    name                 text NOT NULL,
    climate              text NOT NULL DEFAULT '',
    base_price_uusd      bigint NOT NULL DEFAULT 0,   -- typical USD/kWh x 1e6
    price_cap_uusd       bigint NOT NULL DEFAULT 0,
    utc_offset_min       integer NOT NULL DEFAULT 0,
    mean_temp_mc         bigint NOT NULL DEFAULT 0,
    grid_reliability_bp  integer NOT NULL DEFAULT 10000,
    arid                 boolean NOT NULL DEFAULT false
);

-- The six ids every service agrees on (lib/region.h); tickd fills the rest.
INSERT INTO regions (id, name) VALUES
    ('texas', 'Texas (ERCOT)'), ('quebec', 'Quebec'), ('iceland', 'Iceland'),
    ('kazakhstan', 'Kazakhstan'), ('paraguay', 'Paraguay'), ('norway', 'Norway');

ALTER TABLE worlds ADD COLUMN params_version bigint NOT NULL DEFAULT 0;

-- Overrides of the C parameter table (lib/wparam.c); absent keys use defaults.
CREATE TABLE world_params (
    world_id    bigint NOT NULL REFERENCES worlds (id),
    key         text NOT NULL,
    value       bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  bigint,
    PRIMARY KEY (world_id, key)
);

-- One row per world: the model state at world_state.tick (= worlds.tick
-- after every commit).  Columns mirror tickd/world.c's state_fields; the
-- last three are derived, for readers.
CREATE TABLE world_state (
    world_id              bigint PRIMARY KEY REFERENCES worlds (id),
    tick                  bigint NOT NULL DEFAULT 0,
    game_time_s           bigint NOT NULL DEFAULT 0,
    price_uusd            bigint NOT NULL DEFAULT 0,
    price_prev_uusd       bigint NOT NULL DEFAULT 0,
    price_var_e9          bigint NOT NULL DEFAULT 0,
    row_hashrate_ths      bigint NOT NULL DEFAULT 0,
    player_hashrate_ths   bigint NOT NULL DEFAULT 0,
    difficulty            bigint NOT NULL DEFAULT 0,
    height                bigint NOT NULL DEFAULT 0,
    epoch_start_height    bigint NOT NULL DEFAULT 0,
    epoch_start_time_s    bigint NOT NULL DEFAULT 0,
    blocks_last_tick      bigint NOT NULL DEFAULT 0,
    fee_noise_ppm         bigint NOT NULL DEFAULT 0,
    fee_share_bp          bigint NOT NULL DEFAULT 0,
    next_event_id         bigint NOT NULL DEFAULT 1,
    params_version        bigint NOT NULL DEFAULT 0,
    network_hashrate_ths  bigint NOT NULL DEFAULT 0,
    subsidy_sats          bigint NOT NULL DEFAULT 0,
    block_fees_sats       bigint NOT NULL DEFAULT 0
);

-- Per world and region; columns mirror tickd/world.c's region_fields.
CREATE TABLE region_state (
    world_id           bigint NOT NULL REFERENCES worlds (id),
    region_id          text NOT NULL REFERENCES regions (id),
    energy_price_uusd  bigint NOT NULL DEFAULT 0,
    demand_bp          bigint NOT NULL DEFAULT 10000,
    noise_ppm          bigint NOT NULL DEFAULT 0,
    spike_mult_bp      bigint NOT NULL DEFAULT 10000,
    spike_until        bigint NOT NULL DEFAULT 0,
    temp_mc            bigint NOT NULL DEFAULT 0,
    anomaly_mc         bigint NOT NULL DEFAULT 0,
    dust_bp            bigint NOT NULL DEFAULT 0,
    cooling_load_bp    bigint NOT NULL DEFAULT 10000,
    outage_until_t1    bigint NOT NULL DEFAULT 0,
    outage_until_t2    bigint NOT NULL DEFAULT 0,
    outage_until_t3    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (world_id, region_id)
);

-- Admin shocks, applied by tickd at the next tick (applied_tick stamps it).
CREATE TABLE world_shocks (
    id            bigserial PRIMARY KEY,
    world_id      bigint NOT NULL REFERENCES worlds (id),
    kind          text NOT NULL CHECK (kind IN ('price', 'event')),
    pct_bp        integer CHECK (pct_bp IS NULL OR pct_bp BETWEEN -9000 AND 10000),
    event_type    text,
    region        text REFERENCES regions (id),
    created_by    bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    applied_tick  bigint,
    CHECK ((kind = 'price') = (pct_bp IS NOT NULL)),
    CHECK ((kind = 'event') = (event_type IS NOT NULL))
);
CREATE INDEX world_shocks_pending ON world_shocks (world_id, id) WHERE applied_tick IS NULL;

-- World events; id is a per-world sequence drawn by the deterministic model.
CREATE TABLE events (
    world_id         bigint NOT NULL REFERENCES worlds (id),
    id               bigint NOT NULL,
    type             text NOT NULL,
    severity         smallint NOT NULL CHECK (severity BETWEEN 1 AND 5),
    region           text REFERENCES regions (id),
    magnitude        bigint NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}',
    start_tick       bigint NOT NULL,
    resolution_tick  bigint NOT NULL CHECK (resolution_tick > start_tick),
    PRIMARY KEY (world_id, id)
);
CREATE INDEX events_by_resolution ON events (world_id, resolution_tick);
CREATE INDEX events_by_region ON events (world_id, region, id);
