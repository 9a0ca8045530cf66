-- 0012_history_retention.sql - the per-tick mining history is kept for
-- BT_HISTORY_TICKS ticks (charts: GET /player/me/history), then pruned by
-- tickd inside its tick transaction, a couple of ticks per tick (so it also
-- catches up after a lowered setting) - except what the engine still reads:
-- each company's latest row (its yield remainder) and rows not yet settled
-- into ledger_entries (0011).  Ticks are appended in order, so a BRIN index
-- finds a tick range for almost nothing to maintain.
CREATE INDEX mining_history_tick ON mining_history USING brin (tick);

-- Up to which tick a world's history has been pruned.
CREATE TABLE mining_history_pruned (
    world_id  bigint PRIMARY KEY REFERENCES worlds (id),
    tick      bigint NOT NULL
);
