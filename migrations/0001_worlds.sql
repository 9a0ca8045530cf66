-- 0001_worlds.sql - worlds (shards) and the record of every committed tick.
--
-- A world has its own seed, tick counter and tick interval.  tickd is the
-- only writer of worlds.tick / last_tick_at; admins change tick_ms and status.

CREATE TABLE worlds (
    id            bigint PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    seed          bigint NOT NULL,
    tick          bigint NOT NULL DEFAULT 0 CHECK (tick >= 0),
    tick_ms       integer NOT NULL DEFAULT 5000 CHECK (tick_ms BETWEEN 100 AND 3600000),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused')),
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_tick_at  timestamptz
);

-- At most one default world (the one new players join and `GET /` advertises).
CREATE UNIQUE INDEX worlds_one_default ON worlds (is_default) WHERE is_default;

CREATE TABLE ticks (
    world_id      bigint NOT NULL REFERENCES worlds (id),
    tick          bigint NOT NULL,
    started_at    timestamptz NOT NULL,
    committed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_us   integer NOT NULL,   -- compute time before the commit
    lateness_us   integer NOT NULL,   -- start delay against the schedule
    PRIMARY KEY (world_id, tick)
);
