-- 0005_engine.sql - the tick engine: intents, the double-entry ledger,
-- tick snapshots, world fencing, and the first game objects (sites).
--
-- Handlers only INSERT intents; tickd (the fenced owner of a world) claims
-- them by status inside its tick transaction and writes every outcome, the
-- ledger entries and the snapshot in that same transaction.

-- Fencing token of the tickd that last committed a tick of the world (from
-- a Redis INCR); a tick commits only with a token >= this one.
ALTER TABLE worlds ADD COLUMN fence bigint NOT NULL DEFAULT 0;
-- Starting grant of companies opened in this world (micro-dollars).
ALTER TABLE worlds ADD COLUMN starting_grant bigint NOT NULL DEFAULT 250000000000
    CHECK (starting_grant >= 0);

CREATE TABLE intents (
    id            bigserial PRIMARY KEY,
    world_id      bigint NOT NULL REFERENCES worlds (id),
    company_id    bigint NOT NULL REFERENCES companies (id),
    kind          text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    args          jsonb NOT NULL DEFAULT '{}',
    idem_key      text CHECK (length(idem_key) BETWEEN 1 AND 128),
    request_id    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_tick  bigint NOT NULL,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'applied', 'rejected')),
    reason        text,
    applied_tick  bigint,
    seq           integer,           -- position in its tick's apply order
    CHECK ((status = 'queued') = (applied_tick IS NULL)),
    CHECK (status <> 'rejected' OR reason IS NOT NULL)
);
-- A repeated Idempotency-Key of a company returns the first intent.
CREATE UNIQUE INDEX intents_idem ON intents (company_id, idem_key) WHERE idem_key IS NOT NULL;
-- The claim scan: only queued rows, in id order.
CREATE INDEX intents_queued ON intents (world_id, id) WHERE status = 'queued';
-- Replay reads the inputs of a tick in apply order.
CREATE UNIQUE INDEX intents_applied ON intents (world_id, applied_tick, seq)
    WHERE applied_tick IS NOT NULL;
CREATE INDEX intents_company ON intents (company_id, id);
-- A company is opened exactly once.
CREATE UNIQUE INDEX intents_one_open ON intents (company_id) WHERE kind = 'company.open';

-- A new company is opened by tickd at its world's next tick: the request to
-- open it is an intent committed together with the company row, carrying
-- the grant in force at that moment (so a replay needs no other input).
CREATE FUNCTION company_open_intent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO intents (world_id, company_id, kind, args, created_tick)
    SELECT NEW.world_id, NEW.id, 'company.open',
           jsonb_build_object('grant', w.starting_grant), w.tick
    FROM worlds w WHERE w.id = NEW.world_id;
    RETURN NULL;
END $$;
CREATE TRIGGER companies_open AFTER INSERT ON companies
    FOR EACH ROW EXECUTE FUNCTION company_open_intent();
INSERT INTO intents (world_id, company_id, kind, args, created_tick)
SELECT c.world_id, c.id, 'company.open', jsonb_build_object('grant', w.starting_grant), w.tick
FROM companies c JOIN worlds w ON w.id = c.world_id;

-- ---- the ledger ----
-- Company accounts can never be negative.  System accounts: faucets
-- (starting_grant, admin_grant, mining) only create money, so their balance
-- is <= 0; sinks (energy, purchases, fees) only destroy it and the
-- insurance fund is a pool: both >= 0.  Money is integer: 'usd' in
-- micro-dollars, 'btc' in satoshis.
CREATE TABLE ledger_accounts (
    id          bigserial PRIMARY KEY,
    world_id    bigint NOT NULL REFERENCES worlds (id),
    company_id  bigint REFERENCES companies (id),
    system      text CHECK (system IN ('starting_grant', 'admin_grant', 'mining', 'energy',
                                       'purchases', 'fees', 'insurance')),
    currency    text NOT NULL CHECK (currency IN ('usd', 'btc')),
    balance     bigint NOT NULL DEFAULT 0,
    CHECK ((company_id IS NULL) <> (system IS NULL)),
    CHECK (CASE WHEN company_id IS NOT NULL THEN balance >= 0
                WHEN system IN ('starting_grant', 'admin_grant', 'mining') THEN balance <= 0
                ELSE balance >= 0 END)
);
CREATE UNIQUE INDEX ledger_company_account ON ledger_accounts (company_id, currency)
    WHERE company_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_system_account ON ledger_accounts (world_id, system, currency)
    WHERE system IS NOT NULL;

