"""Mining wired into the engine, end to end: sites get their shape, rigs are
bought through intents, each tick credits BTC exactly as the ledger and the
per-tick history say (and as the yield formula predicts from the recorded
world figures), energy is paid, rejections are 4xx problems, a burst of
concurrent rig orders never over-fills a site nor overspends, energy
contracts and demand-response curtailment, maintenance, failure and outage
alerts on the player's channel, and replay/verify bit for bit with mining."""
import concurrent.futures
import os
import random
import signal
import time

import pytest

from conftest import assert_problem
from test_engine import (GRANT, Player, new_world, site_body, site_cost, tickd, tickd_pid,
                         world_tick)

S21 = {"price": 3_600_000_000, "hash": 200_000, "power": 3_500}
S9_PRICE = 45_000_000
S21PRO_PRICE = 4_900_000_000


def post(p, path, body, key=None):
    h = dict(p.h)
    if key:
        h["Idempotency-Key"] = key
    return p.stack.post(path, body, headers=h)


def applied(p, r):
    assert r.status_code == 202, r.text
    out = p.outcome(r.json()["intent_id"])
    assert out["status"] == "applied", out
    return out


def build_site(p, **over):
    r = p.create_site(site_body(**over))
    applied(p, r)
    return r.json()["intent_id"]


def add_rigs(p, site, model, count):
    r = post(p, "/site/rig/add", {"site_id": site, "model": model, "count": count})
    applied(p, r)
    return r.json()["intent_id"]


def btc(p):
    # The current balance: settled ledger plus the results since (0011).
    return p.stack.sql("SELECT company_balance(%s, 'btc')", (p.cid,))[0][0]


# What the company has accrued and not settled into ledger_entries: its
# element of mining_due (0022), 0 when absent.
DUE = ("(SELECT coalesce(d.{col}[co.id %% mining_bucket_size() + 1], 0) FROM companies co "
       "LEFT JOIN mining_due d ON d.world_id = co.world_id AND "
       "d.bucket = co.id / mining_bucket_size() WHERE co.id = {cid})")


def due_sql(col, cid="%(c)s"):
    return DUE.format(col=col, cid=cid)


def books_exact(stack, cid):
    """In one snapshot, for each of the company's accounts: no negative
    balance, the balance is the sum of its ledger entries, and the current
    balance (company_balance) adds exactly what is due.  While the world's
    history is whole (nothing pruned), the mining entries plus what is due
    are exactly the history's results."""
    rows = stack.sql(
        "SELECT a.currency, a.balance, company_balance(a.company_id, a.currency), "
        "(SELECT coalesce(sum(CASE WHEN e.credit_account = a.id THEN e.amount ELSE -e.amount "
        "END), 0) FROM ledger_entries e WHERE e.credit_account = a.id OR e.debit_account = a.id), "
        "CASE a.currency WHEN 'usd' THEN " + due_sql("credit_uusd") + " - "
        + due_sql("energy_uusd") + " ELSE " + due_sql("mined_sat") + " END, "
        "(SELECT coalesce(sum(CASE WHEN e.credit_account = a.id THEN e.amount ELSE -e.amount "
        "END), 0) FROM ledger_entries e WHERE (e.credit_account = a.id OR e.debit_account = a.id) "
        "AND e.kind IN ('mining.reward', 'mining.energy', 'mining.dr_credit')), "
        "(SELECT CASE a.currency WHEN 'usd' THEN coalesce(sum(h.credit_uusd - h.energy_uusd), 0) "
        "ELSE coalesce(sum(h.mined_sat), 0) END FROM mining_history h WHERE h.company_id = "
        "a.company_id AND h.tick <= (SELECT w.tick FROM worlds w WHERE w.id = a.world_id)), "
        "EXISTS (SELECT 1 FROM mining_history_pruned p WHERE p.world_id = a.world_id) "
        "FROM ledger_accounts a WHERE a.company_id = %(c)s", {"c": cid})
    assert {r[0] for r in rows} == {"usd", "btc"}
    for cur, bal, current, entries, due, mining_entries, history, pruned in rows:
        assert bal >= 0 and current >= 0, (cur, bal, current)
        assert bal == entries and current == bal + due, cur
        if not pruned:
            assert mining_entries + due == history, (cur, mining_entries, due, history)


def set_params(stack, wid, admin, params):
    r = stack.http.patch(stack.url(f"/api/admin/worlds/{wid}/params"), json=params, headers=admin)
    assert r.status_code == 200, r.text


