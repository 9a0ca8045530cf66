"""World processes over the real stack: the world/regions/events reads, the
tick:update payload, live admin parameters and shocks."""
import threading
import time

import pytest

from conftest import assert_problem, decode, sse_events
from test_foundation import admin_token

REGIONS = {"texas", "quebec", "iceland", "kazakhstan", "paraguay", "norway"}


@pytest.fixture(scope="module")
def admin(stack):
    tok, _ = admin_token(stack)
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture(scope="module")
def player(stack):
    tok, _ = admin_token(stack, role="player")
    return {"Authorization": f"Bearer {tok}"}


def world(stack, player):
    r = stack.get("/world", headers=player)
    assert r.status_code == 200, r.text
    return r.json()


def next_ticks(stack, player, n=1):
    """Waits until the world advanced n ticks; returns the new state."""
    t0 = world(stack, player)["tick"]
    return stack.wait_for(lambda: (lambda w: w if w["tick"] >= t0 + n else None)(
        world(stack, player)), what=f"{n} tick(s)")


def test_reads_need_a_token(stack):
    for path in ("/world", "/regions", "/events", "/world/history"):
        assert_problem(stack.get(path), 401)


def test_world_has_realistic_figures(stack, player):
    w = next_ticks(stack, player)
    assert w["world"] == 1
    assert 1_000_000_000 <= w["price_uusd"] <= 10_000_000_000_000  # USD 1k..10M
    assert w["height"] >= 877000
    assert w["subsidy_sats"] == 312500000
    assert 100_000_000 <= w["hashrate_ths"] <= 5_000_000_000  # 100..5000 EH/s
    assert w["difficulty"] > 10**13
    assert w["game_time"].startswith("2025-") and w["game_seconds_per_tick"] == 600


def test_regions_lists_the_six(stack, player):
    body = stack.get("/regions", headers=player).json()
    regions = {g["id"]: g for g in body["regions"]}
    assert set(regions) == REGIONS
    for g in regions.values():
        assert g["base_price_uusd"] // 5 <= g["energy_price_uusd"] <= g["price_cap_uusd"]
        assert set(g["outage"]) == {"tier1", "tier2", "tier3"}
        assert isinstance(g["events"], list) and g["climate"]
    assert regions["quebec"]["grid_reliability_bp"] > regions["kazakhstan"]["grid_reliability_bp"]


def test_tick_update_carries_the_world(stack):
    (_, _, m1), (_, _, m2) = decode(sse_events(stack.url("/live/world/1"), 2, timeout=10))
    for m in (m1, m2):
        p = m["payload"]
        assert p["price_uusd"] > 0 and p["difficulty"] > 0 and p["hashrate_ths"] > 0
        assert p["height"] >= 877000 and isinstance(p["events"], list)
        assert {r["id"] for r in p["regions"]} == REGIONS
        assert all(r["energy_price_uusd"] > 0 and len(r["outage"]) == 3 for r in p["regions"])
    assert m2["tick"] == m1["tick"] + 1
    # Ten game minutes per tick by default.
    t = lambda m: time.mktime(time.strptime(m["payload"]["game_time"], "%Y-%m-%dT%H:%M:%SZ"))
    assert t(m2) - t(m1) == 600


def test_param_change_applies_at_the_next_tick(stack, admin, player):
    r = stack.get("/api/admin/worlds/1/params", headers=admin)
    assert r.status_code == 200, r.text
    params = {p["key"]: p for p in r.json()["params"]}
    assert params["game_seconds_per_tick"]["value"] == 600
    assert params["price_vol_bp"]["min"] == 500
    try:
        r = stack.http.patch(stack.url("/api/admin/worlds/1/params"),
                             json={"game_seconds_per_tick": 3600}, headers=admin)
        assert r.status_code == 200, r.text
        assert {p["key"]: p["value"] for p in r.json()["params"]}["game_seconds_per_tick"] == 3600
        # From the tick after the change on, the game clock moves an hour per tick.
        a = next_ticks(stack, player, 2)
        b = next_ticks(stack, player, 1)
        assert (b["game_time_s"] - a["game_time_s"]) == 3600 * (b["tick"] - a["tick"])
    finally:
        stack.http.patch(stack.url("/api/admin/worlds/1/params"),
                         json={"game_seconds_per_tick": 600}, headers=admin)
    a = next_ticks(stack, player, 2)
    b = next_ticks(stack, player, 1)
    assert (b["game_time_s"] - a["game_time_s"]) == 600 * (b["tick"] - a["tick"])


def test_price_shock_moves_the_price(stack, admin):
    # Listen to the tick stream while the shock is queued, then compare the
    # price of the tick that applied it with the tick before.
    box = {}
    reader = threading.Thread(target=lambda: box.setdefault(
        "events", decode(sse_events(stack.url("/live/world/1"), 8, timeout=15))))
    reader.start()
    time.sleep(1.2)
    r = stack.post("/api/admin/worlds/1/shock", {"kind": "price", "pct_bp": -3000}, headers=admin)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    reader.join()
    sid = r.json()["shock_id"]
    tick = stack.sql("SELECT applied_tick FROM world_shocks WHERE id = %s", (sid,))[0][0]
    prices = {m["tick"]: m["payload"]["price_uusd"] for _, _, m in box["events"]}
    assert tick - 1 in prices and tick in prices, (tick, sorted(prices))
    # -30 % give or take one tick of ordinary volatility (~0.3 %).
    assert 0.68 < prices[tick] / prices[tick - 1] < 0.72, (prices[tick - 1], prices[tick])


