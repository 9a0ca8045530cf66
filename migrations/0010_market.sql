-- 0010_market.sql - what the market tick phase (tickd/market_phase.c) keeps
-- in PostgreSQL: the market's per-world state and statistics, instruments,
-- orders (one row per accepted market.trade intent), fills, positions, the
-- accounts the market has seen, and the market's ledger accounts.
--
-- Everything here is written by tickd only, inside the tick transaction,
-- and only what changed in that tick; the full market state goes into the
-- tick snapshot (tick_snapshots.full_state->'market') at checkpoints.
-- tickd rebuilds the in-memory market from these rows when it loads a
-- world, in the canonical order the market keeps (accounts by id,
-- positions by account then instrument, orders by id), so a restart never
-- changes a state hash.  The market service reads them.

-- ---- ledger: the market's system accounts ----
-- market_makers, market_clearing and market_insurance are "house" accounts
-- that may hold either sign (the simulated makers are the counterparty of
-- last resort; clearing holds margins, collateral and premiums in flight;
-- the insurance fund takes liquidations over and may run a deficit the
-- house backs).  market_fees is a sink like fees.
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'ledger_accounts'::regclass AND contype = 'c' LOOP
        EXECUTE format('ALTER TABLE ledger_accounts DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
ALTER TABLE ledger_accounts
    ADD CONSTRAINT ledger_accounts_system_check CHECK (system IN (
        'starting_grant', 'admin_grant', 'mining', 'energy', 'purchases', 'fees', 'insurance',
        'market_makers', 'market_fees', 'market_insurance', 'market_clearing')),
    ADD CONSTRAINT ledger_accounts_owner_check CHECK ((company_id IS NULL) <> (system IS NULL)),
    ADD CONSTRAINT ledger_accounts_balance_check CHECK (
        CASE WHEN company_id IS NOT NULL THEN balance >= 0
             WHEN system IN ('starting_grant', 'admin_grant', 'mining') THEN balance <= 0
             WHEN system IN ('market_makers', 'market_insurance', 'market_clearing') THEN true
             ELSE balance >= 0 END);

-- ---- per-world state ----
-- The scalar part of struct market_state, rewritten every tick, and the
-- public instrument list of that tick (GET /market/list serves it).
CREATE TABLE market_worlds (
    world_id          bigint PRIMARY KEY REFERENCES worlds (id),
    tick              bigint NOT NULL,
    game_s            bigint NOT NULL,
    fair              bigint NOT NULL,          -- micro-USD per BTC
    vol_ppm           bigint NOT NULL,          -- annualised, of the tick
    next_instr_id     integer NOT NULL,
    funding_epoch     bigint NOT NULL,
    premium_sum_ppm   bigint NOT NULL,
    premium_n         bigint NOT NULL,
    funding_rate_ppm  bigint NOT NULL,
    day               bigint NOT NULL,
    list_json         text NOT NULL
);

-- Listed instruments with their statistics and aggregated depth.  Settled
-- option series stay (listed = false) so fills and orders keep their name.
CREATE TABLE market_instruments (
    world_id       bigint NOT NULL,
    id             integer NOT NULL,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('spot', 'perp', 'option')),
    is_call        boolean NOT NULL,
    strike         bigint NOT NULL,
    expiry_s       bigint NOT NULL,
    open           boolean NOT NULL,
    listed         boolean NOT NULL DEFAULT true,
    last_price     bigint NOT NULL,
    mark           bigint NOT NULL,
    best_bid       bigint NOT NULL,
    best_ask       bigint NOT NULL,
    day_open       bigint NOT NULL,
    volume_day     bigint NOT NULL,
    volume_total   bigint NOT NULL,
    open_interest  bigint NOT NULL,
    book           text NOT NULL DEFAULT '{"bids":[],"asks":[]}',
    PRIMARY KEY (world_id, id)
);
CREATE INDEX market_instruments_name ON market_instruments (world_id, name) WHERE listed;

-- Accounts the market has seen (its wallet views are set from the ledger):
-- companies (> 0) and its system accounts (<= 0).
CREATE TABLE market_accounts (
    world_id  bigint NOT NULL,
    account   bigint NOT NULL,
    PRIMARY KEY (world_id, account)
);

-- One row per accepted market.trade intent (id = the intent id).  Quantities
-- in satoshis, prices in micro-USD per BTC; limit_price is what the player
-- asked (NULL for market orders), limit_uusd what the auction uses (a market
-- order's band edge).  res_* is what a live order reserves.
CREATE TABLE market_orders (
    id            bigint PRIMARY KEY,
    world_id      bigint NOT NULL,
    company_id    bigint NOT NULL,
    instr_id      integer NOT NULL,
    instrument    text NOT NULL,
    side          text NOT NULL CHECK (side IN ('buy', 'sell')),
    type          text NOT NULL CHECK (type IN ('market', 'limit')),
    tif           text NOT NULL CHECK (tif IN ('gtc', 'ioc', 'fok')),
    qty           bigint NOT NULL CHECK (qty >= 0),
    filled        bigint NOT NULL CHECK (filled >= 0),
    limit_price   bigint,
    limit_uusd    bigint NOT NULL,
    leverage      integer NOT NULL,
    reduce_only   boolean NOT NULL,
    tick          bigint NOT NULL,
    expire_s      bigint NOT NULL,
    res_usd       bigint NOT NULL,
    res_btc       bigint NOT NULL,
    status        text NOT NULL CHECK (status IN ('live', 'filled', 'cancelled', 'expired')),
    reason        text,
    updated_tick  bigint NOT NULL
);
CREATE INDEX market_orders_company ON market_orders (company_id, id DESC);
CREATE INDEX market_orders_live ON market_orders (world_id, id) WHERE status = 'live';
CREATE INDEX market_orders_company_live ON market_orders (company_id, instr_id)
    WHERE status = 'live';

-- Player fills (the makers' side is not stored).  order_id is NULL for a
-- liquidation taken over by the insurance fund.
CREATE TABLE market_fills (
    id            bigserial PRIMARY KEY,
    world_id      bigint NOT NULL,
    tick          bigint NOT NULL,
    order_id      bigint,
    company_id    bigint NOT NULL,
    instr_id      integer NOT NULL,
    instrument    text NOT NULL,
    side          text NOT NULL CHECK (side IN ('buy', 'sell')),
    qty           bigint NOT NULL CHECK (qty > 0),
    price         bigint NOT NULL,
    fee           bigint NOT NULL,
    realized_pnl  bigint NOT NULL
);
CREATE INDEX market_fills_company ON market_fills (company_id, id DESC);

-- Open positions (perps, options; spot holdings are ledger balances) of
-- companies and of the house accounts.  cost is the exact signed cost basis
-- sum(qty x price) (128-bit in tickd).
CREATE TABLE market_positions (
    world_id      bigint NOT NULL,
    account       bigint NOT NULL,
    instr_id      integer NOT NULL,
    leverage      integer NOT NULL,
    qty           bigint NOT NULL,
    cost          numeric(40, 0) NOT NULL,
    margin        bigint NOT NULL,
    collateral    bigint NOT NULL,
    funding       bigint NOT NULL,
    called        boolean NOT NULL,
    updated_tick  bigint NOT NULL,
    PRIMARY KEY (world_id, account, instr_id)
);
CREATE INDEX market_positions_account ON market_positions (account);