# ---- the loop on world 1 ---------------------------------------------------------------------

def test_site_gets_its_shape_and_rigs_mine_per_the_ledger_and_the_formula(stack):
    p = Player(stack)
    p.wait_open()
    site = build_site(p)
    s = p.stack.get(f"/site/{site}", headers=p.h).json()
    # grid tier 1 = 500 kW, air = 250 slots per MW (grid_tiers, cooling_types)
    assert (s["capacity_w"], s["slots"], s["slots_used"]) == (500_000, 125, 0)
    assert s["rigs"]["count"] == 0 and s["contract"] is None
    rig = add_rigs(p, site, "s21", 10)
    bal, grant, build, rigs, energy, credit = books(stack, p.cid)
    assert (grant, build, rigs) == (GRANT, site_cost("texas", 1, "air"), 10 * S21["price"])
    assert bal == grant - build - rigs - energy + credit

    # A tick whose recorded world figures produced a block for us: the yield
    # follows hash / network x (subsidy + fees) x blocks (+ carried remainder < 1 sat).
    q = ("SELECT h.tick, h.hash_ghs, h.mined_sat, ws.row_hashrate_ths, ws.blocks_last_tick, "
         "ws.subsidy_sats, ws.block_fees_sats FROM mining_history h JOIN world_state ws ON "
         "ws.world_id = h.world_id AND ws.tick = h.tick WHERE h.company_id = %s AND "
         "ws.blocks_last_tick > 0 AND h.hash_ghs > 0")
    row = stack.wait_for(lambda: (stack.sql(q, (p.cid,)) or [None])[0], timeout=30,
                         what="a mined tick recorded with its world")
    _, hash_ghs, sats, row_ths, blocks, subsidy, fees = row
    # The network the step saw = rest of world + the players' total of the
    # tick before; ours is a negligible part of it, bounded below.
    exact = hash_ghs / (row_ths * 1000) * (subsidy + fees) * blocks
    assert exact > 10, exact
    assert exact * (1 - 1e-3) - 1 <= sats <= exact + 1, (sats, exact)
    assert hash_ghs <= 10 * S21["hash"]

    # Ledger, balances and history agree, to the satoshi and the micro-dollar:
    # the entries hold every result up to the company's last settlement, the
    # due amounts of the world's last tick the rest (accrued postings, 0022).
    stack.wait_for(lambda: btc(p) > 0, what="BTC credited")
    bal, settled_bal, hist_sat, hist_usd, hist_credit, reward, energy, open_sat, open_usd = \
        stack.sql(
            "SELECT company_balance(%(c)s, 'btc'), "
            "(SELECT balance FROM ledger_accounts WHERE company_id = %(c)s AND currency = 'btc'), "
            "(SELECT sum(mined_sat) FROM mining_history WHERE company_id = %(c)s), "
            "(SELECT sum(energy_uusd) FROM mining_history WHERE company_id = %(c)s), "
            "(SELECT sum(credit_uusd) FROM mining_history WHERE company_id = %(c)s), "
            "(SELECT coalesce(sum(amount), 0) FROM ledger_entries e JOIN ledger_accounts a ON "
            " a.id = e.credit_account WHERE a.company_id = %(c)s AND e.kind = 'mining.reward'), "
            "(SELECT coalesce(sum(amount), 0) FROM ledger_entries e JOIN ledger_accounts a ON "
            " a.id = e.debit_account WHERE a.company_id = %(c)s AND e.kind = 'mining.energy'), "
            + due_sql("mined_sat") + ", " + due_sql("energy_uusd"),
            {"c": p.cid})[0]
    assert bal == hist_sat == reward + open_sat > 0
    assert settled_bal == reward
    assert hist_usd == energy + open_usd > 0 and hist_credit == 0
    # A mining-only company settles at its turns only: (company + tick) % 100 == 0.
    assert stack.sql(
        "SELECT count(*) FROM ledger_entries e JOIN ledger_accounts a ON a.id IN "
        "(e.debit_account, e.credit_account) WHERE a.company_id = %s AND e.kind LIKE 'mining.%%' "
        "AND (a.company_id + e.tick) %% 100 <> 0", (p.cid,)) == [(0,)]

    # Reads: the site's live view, its rigs, the player's assets and history.
    s = p.stack.get(f"/site/{site}", headers=p.h).json()
    assert s["slots_used"] == 10 and s["rigs"]["count"] == 10 and s["rigs"]["groups"] == 1
    assert s["uptime_ppm"] is not None and 0 <= s["uptime_ppm"] <= 1_000_000
    if not s["outage"]:
        assert 0 < s["hashrate_ghs"] <= 10 * S21["hash"]
        assert s["energy_cost_per_tick_usd_micro"] > 0
    rigs = p.stack.get(f"/site/{site}/rigs", headers=p.h).json()
    assert [g["id"] for g in rigs["items"]] == [rig] and rigs["next_after"] is None
    g = rigs["items"][0]
    assert (g["model"], g["firmware"], g["count"]) == ("s21", "stock", 10)
    assert 0 < g["wear_ppm"] < 1_000_000
    me = p.stack.get("/player/me", headers=p.h).json()["private"]
    assert me["assets"]["rigs"] == 10 and me["assets"]["sites"] == 1
    h = p.stack.get("/player/me/history", headers=p.h).json()
    assert h["to"] - h["from"] == min(99, h["to"])
    db_rows = stack.sql("SELECT tick, mined_sat, energy_uusd FROM mining_history WHERE "
                        "company_id = %s AND tick BETWEEN %s AND %s ORDER BY tick",
                        (p.cid, h["from"], h["to"]))
    assert [(i["tick"], i["mined_sat"], i["energy_paid_usd_micro"]) for i in h["items"]] == \
        [tuple(r) for r in db_rows]
    assert db_rows
    for bad, field in (({"from": "x"}, "from"), ({"from": 10, "to": 5}, "from"),
                       ({"from": 0, "to": 5000}, "to"), ({"to": -1}, "to")):
        assert_problem(p.stack.get("/player/me/history", params=bad, headers=p.h), 400,
                       field=field)


