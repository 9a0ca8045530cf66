-- seed.sql - the default world of a fresh installation (idempotent).
-- psql variables: tick_ms (interval of the default world when it is created).
INSERT INTO worlds (id, name, seed, tick_ms, is_default)
VALUES (1, 'genesis', 20240420, :tick_ms, true)
ON CONFLICT (id) DO NOTHING;
