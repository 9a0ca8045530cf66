-- 0008_world_replay.sql - the world model's admin inputs, replayable.
--
-- world_shocks already records the tick that claimed each shock
-- (applied_tick).  Parameter changes are logged here with the tick that
-- picked them up, so that `tickd replay` applies the same parameters at the
-- same tick as the live run did.

CREATE TABLE world_params_applied (
    world_id  bigint NOT NULL REFERENCES worlds (id),
    tick      bigint NOT NULL,
    version   bigint NOT NULL,  -- worlds.params_version taken
    params    jsonb NOT NULL,
    PRIMARY KEY (world_id, tick)
);

CREATE INDEX world_shocks_applied ON world_shocks (world_id, applied_tick)
    WHERE applied_tick IS NOT NULL;