def test_rigs_pages_and_catalog(stack):
    p = Player(stack)
    p.wait_open()
    site = build_site(p, name="Paged")
    ids = [add_rigs(p, site, "s9", 1) for _ in range(3)]
    page = p.stack.get(f"/site/{site}/rigs", params={"limit": 2}, headers=p.h).json()
    assert [g["id"] for g in page["items"]] == ids[:2] and page["next_after"] == ids[1]
    rest = p.stack.get(f"/site/{site}/rigs", params={"limit": 2, "after": ids[1]},
                       headers=p.h).json()
    assert [g["id"] for g in rest["items"]] == ids[2:] and rest["next_after"] is None
    assert_problem(p.stack.get(f"/site/{site}/rigs", params={"limit": 0}, headers=p.h), 400,
                   field="limit")
    # A retired model is no longer sold (its installed rigs keep running).
    stack.sql("UPDATE rig_models SET available = false WHERE id = 's17pro'")
    try:
        assert_problem(post(p, "/site/rig/add", {"site_id": site, "model": "s17pro", "count": 1}),
                       400, field="model")
    finally:
        stack.sql("UPDATE rig_models SET available = true WHERE id = 's17pro'")
    cat = p.stack.get("/rigs/catalog", headers=p.h).json()
    s21 = next(m for m in cat["models"] if m["id"] == "s21")
    assert (s21["hash_ghs"], s21["power_w"], s21["price_usd_micro"]) == \
        (S21["hash"], S21["power"], S21["price"])
    assert [t["capacity_kw"] for t in cat["grid_tiers"]] == [500, 2000, 10000]
    assert {k["id"] for k in cat["contract_kinds"]} == {"fixed", "demand_response"}
    assert len(cat["site_cost_parts"]) == 12


# ---- rejections ----------------------------------------------------------------------------