def test_event_injection_shows_in_regions_and_events(stack, admin, player):
    r = stack.post("/api/admin/worlds/1/shock",
                   {"kind": "event", "type": "grid_emergency", "region": "kazakhstan"},
                   headers=admin)
    assert r.status_code == 202, r.text

    def active():
        body = stack.get("/events?active=true&region=kazakhstan", headers=player).json()
        return [e for e in body["events"] if e["type"] == "grid_emergency"]

    events = stack.wait_for(active, what="injected event")
    assert events[0]["region"] == "kazakhstan" and events[0]["active"]
    regions = {g["id"]: g for g in stack.get("/regions", headers=player).json()["regions"]}
    assert any(e["type"] == "grid_emergency" for e in regions["kazakhstan"]["events"])
    row = stack.sql("SELECT type, region, severity, start_tick < resolution_tick FROM events "
                    "WHERE world_id = 1 AND id = %s", (events[0]["id"],))[0]
    assert row == ("grid_emergency", "kazakhstan", 3, True)


def test_admin_endpoints_need_admin(stack, player):
    assert_problem(stack.get("/api/admin/worlds/1/params", headers=player), 403)
    assert_problem(stack.http.patch(stack.url("/api/admin/worlds/1/params"),
                                    json={"price_vol_bp": 7000}, headers=player), 403)
    assert_problem(stack.post("/api/admin/worlds/1/shock", {"kind": "price", "pct_bp": 100},
                              headers=player), 403)


def test_bad_params_are_400_with_field_errors(stack, admin):
    def patch(body):
        return stack.http.patch(stack.url("/api/admin/worlds/1/params"), json=body, headers=admin)

    before = stack.get("/api/admin/worlds/1/params", headers=admin).json()
    body = assert_problem(patch({"price_vol_bp": 10, "no_such_key": 1, "jumps_per_year": "3"}),
                          400, type_="validation")
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes == {"price_vol_bp": "range", "no_such_key": "unknown", "jumps_per_year": "type"}
    assert_problem(patch({"garch_alpha_ppm": 300000, "garch_beta_ppm": 990000}), 400,
                   field="garch_beta_ppm")
    assert_problem(patch({}), 400)
    assert_problem(stack.http.patch(stack.url("/api/admin/worlds/999/params"),
                                    json={"price_vol_bp": 7000}, headers=admin), 404)
    # Nothing was written by the refused requests.
    after = stack.get("/api/admin/worlds/1/params", headers=admin).json()
    assert after["version"] == before["version"]


def test_bad_shocks_are_400(stack, admin):
    def shock(body):
        return stack.post("/api/admin/worlds/1/shock", body, headers=admin)

    assert_problem(shock({"kind": "price"}), 400, field="pct_bp")
    assert_problem(shock({"kind": "price", "pct_bp": -9500}), 400, field="pct_bp")
    assert_problem(shock({"kind": "event", "type": "heat_wave"}), 400, field="region")
    assert_problem(shock({"kind": "event", "type": "regulatory_shock", "region": "texas"}), 400,
                   field="region")
    assert_problem(shock({"kind": "event", "type": "heat_wave", "region": "atlantis"}), 400,
                   field="region")
    assert_problem(shock({"kind": "meteor"}), 400, field="kind")


def test_events_query_is_validated(stack, player):
    assert_problem(stack.get("/events?limit=0", headers=player), 400, field="limit")
    assert_problem(stack.get("/events?active=maybe", headers=player), 400, field="active")
    assert_problem(stack.get("/events?region=atlantis", headers=player), 400,
                   field="region")
    body = stack.get("/events?limit=5", headers=player).json()
    assert len(body["events"]) <= 5


def test_history_records_every_tick_for_charts(stack, player):
    w = next_ticks(stack, player, 3)
    h = stack.get("/world/history", headers=player)
    assert h.status_code == 200, h.text
    body = h.json()
    assert body["to"] >= w["tick"] and body["step"] == 1
    pts = body["points"]
    ticks = [p["tick"] for p in pts]
    # Consecutive ticks up to the latest committed one, oldest first.
    assert ticks == list(range(ticks[0], ticks[-1] + 1)) and len(ticks) >= 3
    last = pts[-1]
    assert last["price_uusd"] > 0 and last["difficulty"] > 0 and last["height"] > 0
    assert set(last["region_price_uusd"]) == {"texas", "quebec", "iceland", "kazakhstan",
                                              "paraguay", "norway"}
    # The same figures as the tick snapshot row (the engine's hashes joined in).
    row = stack.sql("SELECT price_uusd, difficulty, encode(state_hash, 'hex') FROM tick_snapshot "
                    "WHERE world_id = %s AND tick = %s", (body["world"], last["tick"]))
    assert row and row[0][0] == last["price_uusd"] and row[0][1] == last["difficulty"]
    assert len(row[0][2]) == 64
    # A chosen range, downsampled.
    lo = ticks[0]
    r = stack.get(f"/world/history?from={lo}&to={lo + 10}&step=2", headers=player).json()
    assert r["from"] == lo and r["to"] == lo + 10
    assert all(p["tick"] % 2 == 0 and lo <= p["tick"] <= lo + 10 for p in r["points"])


def test_history_rejects_bad_ranges(stack, player):
    assert_problem(stack.get("/world/history?from=10&to=5", headers=player), 400, field="from")
    assert_problem(stack.get("/world/history?from=0&to=100000", headers=player), 400,
                   field="from")
    assert_problem(stack.get("/world/history?step=0", headers=player), 400, field="step")
    assert_problem(stack.get("/world/history?from=abc", headers=player), 400, field="from")
    assert_problem(stack.get("/world/history?bogus=1", headers=player), 400)
