-- bench_gen.sql - synthetic world for scripts/bench_tick.sh.
-- psql variables: companies (how many to create in world 1).
-- Each company row fires the company.open intent (migrations/0005), so the
-- first tick after this opens every company through the ledger.
INSERT INTO users (email, password_hash)
SELECT 'bench' || g || '@example.test', 'x' FROM generate_series(1, :companies) g;
INSERT INTO companies (user_id, world_id, name, region)
SELECT u.id, 1, 'bench' || u.id, 'texas' FROM users u WHERE u.email LIKE 'bench%@example.test';

-- bench_intents(k): k site.create intents for random companies of world 1
-- (bench companies have consecutive ids; random() is drawn per row).
CREATE OR REPLACE FUNCTION bench_intents(k int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO intents (world_id, company_id, kind, args, created_tick)
    SELECT 1, b.lo + floor(random() * (b.hi - b.lo + 1))::bigint, 'site.create',
           jsonb_build_object('region', (ARRAY['texas','quebec','iceland','kazakhstan',
                                                'paraguay','norway'])[1 + floor(random() * 6)::int],
                              'grid_tier', 1 + floor(random() * 3)::int,
                              'cooling_type', 'air', 'name', 'b' || g),
           (SELECT tick FROM worlds WHERE id = 1)
    FROM generate_series(1, k) g,
         (SELECT min(id) AS lo, max(id) AS hi FROM companies
          WHERE world_id = 1 AND name LIKE 'bench%') b;
$$;
