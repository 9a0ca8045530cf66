-- 0003_accounts.sql - refresh tokens, the audit log and what ranks need.
--
-- refresh_tokens: one row per issued refresh token, stored only as a keyed
-- hash (BLAKE2b keyed with BT_REFRESH_KEY_FILE, see lib/refresh.h), never
-- the token itself.  Tokens descend from one login in a family; a token is
-- used once (used_at), and presenting a used one revokes the whole family.
--
-- audit_log: append-only.  The trigger below refuses UPDATE, DELETE and
-- TRUNCATE for every role, including the table owner the services use.

CREATE TABLE refresh_tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    family      uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_live ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    event       text NOT NULL CHECK (event IN ('register', 'guest', 'login_success',
                    'login_failure', 'refresh_reuse', 'logout', 'upgrade', 'ban', 'unban',
                    'admin_created')),
    user_id     bigint REFERENCES users (id),   -- NULL: e.g. a failed login for an unknown email
    actor_id    bigint REFERENCES users (id),   -- the admin acting, NULL for the CLI or the user
    ip          text CHECK (length(ip) <= 64),
    user_agent  text CHECK (length(user_agent) <= 1024),
    request_id  text CHECK (length(request_id) <= 64),
    detail      jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_user ON audit_log (user_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Rank = 1 + the number of companies of the same world with a higher
-- reputation; this index makes that count a short range scan.
CREATE INDEX companies_rank ON companies (world_id, reputation DESC);
