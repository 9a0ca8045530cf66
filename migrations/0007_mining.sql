-- 0007_mining.sql - mining content (catalog tables admins tune) and the
-- mining state of sites: rig groups, energy contracts, wear indexes
-- (yield remainders travel in mining_history, 0009).
--
-- The content rows mirror the defaults in tickd/mining_catalog.c
-- (tests/unit/test_mining.c checks the two agree); tickd loads these tables
-- into a struct mining_catalog.  Rig models are loaded in `position` order
-- and a model's position never changes (state refers to catalog order):
-- add models at the end, retire them with available = false.
--
-- Money is integer micro-USD (uusd) and satoshis; fractions are ppm
-- (1,000,000 = 100 %); hashrate GH/s; power W.  See docs/ARCHITECTURE.md,
-- "Mining and energy model".

CREATE TABLE rig_models (
    id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{1,23}$'),
    position         smallint NOT NULL UNIQUE CHECK (position BETWEEN 0 AND 31),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 47),
    year             integer NOT NULL,
    hash_ghs         bigint NOT NULL CHECK (hash_ghs > 0),
    power_w          bigint NOT NULL CHECK (power_w > 0),
    -- J/TH = W / (TH/s), for display
    efficiency_j_th  numeric GENERATED ALWAYS AS (round(power_w * 1000.0 / hash_ghs, 1)) STORED,
    price_uusd       bigint NOT NULL CHECK (price_uusd >= 0),
    lifetime_days    integer NOT NULL CHECK (lifetime_days > 0),
    afr_ppm          integer NOT NULL CHECK (afr_ppm BETWEEN 0 AND 1000000),
    wear_hazard_ppm  integer NOT NULL CHECK (wear_hazard_ppm >= 1000000),
    wear_loss_ppm    integer NOT NULL CHECK (wear_loss_ppm BETWEEN 0 AND 1000000),
    cooling          text[] NOT NULL CHECK (cooling <@ ARRAY['air', 'hydro', 'immersion']
                                            AND cardinality(cooling) > 0),
    available        boolean NOT NULL DEFAULT true
);

-- position, id, name, year, GH/s, W, price, life, AFR, hazard worn, loss worn, cooling
INSERT INTO rig_models (position, id, name, year, hash_ghs, power_w, price_uusd, lifetime_days,
                        afr_ppm, wear_hazard_ppm, wear_loss_ppm, cooling) VALUES
(0, 's9', 'Antminer S9', 2016, 13500, 1320, 45000000, 1095, 150000, 5000000, 200000, '{air,hydro,immersion}'),
(1, 's17pro', 'Antminer S17 Pro', 2019, 53000, 2094, 300000000, 1460, 120000, 4500000, 180000, '{air,hydro,immersion}'),
(2, 'm30s', 'Whatsminer M30S', 2020, 88000, 3344, 700000000, 1825, 70000, 3500000, 150000, '{air,hydro,immersion}'),
(3, 's19', 'Antminer S19', 2020, 95000, 3250, 900000000, 1825, 80000, 4000000, 150000, '{air,hydro,immersion}'),
(4, 'm50s', 'Whatsminer M50S', 2022, 126000, 3276, 1700000000, 2190, 55000, 3000000, 120000, '{air,hydro,immersion}'),
(5, 's19xp', 'Antminer S19 XP', 2022, 140000, 3010, 2100000000, 1825, 60000, 3500000, 120000, '{air,hydro,immersion}'),
(6, 's21', 'Antminer S21', 2023, 200000, 3500, 3600000000, 2190, 45000, 3000000, 100000, '{air,hydro,immersion}'),
(7, 's21pro', 'Antminer S21 Pro', 2024, 234000, 3510, 4900000000, 2190, 40000, 3000000, 100000, '{air,hydro,immersion}'),
(8, 's21hyd', 'Antminer S21 Hydro', 2024, 335000, 5360, 5900000000, 2555, 35000, 2500000, 80000, '{hydro,immersion}'),
(9, 's21xpimm', 'Antminer S21 XP Immersion', 2024, 300000, 3900, 7200000000, 2555, 30000, 2500000, 80000, '{immersion}');

CREATE TABLE cooling_types (
    id                 text PRIMARY KEY CHECK (id IN ('air', 'hydro', 'immersion')),
    pue_ppm            integer NOT NULL CHECK (pue_ppm BETWEEN 1000000 AND 3000000),
    wear_ppm           integer NOT NULL CHECK (wear_ppm > 0),
    hazard_ppm         integer NOT NULL CHECK (hazard_ppm > 0),
    heat_sens_ppm      integer NOT NULL CHECK (heat_sens_ppm BETWEEN 0 AND 2000000),
    oc_headroom_ppm    integer NOT NULL CHECK (oc_headroom_ppm BETWEEN 0 AND 1000000),
    slots_per_mw       integer NOT NULL CHECK (slots_per_mw > 0)
);

-- The build price of a site is not here: site_cost_parts (0005) is its one
-- source (region + grid tier + cooling parts); these tables give its shape.
-- id, PUE, wear, hazard, heat sensitivity, overclock headroom, slots per MW
INSERT INTO cooling_types VALUES
('air', 1150000, 1000000, 1000000, 1000000, 100000, 250),
('hydro', 1080000, 800000, 800000, 500000, 200000, 180),
('immersion', 1050000, 600000, 600000, 300000, 300000, 220);

CREATE TABLE grid_tiers (
    tier             integer PRIMARY KEY CHECK (tier BETWEEN 1 AND 3),
    capacity_kw      bigint NOT NULL CHECK (capacity_kw > 0),
    -- reliability: multiplies the world model's regional outage rate
    outage_mult_ppm  integer NOT NULL CHECK (outage_mult_ppm >= 0)
);