def test_rig_orders_are_checked_and_owned(stack):
    p, other = Player(stack), Player(stack)
    p.wait_open()
    other.wait_open()
    site = build_site(p, name="Checks")
    bad = [({"model": "s21", "count": 1}, "site_id"),
           ({"site_id": site, "count": 1}, "model"),
           ({"site_id": site, "model": "s21", "count": 0}, "count"),
           ({"site_id": site, "model": "s21", "count": 100001}, "count"),
           ({"site_id": site, "model": "s21", "count": "1"}, "count"),
           ({"site_id": site, "model": "s99", "count": 1}, "model"),
           ({"site_id": site, "model": "s21", "count": 1, "extra": 1}, "extra")]
    for body, field in bad:
        assert_problem(post(p, "/site/rig/add", body), 400, field=field)
    # slots (125 on tier 1 air), power (125 S21 draw 503 kW > 500 kW), cash, cooling
    for body, code in (({"model": "s9", "count": 126}, "no_slots"),
                       ({"model": "s21", "count": 125}, "no_power"),
                       ({"model": "s21pro", "count": 60}, "no_cash"),
                       ({"model": "s21hyd", "count": 1}, "needs_cooling")):
        r = post(p, "/site/rig/add", dict(body, site_id=site))
        assert_problem(r, 409)
        assert code in r.json()["detail"]
    # another company's site, or its rigs, are not found
    rig = add_rigs(p, site, "s9", 2)
    for path, body in (("/site/rig/add", {"site_id": site, "model": "s9", "count": 1}),
                       ("/site/rig/remove", {"site_id": site, "rig_id": rig, "count": 1}),
                       ("/site/rig/firmware", {"site_id": site, "rig_id": rig, "firmware": "eco"}),
                       ("/site/maintenance", {"site_id": site}),
                       ("/site/energy/contract", {"site_id": site, "kind": "fixed", "ticks": 100}),
                       ("/site/energy/cancel", {"site_id": site})):
        assert_problem(post(other, path, body), 404)
    assert_problem(other.stack.get(f"/site/{site}", headers=other.h), 404)
    assert_problem(other.stack.get(f"/site/{site}/rigs", headers=other.h), 404)
    # the handler checks against committed state; tickd re-checks every intent
    assert_problem(post(p, "/site/rig/remove", {"site_id": site, "rig_id": rig, "count": 3}),
                   400, field="count")
    assert_problem(post(p, "/site/rig/remove", {"site_id": site, "rig_id": rig + 10**9,
                                                "count": 1}), 404)
    assert_problem(post(p, "/site/rig/firmware", {"site_id": site, "rig_id": rig,
                                                  "firmware": "turbo"}), 400, field="firmware")
    assert_problem(post(p, "/site/rig/firmware", {"site_id": site, "rig_id": rig,
                                                  "firmware": "stock"}), 409)
    assert_problem(post(p, "/site/energy/contract", {"site_id": site, "kind": "spot",
                                                     "ticks": 100}), 400, field="kind")
    assert_problem(post(p, "/site/energy/contract", {"site_id": site, "kind": "fixed",
                                                     "ticks": 5}), 400, field="ticks")
    assert_problem(post(p, "/site/energy/cancel", {"site_id": site}), 409)
    # Idempotency-Key: a retry is the same intent, applied once; the key on another body is refused
    body = {"site_id": site, "model": "s9", "count": 1}
    r1, r2 = post(p, "/site/rig/add", body, key="once-1"), post(p, "/site/rig/add", body, key="once-1")
    assert r1.status_code == r2.status_code == 202
    assert r1.json()["intent_id"] == r2.json()["intent_id"]
    assert_problem(post(p, "/site/rig/add", dict(body, count=2), key="once-1"), 422)
    applied(p, r1)
    assert stack.sql("SELECT count FROM site_rigs WHERE id = %s", (r1.json()["intent_id"],)) == [(1,)]
    applied(p, post(p, "/site/rig/remove", {"site_id": site, "rig_id": r1.json()["intent_id"],
                                            "count": 1}))
    # remove and firmware apply
    applied(p, post(p, "/site/rig/firmware", {"site_id": site, "rig_id": rig, "firmware": "eco"}))
    applied(p, post(p, "/site/rig/remove", {"site_id": site, "rig_id": rig, "count": 1}))
    g = p.stack.get(f"/site/{site}/rigs", headers=p.h).json()["items"]
    assert [(x["id"], x["count"], x["firmware"]) for x in g] == [(rig, 1, "eco")]
    applied(p, post(p, "/site/rig/remove", {"site_id": site, "rig_id": rig, "count": 1}))
    assert p.stack.get(f"/site/{site}/rigs", headers=p.h).json()["items"] == []
    assert stack.sql("SELECT count(*) FROM site_rigs WHERE site_id = %s", (site,)) == [(0,)]


def books(stack, cid):
    """The company's settled USD balance and the entries that moved it, read in
    one snapshot (mining results since the last settlement are not in either,
    0011)."""
    return stack.sql(
        "SELECT (SELECT balance FROM ledger_accounts WHERE company_id = %(c)s AND "
        "currency = 'usd'), " + ", ".join(
            "(SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN ledger_accounts a ON "
            f"a.id = e.{side} WHERE a.company_id = %(c)s AND a.currency = 'usd' AND "
            f"e.kind = '{kind}')"
            for side, kind in (("credit_account", "starting_grant"), ("debit_account", "site.build"),
                               ("debit_account", "rig.buy"), ("debit_account", "mining.energy"),
                               ("credit_account", "mining.dr_credit"))), {"c": cid})[0]


