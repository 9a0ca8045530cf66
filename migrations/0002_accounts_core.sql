-- 0002_accounts_core.sql - the account rows every service relies on.
--
-- users: credentials and role; banned users are refused everywhere
-- (lib/auth.c mirrors banned_at into Redis).  companies: every player owns
-- exactly one, living in one world.  Further account tables (refresh
-- tokens, audit log) come with the accounts feature.

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    email          text UNIQUE CHECK (email IS NULL OR (email = lower(email) AND length(email) <= 254)),
    password_hash  text,
    role           text NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin')),
    is_guest       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    banned_at      timestamptz,
    ban_reason     text,
    CHECK (is_guest OR (email IS NOT NULL AND password_hash IS NOT NULL))
);

CREATE INDEX users_banned ON users (id) WHERE banned_at IS NOT NULL;

CREATE TABLE companies (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL UNIQUE REFERENCES users (id),
    world_id    bigint NOT NULL REFERENCES worlds (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 3 AND 32),
    region      text NOT NULL,
    reputation  integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Company names are unique case-insensitively within a world.
CREATE UNIQUE INDEX companies_name_per_world ON companies (world_id, lower(name));