-- tier, capacity kW, outage multiplier
INSERT INTO grid_tiers VALUES
(1, 500, 2000000),
(2, 2000, 1000000),
(3, 10000, 400000);

-- Terms the game offers, relative to the region's reference price.
CREATE TABLE energy_contract_kinds (
    id             text PRIMARY KEY CHECK (id IN ('spot', 'fixed', 'demand_response')),
    price_ppm      integer NOT NULL CHECK (price_ppm > 0),
    threshold_ppm  integer NOT NULL CHECK (threshold_ppm >= 0),
    credit_ppm     integer NOT NULL CHECK (credit_ppm >= 0),
    min_ticks      bigint NOT NULL CHECK (min_ticks >= 0),
    max_ticks      bigint NOT NULL CHECK (max_ticks >= min_ticks)
);

INSERT INTO energy_contract_kinds VALUES
('spot', 1000000, 0, 0, 0, 0),
('fixed', 1100000, 0, 0, 10, 1000000),
('demand_response', 850000, 2000000, 500000, 10, 1000000);

-- Scalar mining parameters (exactly one row).
CREATE TABLE mining_params (
    id                   boolean PRIMARY KEY DEFAULT true CHECK (id),
    maint_service_ppm    integer NOT NULL CHECK (maint_service_ppm >= 0),
    maint_repair_ppm     integer NOT NULL CHECK (maint_repair_ppm >= 0),
    maint_restore_ppm    integer NOT NULL CHECK (maint_restore_ppm BETWEEN 0 AND 1000000),
    maint_downtime_secs  bigint NOT NULL CHECK (maint_downtime_secs >= 0)
);

INSERT INTO mining_params VALUES (true, 20000, 250000, 700000, 21600);

-- Mining columns of the engine's sites (0005).
ALTER TABLE sites
    ADD COLUMN capacity_w      bigint NOT NULL DEFAULT 0 CHECK (capacity_w >= 0),
    ADD COLUMN slots           integer NOT NULL DEFAULT 0 CHECK (slots >= 0),
    ADD COLUMN uptime_sum_ppm  bigint NOT NULL DEFAULT 0 CHECK (uptime_sum_ppm >= 0),
    ADD COLUMN ticks_run       bigint NOT NULL DEFAULT 0 CHECK (ticks_run >= 0),
    ADD CONSTRAINT sites_grid_tier_fk FOREIGN KEY (grid_tier) REFERENCES grid_tiers (tier),
    ADD CONSTRAINT sites_cooling_type_fk FOREIGN KEY (cooling_type) REFERENCES cooling_types (id);

-- A batch of identical rigs on a site (struct mining_group).  Wear is
-- wear0_ppm plus the growth of mining_wear_index since windex0: rows change
-- only on events (install, firmware, failure, maintenance, removal).
CREATE TABLE site_rigs (
    id              bigint PRIMARY KEY,  -- the id of the rig.add intent that installed it
    site_id         bigint NOT NULL REFERENCES sites (id),
    model           text NOT NULL REFERENCES rig_models (id),
    firmware        text NOT NULL DEFAULT 'stock' CHECK (firmware IN ('eco', 'stock', 'overclock')),
    count           integer NOT NULL CHECK (count BETWEEN 1 AND 100000),
    failed          integer NOT NULL DEFAULT 0 CHECK (failed BETWEEN 0 AND count),
    wear0_ppm       bigint NOT NULL DEFAULT 0 CHECK (wear0_ppm BETWEEN 0 AND 1000000),
    windex0         bigint NOT NULL CHECK (windex0 >= 0),
    installed_tick  bigint NOT NULL,
    maint_until     bigint NOT NULL DEFAULT 0
);

CREATE INDEX site_rigs_site ON site_rigs (site_id);

CREATE TABLE energy_contracts (
    id                  bigint PRIMARY KEY,  -- the id of the intent that signed it
    site_id             bigint NOT NULL REFERENCES sites (id),
    kind                text NOT NULL REFERENCES energy_contract_kinds (id) CHECK (kind <> 'spot'),
    price_uusd_kwh      bigint NOT NULL CHECK (price_uusd_kwh > 0),
    capacity_w          bigint NOT NULL CHECK (capacity_w > 0),
    start_tick          bigint NOT NULL,
    end_tick            bigint NOT NULL CHECK (end_tick > start_tick),
    threshold_uusd_kwh  bigint NOT NULL DEFAULT 0 CHECK (threshold_uusd_kwh >= 0),
    credit_uusd_kwh     bigint NOT NULL DEFAULT 0 CHECK (credit_uusd_kwh >= 0),
    status              text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'cancelled', 'expired')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'demand_response' OR threshold_uusd_kwh > 0)
);

-- At most one active contract per site; a site without one buys spot.
CREATE UNIQUE INDEX energy_contracts_one_active ON energy_contracts (site_id)
    WHERE status = 'active';

-- Cumulative wear index per world and (region, cooling, firmware) class.
CREATE TABLE mining_wear_index (
    world_id  bigint NOT NULL REFERENCES worlds (id),
    region    text NOT NULL REFERENCES regions (id),
    cooling   text NOT NULL REFERENCES cooling_types (id),
    firmware  text NOT NULL CHECK (firmware IN ('eco', 'stock', 'overclock')),
    value     bigint NOT NULL CHECK (value >= 0),
    PRIMARY KEY (world_id, region, cooling, firmware)
);