def test_100_concurrent_rig_orders_never_overfill_nor_overspend(stack):
    p = Player(stack)
    p.wait_open()
    slots_site = build_site(p, name="Slots")
    cash_site = build_site(p, name="Cash")

    def burst(site, model, count):
        def order(i):
            return post(p, "/site/rig/add", {"site_id": site, "model": model, "count": count},
                        key=f"burst-{site}-{i}")
        with concurrent.futures.ThreadPoolExecutor(max_workers=25) as ex:
            rs = list(ex.map(order, range(100)))
        # 409: the handler's pre-check already saw earlier orders of the burst applied.
        assert all(r.status_code in (202, 409) for r in rs), [r.text for r in rs][:3]
        ids = [r.json()["intent_id"] for r in rs if r.status_code == 202]
        # Outcomes straight from the database (GET /intents/:id is rate limited per caller).
        q = "SELECT status, reason FROM intents WHERE id = ANY(%s)"
        stack.wait_for(lambda: all(row[0] != "queued" for row in stack.sql(q, (ids,))),
                       what="the burst applied")
        return [{"status": st, "reason": why} for st, why in stack.sql(q, (ids,))]

    # s9 x2: 62 orders fit in 125 slots (power allows 329 rigs, cash thousands)
    outs = burst(slots_site, "s9", 2)
    assert sum(o["status"] == "applied" for o in outs) == 62
    assert all("no_slots" in o["reason"] for o in outs if o["status"] == "rejected")
    assert stack.sql("SELECT sum(count) FROM site_rigs WHERE site_id = %s",
                     (slots_site,)) == [(124,)]
    # s21pro x1: cash runs out long before slots or power (about 35 affordable)
    outs = burst(cash_site, "s21pro", 1)
    bought = sum(o["status"] == "applied" for o in outs)
    assert all("no_cash" in o["reason"] for o in outs if o["status"] == "rejected")
    assert 1 <= bought < 100
    bal, grant, build, rigs, energy, credit = books(stack, p.cid)
    assert 0 <= bal < S21PRO_PRICE
    assert rigs == 62 * 2 * S9_PRICE + bought * S21PRO_PRICE
    assert bal == grant - build - rigs - energy + credit


# ---- a fast world: contracts, demand response, outages, failures, maintenance, replay --------

@pytest.fixture(scope="module")
def mine_world(stack):
    """A world ticking every 100 ms, a game day per tick, frequent outages."""
    wid = new_world(stack, 100)
    admin = Player(stack, role="admin").h
    set_params(stack, wid, admin, {"game_seconds_per_tick": 86400, "outage_rate_pct": 3000})
    yield wid, admin
    stack.sql("UPDATE worlds SET status = 'paused' WHERE id = %s", (wid,))


def test_energy_contracts_and_demand_response_credit(stack, mine_world):
    wid, admin = mine_world
    p = Player(stack, world=wid)
    p.wait_open()
    site = build_site(p, region="quebec", grid_tier=3, name="DR")
    add_rigs(p, site, "s21", 20)
    r = post(p, "/site/energy/contract", {"site_id": site, "kind": "fixed", "ticks": 50})
    out = applied(p, r)
    c = p.stack.get(f"/site/{site}", headers=p.h).json()["contract"]
    assert c["kind"] == "fixed" and c["id"] == r.json()["intent_id"]
    assert c["end_tick"] - c["start_tick"] == 50 and c["capacity_w"] == 10_000_000
    assert c["start_tick"] == out["applied_tick"]
    applied(p, post(p, "/site/energy/cancel", {"site_id": site}))
    assert p.stack.get(f"/site/{site}", headers=p.h).json()["contract"] is None
    assert stack.sql("SELECT status FROM energy_contracts WHERE id = %s", (c["id"],)) == \
        [("cancelled",)]

    r = post(p, "/site/energy/contract", {"site_id": site, "kind": "demand_response",
                                          "ticks": 100000})
    applied(p, r)
    dr = p.stack.get(f"/site/{site}", headers=p.h).json()["contract"]
    assert dr["kind"] == "demand_response"
    assert dr["threshold_usd_micro_kwh"] > dr["price_usd_micro_kwh"]
    # A grid emergency multiplies the regional price by 2.5 (severity 3): above
    # the threshold (2x the reference) the site is curtailed and credited.
    r = stack.post(f"/api/admin/worlds/{wid}/shock", {"kind": "event", "type": "grid_emergency",
                                                      "region": "quebec"}, headers=admin)
    assert r.status_code in (200, 201, 202), r.text
    row = stack.wait_for(lambda: (stack.sql(
        "SELECT tick, credit_uusd, hash_ghs, mined_sat, energy_uusd FROM mining_history WHERE "
        "company_id = %s AND credit_uusd > 0 ORDER BY tick LIMIT 1", (p.cid,)) or [None])[0],
        timeout=30, what="a curtailed tick")
    tick, credit, hash_ghs, sats, energy = row
    assert hash_ghs == 0 and sats == 0 and energy == 0
    # The credit is due until the company's next settlement (its turn, every
    # 100 ticks, accrued postings): at any tick, the credit entries plus what
    # is due add up to the credited history.
    paid, due, hist = stack.sql(
        "SELECT (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN ledger_accounts a "
        "ON a.id = e.credit_account WHERE a.company_id = %(c)s AND e.kind = 'mining.dr_credit'), "
        + due_sql("credit_uusd") + ", "
        "(SELECT coalesce(sum(credit_uusd), 0) FROM mining_history h JOIN worlds w ON "
        "w.id = h.world_id WHERE h.company_id = %(c)s AND h.tick <= w.tick)", {"c": p.cid})[0]
    assert paid + due == hist >= credit > 0