-- One row = one balanced pair: `amount` leaves debit_account and enters
-- credit_account, in one currency.  Append-only.
CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    world_id        bigint NOT NULL REFERENCES worlds (id),
    tick            bigint NOT NULL,
    debit_account   bigint NOT NULL REFERENCES ledger_accounts (id),
    credit_account  bigint NOT NULL REFERENCES ledger_accounts (id),
    currency        text NOT NULL CHECK (currency IN ('usd', 'btc')),
    amount          bigint NOT NULL CHECK (amount > 0),
    kind            text NOT NULL,
    intent_id       bigint REFERENCES intents (id),
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_entries_debit ON ledger_entries (debit_account);
CREATE INDEX ledger_entries_credit ON ledger_entries (credit_account);
CREATE INDEX ledger_entries_tick ON ledger_entries (world_id, tick);

-- Balances move only through entries: one set-based update per INSERT
-- statement.  The account CHECKs then refuse any negative company balance
-- (and any faucet receiving or sink paying money), failing the whole tick.
CREATE FUNCTION ledger_apply_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_entries e
               JOIN ledger_accounts d ON d.id = e.debit_account
               JOIN ledger_accounts c ON c.id = e.credit_account
               WHERE d.currency <> e.currency OR c.currency <> e.currency
                  OR d.world_id <> e.world_id OR c.world_id <> e.world_id) THEN
        RAISE EXCEPTION 'ledger entry between accounts of another currency or world';
    END IF;
    UPDATE ledger_accounts a SET balance = a.balance + d.delta
    FROM (SELECT account, sum(delta) AS delta
          FROM (SELECT debit_account AS account, -amount AS delta FROM new_entries
                UNION ALL
                SELECT credit_account, amount FROM new_entries) x
          GROUP BY account) d
    WHERE a.id = d.account;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_entries();

CREATE FUNCTION ledger_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END $$;
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_immutable();

-- ---- snapshots ----
-- Every committed tick: the hash of its inputs (the applied intents, in
-- order) and of the whole in-memory state after it; every BT_SNAPSHOT_EVERY
-- ticks (and at the first tick after tickd loads a world) the full state.
CREATE TABLE tick_snapshots (
    world_id     bigint NOT NULL REFERENCES worlds (id),
    tick         bigint NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    inputs_hash  bytea NOT NULL,
    state_hash   bytea NOT NULL,
    intents      integer NOT NULL DEFAULT 0,
    full_state   jsonb,
    PRIMARY KEY (world_id, tick)
);
CREATE INDEX tick_snapshots_full ON tick_snapshots (world_id, tick) WHERE full_state IS NOT NULL;

-- ---- sites (the first intent kind; rigs and energy come later) ----
-- Build cost = region part + grid tier part + cooling part (micro-dollars).
CREATE TABLE site_cost_parts (
    part       text NOT NULL CHECK (part IN ('region', 'grid_tier', 'cooling_type')),
    value      text NOT NULL,
    usd_micro  bigint NOT NULL CHECK (usd_micro >= 0),
    PRIMARY KEY (part, value)
);
INSERT INTO site_cost_parts (part, value, usd_micro) VALUES
    ('region', 'texas',       20000000000),
    ('region', 'quebec',      25000000000),
    ('region', 'iceland',     30000000000),
    ('region', 'kazakhstan',  12000000000),
    ('region', 'paraguay',    15000000000),
    ('region', 'norway',      28000000000),
    ('grid_tier', '1',         5000000000),
    ('grid_tier', '2',        15000000000),
    ('grid_tier', '3',        40000000000),
    ('cooling_type', 'air',       10000000000),
    ('cooling_type', 'hydro',     35000000000),
    ('cooling_type', 'immersion', 60000000000);

CREATE TABLE sites (
    id            bigint PRIMARY KEY,      -- the id of the intent that built it
    world_id      bigint NOT NULL REFERENCES worlds (id),
    company_id    bigint NOT NULL REFERENCES companies (id),
    region        text NOT NULL,
    grid_tier     smallint NOT NULL CHECK (grid_tier BETWEEN 1 AND 3),
    cooling_type  text NOT NULL CHECK (cooling_type IN ('air', 'hydro', 'immersion')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    build_cost    bigint NOT NULL CHECK (build_cost >= 0),
    created_tick  bigint NOT NULL
);
CREATE INDEX sites_company ON sites (company_id, id);
