"""Mining schema (migrations/0007_mining.sql): the catalog is seeded, and the
constraints refuse impossible mining state (more failed rigs than rigs, two
active energy contracts on one site, a spot "contract", unknown cooling)."""
import time

import psycopg
import pytest


def test_catalog_is_seeded(stack):
    rows = stack.sql("SELECT id, hash_ghs, power_w, efficiency_j_th, cooling FROM rig_models "
                     "ORDER BY position")
    assert len(rows) >= 8
    ids = [r[0] for r in rows]
    assert ids[0] == "s9" and "s21pro" in ids
    s21 = next(r for r in rows if r[0] == "s21")
    assert (s21[1], s21[2], float(s21[3])) == (200000, 3500, 17.5)
    assert {r[0] for r in stack.sql("SELECT id FROM cooling_types")} == {"air", "hydro", "immersion"}
    assert [r[0] for r in stack.sql("SELECT tier FROM grid_tiers ORDER BY tier")] == [1, 2, 3]
    assert stack.sql("SELECT count(*) FROM mining_params")[0][0] == 1


@pytest.fixture
def site(stack):
    """A company with one site, straight in the database."""
    n = time.monotonic_ns()
    uid = stack.sql("INSERT INTO users (email, password_hash) VALUES (%s, 'x') RETURNING id",
                    (f"miner-{n}@example.test",))[0][0]
    cid = stack.sql("INSERT INTO companies (user_id, world_id, name, region) "
                    "VALUES (%s, 1, %s, 'texas') RETURNING id", (uid, f"Miner {n % 10**9}"))[0][0]
    # A site's id is the id of the intent that built it (0005); any unused
    # id does for a schema test.
    return stack.sql("INSERT INTO sites (id, company_id, world_id, region, grid_tier, "
                     "cooling_type, name, build_cost, created_tick) "
                     "VALUES (%s, %s, 1, 'texas', 1, 'air', 'Alpha', 0, 0) RETURNING id",
                     (10**12 + n % 10**9, cid))[0][0]


def refused(stack, query, params):
    with pytest.raises(psycopg.errors.IntegrityError):
        stack.sql(query, params)


def test_constraints_refuse_impossible_state(stack, site):
    # Rig groups and contracts are keyed by the id of the intent that made
    # them; ids above the site's do for a schema test.
    rig = ("INSERT INTO site_rigs (id, site_id, model, count, failed, windex0, installed_tick) "
           "VALUES (%s, %s, %s, %s, %s, 0, 1)")
    stack.sql(rig, (site + 1, site, "s21", 10, 2))
    refused(stack, rig, (site + 2, site, "s21", 10, 11))
    refused(stack, rig, (site + 2, site, "s99", 1, 0))
    refused(stack, rig, (site + 2, site, "s21", 0, 0))
    contract = ("INSERT INTO energy_contracts (id, site_id, kind, price_uusd_kwh, capacity_w, "
                "start_tick, end_tick, threshold_uusd_kwh) "
                "VALUES (%s, %s, %s, 34000, 500000, 1, 100, %s)")
    stack.sql(contract, (site + 3, site, "demand_response", 80000))
    refused(stack, contract, (site + 4, site, "fixed", 0))    # a second active contract
    refused(stack, contract, (site + 4, site, "spot", 0))     # spot is the absence of a contract
    stack.sql("UPDATE energy_contracts SET status = 'cancelled' WHERE site_id = %s", (site,))
    stack.sql(contract, (site + 4, site, "fixed", 0))
    refused(stack, "UPDATE sites SET cooling_type = 'fans' WHERE id = %s", (site,))
    # The history (0018): a row per bucket of 64 company ids, an element
    # per company, NULL where a company has no result.
    hist = ("INSERT INTO mining_history_buckets (world_id, tick, bucket, hash_ghs, mined_sat, "
            "energy_wh, energy_uusd, credit_uusd, uptime_ppm, throttle_ppm, failures, rem_nsat) "
            "VALUES (1, -1, 0, %s::bigint[], %s::bigint[], '{0,NULL}', '{0,NULL}', '{0,NULL}', "
            "'{0,NULL}', '{0,NULL}', '{0,NULL}', %s::int[])")
    refused(stack, hist, ("{0,NULL}", "{0,NULL}", "{1000000000,NULL}"))  # remainder >= 1 sat
    refused(stack, hist, ("{0,NULL}", "{-1,NULL}", "{0,NULL}"))          # negative yield
    refused(stack, hist, ("{0,NULL}", "{NULL,0}", "{0,NULL}"))           # a half-present company
    refused(stack, hist, ("{0,NULL}", "{0}", "{0,NULL}"))                # columns of other lengths
    refused(stack, hist, ("[0:1]={0,NULL}", "{0,NULL}", "{0,NULL}"))     # not from element 1
    full = ("INSERT INTO mining_history_buckets SELECT 1, -1, 0, a, a, a, a, a, b, b, b, b "
            "FROM array_fill(0::bigint, ARRAY[%s]) a, array_fill(0, ARRAY[%s]) b")
    refused(stack, full, (65, 65))                                     # more than a bucket
    stack.sql(full, (64, 64))
    stack.sql("DELETE FROM mining_history_buckets WHERE tick = -1 AND world_id = 1")
    stack.sql(hist, ("{7,NULL}", "{0,NULL}", "{999999999,NULL}"))
    assert stack.sql("SELECT company_id, hash_ghs, rem_nsat FROM mining_history WHERE tick = -1 "
                     "AND world_id = 1") == [(0, 7, 999999999)]
    stack.sql("DELETE FROM mining_history_buckets WHERE tick = -1 AND world_id = 1")
    # What is due (0022): a row per bucket, the same companies in the three
    # columns, never negative, at most a bucket long.
    due = ("INSERT INTO mining_due (world_id, bucket, tick, energy_uusd, credit_uusd, mined_sat) "
           "VALUES (1, 1000000, -1, %s::bigint[], %s::bigint[], %s::bigint[])")
    refused(stack, due, ("{0,5}", "{0,NULL}", "{1,2}"))         # a half-present company
    refused(stack, due, ("{0,-5}", "{0,0}", "{1,2}"))           # negative
    refused(stack, due, ("{0}", "{0,0}", "{1,2}"))              # columns of other lengths
    refused(stack, due, ("[0:1]={0,5}", "{0,0}", "{1,2}"))      # not from element 1
    refused(stack, "INSERT INTO mining_due SELECT 1, 1000000, -1, a, a, a "
                   "FROM array_fill(0::bigint, ARRAY[65]) a", ())  # more than a bucket
    stack.sql(due, ("{NULL,5}", "{NULL,0}", "{NULL,2}"))
    stack.sql("DELETE FROM mining_due WHERE bucket = 1000000")