def test_a_company_that_cannot_pay_energy_is_throttled_never_negative(stack, mine_world):
    wid, _ = mine_world
    p = Player(stack, world=wid)
    p.wait_open()
    site = build_site(p, name="Broke")
    # 43 S21 Pro leave about 4,300 USD: a few game days of energy.
    add_rigs(p, site, "s21pro", 43)
    q = ("SELECT tick, throttle_ppm, uptime_ppm, energy_uusd, mined_sat FROM mining_history "
         "WHERE company_id = %s AND throttle_ppm < 1000000 ORDER BY tick LIMIT 1")
    row = stack.wait_for(lambda: (stack.sql(q, (p.cid,)) or [None])[0], timeout=60,
                         what="a throttled tick")
    tick, throttle, uptime, energy, _ = row
    assert uptime <= throttle < 1_000_000
    # It paid what it had that tick and not a micro-dollar more.
    before = stack.sql("SELECT coalesce(sum(energy_uusd), 0) FROM mining_history WHERE "
                       "company_id = %s AND tick < %s", (p.cid, tick))[0][0]
    bal, grant, build, rigs, paid, credit = books(stack, p.cid)
    cash = grant - build - rigs - before + credit  # what it had when that tick ran
    # The largest throttle it could pay: all its cash, to the cent (1e-6 of
    # a tick's full energy bill is far below a cent here).
    assert 0 <= cash - energy < 10_000
    assert bal >= 0 and bal == grant - build - rigs - paid + credit
    assert stack.sql("SELECT company_balance(%s, 'usd')", (p.cid,))[0][0] >= 0


def private_events(stack, p):
    """An open SSE connection on the player's private channel."""
    from test_realtime import SSE
    r = stack.post("/realtime/ticket", None, headers=p.h)
    assert r.status_code == 201, r.text
    return SSE(stack.url(r.json()["path"]), timeout=30)


def test_failures_outages_alerts_and_maintenance(stack, mine_world):
    wid, _ = mine_world
    p = Player(stack, world=wid)
    p.wait_open()
    site = build_site(p, region="kazakhstan", grid_tier=1, name="Old")
    sse = private_events(stack, p)
    try:
        rig = add_rigs(p, site, "s9", 125)  # old units, a day per tick: they fail
        seen = {}

        def until_alerts():
            ev = sse.next()
            if ev[0] == "alert":
                seen.setdefault(ev[2]["payload"]["code"], ev[2]["payload"])
            if ev[0] == "player:update" and "mining" in ev[2]["payload"]:
                seen.setdefault("update", ev[2]["payload"]["mining"])
            return {"rig_failure", "grid_outage", "update"} <= set(seen)
        stack.wait_for(until_alerts, timeout=60, interval=0, what="failure and outage alerts")
    finally:
        sse.close()
    f = seen["rig_failure"]
    assert (f["site_id"], f["rig_id"]) == (site, rig) and f["count"] >= 1 and f["level"] == "warning"
    o = seen["grid_outage"]
    assert (o["site_id"], o["region"], o["grid_tier"]) == (site, "kazakhstan", 1)
    u = seen["update"]
    assert set(u) >= {"hashrate_ghs", "mined_sat", "energy_paid_usd_micro", "uptime_ppm",
                      "failures"}
    # Outages on this tier-1 grid show as ticks without uptime in the history.
    stack.wait_for(lambda: stack.sql("SELECT count(*) FROM mining_history WHERE company_id = %s "
                                     "AND uptime_ppm = 0 AND hash_ghs = 0", (p.cid,))[0][0] > 0,
                   timeout=60, what="an outage tick")
    g = p.stack.get(f"/site/{site}/rigs", headers=p.h).json()["items"][0]
    assert g["failed"] >= 1 and g["wear_ppm"] > 0
    before_cash = p.balance()
    r = post(p, "/site/maintenance", {"site_id": site})
    out = applied(p, r)
    m = p.stack.get(f"/site/{site}/rigs", headers=p.h).json()["items"][0]
    assert m["maintenance_until_tick"] > out["applied_tick"]
    cost = stack.sql("SELECT amount FROM ledger_entries WHERE intent_id = %s AND kind = "
                     "'site.maintenance'", (r.json()["intent_id"],))[0][0]
    # 2 % of the price per rig serviced + 25 % per failed rig repaired
    # (mining_params): every rig that had failed before was repaired.
    service, repair = S9_PRICE * 2 // 100, S9_PRICE * 25 // 100
    assert (cost - 125 * service) % repair == 0
    assert (cost - 125 * service) // repair >= g["failed"]
    assert p.balance() <= before_cash - cost
    # 70 % of the wear removed: the new anchor is below the wear seen before.
    assert stack.sql("SELECT wear0_ppm FROM site_rigs WHERE id = %s", (rig,))[0][0] < g["wear_ppm"]


def test_replay_bit_for_bit_with_mining(stack, mine_world):
    wid, _ = mine_world
    players = [Player(stack, world=wid) for _ in range(2)]
    sites = []
    for p in players:
        p.wait_open()
        sites.append(build_site(p, region=random.choice(["texas", "norway", "paraguay"]),
                                grid_tier=2, name="R"))
    start = world_tick(stack, wid)
    n = 0
    while world_tick(stack, wid) < start + 60:
        i = n % 2
        p, site = players[i], sites[i]
        kind = n % 4
        if kind == 0:
            post(p, "/site/rig/add", {"site_id": site, "model": "s19", "count": 5})
        elif kind == 1:
            post(p, "/site/energy/contract", {"site_id": site, "kind": "fixed", "ticks": 20})
        elif kind == 2:
            post(p, "/site/maintenance", {"site_id": site})
        else:
            post(p, "/site/rig/add", {"site_id": site, "model": "s9", "count": 3})
        n += 1
        time.sleep(0.1)
    last = world_tick(stack, wid)
    assert stack.sql("SELECT count(*) FROM mining_history h JOIN companies c ON c.id = "
                     "h.company_id WHERE c.world_id = %s AND h.mined_sat > 0", (wid,))[0][0] > 0
    assert stack.sql("SELECT count(*) FROM intents WHERE world_id = %s AND applied_tick > %s "
                     "AND kind LIKE 'site.%%' AND status = 'applied'", (wid, start))[0][0] >= 4
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(last))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "every hash matches" in v.stdout
    full = stack.sql("SELECT max(tick) FROM tick_snapshots WHERE world_id = %s AND "
                     "full_state IS NOT NULL AND tick <= %s AND full_state::jsonb ? 'mining'",
                     (wid, start))[0][0]
    assert full is not None
    r = tickd(stack, "replay", "--world", str(wid), "--from", str(full), "--to", str(last))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"..{last} " in r.stdout
    # A restart loads the mining state from its tables (accrued uptime, wear
    # indexes, remainders, rigs, contracts): the ticks after it must still
    # equal a replay that never stopped.
    os.kill(tickd_pid(stack), signal.SIGKILL)
    stack.ctl("start", "tickd")
    stack.wait_for(lambda: world_tick(stack, wid) > last + 20, timeout=60, what="ticks after restart")
    after = world_tick(stack, wid)
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(after))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "every hash matches" in v.stdout


def test_admin_tunes_the_rig_catalog_live_at_one_tick_and_replays(stack, mine_world):
    """PATCH /api/admin/rigs/:id: a new price applies from one tick on in
    every world (logged with that tick), a model withdrawn from sale is
    refused, installed rigs keep running, and a replay across the change
    reproduces every state hash."""
    wid, admin = mine_world
    p = Player(stack, world=wid)
    p.wait_open()
    site = build_site(p, region="iceland", grid_tier=2, name="Catalog")
    model = next(m for m in stack.get("/rigs/catalog", headers=p.h).json()["models"]
                 if m["id"] == "s21")
    old = model["price_usd_micro"]
    start = world_tick(stack, wid)
    # Anyone but an admin, and every malformed body, is refused.
    r = stack.patch("/api/admin/rigs/s21", {"price_usd_micro": 1}, headers=p.h)
    assert r.status_code == 403, r.text
    for body, field in (({"price_usd_micro": -1}, "price_usd_micro"),
                        ({"price_usd_micro": "12"}, "price_usd_micro"),
                        ({"available": "no"}, "available"),
                        ({"colour": "red"}, "colour")):
        assert_problem(stack.patch("/api/admin/rigs/s21", body, headers=admin), 400, field=field)
    assert_problem(stack.patch("/api/admin/rigs/s21", {}, headers=admin), 400)
    assert_problem(stack.patch("/api/admin/rigs/nosuch", {"available": False}, headers=admin), 404)
    try:
        r = stack.patch("/api/admin/rigs/s21", {"price_usd_micro": old * 2}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["price_usd_micro"] == old * 2 and r.json()["available"] is True
        version = r.json()["catalog_version"]
        stack.wait_for(lambda: stack.sql("SELECT count(*) FROM catalog_applied WHERE world_id = "
                                         "%s AND version >= %s", (wid, version))[0][0] == 1,
                       timeout=30, what="the new catalog in the world")
        at = stack.sql("SELECT tick FROM catalog_applied WHERE world_id = %s AND version >= %s",
                       (wid, version))[0][0]
        assert at > start
        out = applied(p, post(p, "/site/rig/add", {"site_id": site, "model": "s21",
                                                    "count": 2}))
        paid = stack.sql("SELECT sum(amount) FROM ledger_entries WHERE intent_id = %s AND "
                         "kind = 'rig.buy'", (out["intent_id"],))[0][0]
        assert paid == 2 * old * 2
        # Withdrawn from sale while an order is queued: tickd refuses it
        # (the world is paused so that the order waits for the change).
        stack.sql("UPDATE worlds SET status = 'paused' WHERE id = %s", (wid,))
        try:
            queued = post(p, "/site/rig/add", {"site_id": site, "model": "s21", "count": 1})
            assert queued.status_code == 202, queued.text
            r = stack.patch("/api/admin/rigs/s21", {"available": False}, headers=admin)
            assert r.status_code == 200 and r.json()["available"] is False, r.text
        finally:
            stack.sql("UPDATE worlds SET status = 'running' WHERE id = %s", (wid,))
        out = p.outcome(queued.json()["intent_id"])
        assert out["status"] == "rejected" and out["reason"].startswith("retired_model:"), out
        # ... and the handler refuses a new one at once; installed rigs hash on.
        assert_problem(post(p, "/site/rig/add", {"site_id": site, "model": "s21", "count": 1}),
                       400)
        t = world_tick(stack, wid)
        stack.wait_for(lambda: stack.sql(
            "SELECT count(*) FROM mining_history WHERE company_id = %s AND tick > %s AND "
            "hash_ghs > 0", (p.cid, t + 1))[0][0] > 0, timeout=30, what="the rigs still hashing")
        # A change that lands while tickd is down: the restarted tickd runs
        # the catalog its last ticks ran with, then takes (and logs) the new
        # one at its first tick, so a replay across the restart still agrees.
        pid = tickd_pid(stack)
        os.kill(pid, signal.SIGSTOP)
        try:
            r = stack.patch("/api/admin/rigs/s21", {"price_usd_micro": old, "available": True},
                            headers=admin)
            assert r.status_code == 200, r.text
        finally:
            os.kill(pid, signal.SIGKILL)
        t = world_tick(stack, wid)
        stack.ctl("start", "tickd")
        stack.wait_for(lambda: world_tick(stack, wid) > t + 3, timeout=60,
                       what="ticks after the restart")
        assert stack.sql("SELECT count(*) FROM catalog_applied WHERE world_id = %s AND tick > %s",
                         (wid, t))[0][0] == 1
    finally:
        r = stack.patch("/api/admin/rigs/s21", {"price_usd_micro": old, "available": True},
                        headers=admin)
        assert r.status_code == 200, r.text
    last = world_tick(stack, wid)
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(last))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "every hash matches" in v.stdout
