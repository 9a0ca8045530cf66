"""The market end to end: order validation (one 400 field error per broken
rule), market orders filling inside the book with exact ledger movements,
resting limit orders filled when the price crosses, cancels, two players
crossing each other in one batch auction, perp PnL and funding signs, a
leveraged position liquidated by a price shock (alert, insurance-fund
entry, no negative balance), option cash settlement in and out of the
money, others' orders invisible and uncancellable, and replay/verify of a
trading session bit for bit (also across a tickd restart)."""
import os
import signal

import pytest

from conftest import assert_problem
from test_engine import GRANT, Player, new_world, tickd, tickd_pid, world_tick
from test_mining_engine import private_events, set_params

SATS = 100_000_000


def dec(s, scale):
    """A decimal string of the API as an integer at scale (exact)."""
    whole, _, frac = s.partition(".")
    neg = whole.startswith("-")
    v = int(whole.lstrip("-") or "0") * 10 ** scale + int((frac + "0" * scale)[:scale] or "0")
    return -v if neg else v


def usd(v):
    """micro-USD as an API decimal string."""
    s = f"{v // 1_000_000}.{v % 1_000_000:06d}".rstrip("0").rstrip(".")
    return s


def trade(p, body, key=None):
    h = dict(p.h)
    if key:
        h["Idempotency-Key"] = key
    return p.stack.post("/market/trade", body, headers=h)


def applied(p, r):
    assert r.status_code == 202, r.text
    out = p.outcome(r.json()["intent_id"], timeout=30)
    assert out["status"] == "applied", out
    return out


def orders(p, **q):
    r = p.stack.get("/market/orders", headers=p.h, params=q)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def order(p, oid):
    return next(o for o in orders(p) if o["order_id"] == oid)


def fills_of(p, oid):
    r = p.stack.get("/market/fills", headers=p.h)
    assert r.status_code == 200, r.text
    return [f for f in r.json()["items"] if f["order_id"] == oid]


def positions(p):
    r = p.stack.get("/market/positions", headers=p.h)
    assert r.status_code == 200, r.text
    return {x["instrument"]: x for x in r.json()["items"]}


def market_list(stack, wid):
    r = stack.get("/market/list", params={"world": wid})
    assert r.status_code == 200, r.text
    return r.json()


def instrument(stack, wid, name):
    return next(i for i in market_list(stack, wid)["instruments"] if i["instrument"] == name)


def fair(stack, wid):
    return stack.sql("SELECT fair FROM market_worlds WHERE world_id = %s", (wid,))[0][0]


def fair_at(stack, wid, tick):
    return stack.sql("SELECT price_uusd FROM world_ticks WHERE world_id = %s AND tick = %s",
                     (wid, tick))[0][0]


def on_tick(v, step):
    return v // step * step


def btc(p):
    rows = p.stack.sql("SELECT balance FROM ledger_accounts WHERE company_id = %s AND "
                       "currency = 'btc'", (p.cid,))
    return rows[0][0] if rows else None


def wait_market(stack, wid):
    stack.wait_for(lambda: stack.sql("SELECT count(*) FROM market_worlds WHERE world_id = %s",
                                     (wid,))[0][0] == 1, timeout=30, what="the market")


def shock(stack, wid, admin, pct_bp):
    r = stack.post(f"/api/admin/worlds/{wid}/shock", {"kind": "price", "pct_bp": pct_bp},
                   headers=admin)
    assert r.status_code in (200, 201, 202), r.text
    sid = r.json()["shock_id"]
    stack.wait_for(lambda: stack.sql("SELECT applied_tick FROM world_shocks WHERE id = %s",
                                     (sid,))[0][0] is not None, timeout=30, what="shock applied")
    return stack.sql("SELECT applied_tick FROM world_shocks WHERE id = %s", (sid,))[0][0]


def market_world(stack, params):
    """A world of its own ticking every 150 ms with these parameters and an
    open market: yields (world id, admin headers), then pauses it."""
    wid = new_world(stack, 150)
    admin = Player(stack, role="admin").h
    set_params(stack, wid, admin, params)
    wait_market(stack, wid)
    yield wid, admin
    stack.sql("UPDATE worlds SET status = 'paused' WHERE id = %s", (wid,))


@pytest.fixture(scope="module")
def mk_world(stack):
    """One game hour per tick."""
    yield from market_world(stack, {"game_seconds_per_tick": 3600})


# ---- validation -----------------------------------------------------------------------------

def test_each_broken_rule_is_its_own_field_error(stack):
    wait_market(stack, 1)
    p = Player(stack)
    p.wait_open()
    f = fair(stack, 1)
    mkt = {"instrument": "BTC-USD", "side": "buy", "type": "market", "qty": "0.01"}

    def bad(over, field, code=None, drop=()):
        body = {**mkt, **over}
        for k in drop:
            body.pop(k)
        b = assert_problem(trade(p, body), 400, field=field, type_="validation")
        if code:
            assert {"field": field, "code": code} in [
                {"field": e["field"], "code": e["code"]} for e in b["errors"]], b
        return b

    # Shape (the rule table tickd applies again): every field reported at once.
    b = bad({"qty": 0.01, "side": "hold"}, "qty", drop=("type",))
    assert {e["field"] for e in b["errors"]} == {"qty", "side", "type"}
    bad({"qty": "0.000000001"}, "qty", "precision")
    bad({"limit_price": "1.0000001", "type": "limit"}, "limit_price", "precision")
    bad({"reduce_only": "yes"}, "reduce_only")
    bad({"extra": 1}, "extra")
    # Market rules, each its own code.
    bad({"instrument": "BTC-EUR"}, "instrument", "unknown")
    bad({"qty": "0.000011"}, "qty", "step")
    bad({"qty": "0.00001"}, "qty", "too_small")
    bad({"qty": "11"}, "qty", "too_large")
    bad({"limit_price": "90000"}, "limit_price", "not_allowed")
    bad({"type": "limit"}, "limit_price", "required")
    bad({"type": "limit", "limit_price": usd(on_tick(f, 10_000) + 1000)}, "limit_price", "step")
    bad({"type": "limit", "limit_price": usd(on_tick(f // 2, 10_000))}, "limit_price", "band")
    bad({"time_in_force": "gtc"}, "time_in_force", "not_allowed")
    bad({"leverage": 5}, "leverage", "not_allowed")
    bad({"instrument": "BTC-PERP", "qty": "0.01", "leverage": 50}, "leverage", "range")
    bad({"reduce_only": True}, "reduce_only", "not_allowed")
    bad({"instrument": "BTC-PERP", "reduce_only": True}, "reduce_only", "no_position")
    # Worst case beyond the balance: 9 BTC at ~fair > the 250,000 USD grant;
    # selling BTC the company does not hold.
    bad({"qty": "9"}, "qty", "insufficient_funds")
    bad({"side": "sell"}, "qty", "insufficient_funds")
    # Nothing was queued by any of these.
    assert stack.sql("SELECT count(*) FROM intents WHERE company_id = %s AND kind LIKE "
                     "'market.%%'", (p.cid,))[0][0] == 0


# ---- spot -----------------------------------------------------------------------------------

def test_market_buy_fills_inside_the_book_and_moves_balances_exactly(stack):
    wait_market(stack, 1)
    p = Player(stack)
    assert p.wait_open() == GRANT
    r = trade(p, {"instrument": "BTC-USD", "side": "buy", "type": "market", "qty": "0.01"},
              key="buy-1")
    out = applied(p, r)
    oid = r.json()["intent_id"]
    # A retry with the same key is the same intent.
    again = trade(p, {"instrument": "BTC-USD", "side": "buy", "type": "market", "qty": "0.01"},
                  key="buy-1")
    assert again.status_code == 202 and again.json()["intent_id"] == oid
    o = order(p, oid)
    assert (o["status"], o["filled"], o["type"], o["time_in_force"]) == \
        ("filled", "0.01", "market", "ioc")
    (fl,) = fills_of(p, oid)
    price, fee = dec(fl["price"], 6), dec(fl["fee"], 6)
    assert fl["tick"] == out["applied_tick"]
    # The makers quote around the fair value of that tick: a 0.01 BTC buy
    # lifts the first ask level, above the fair value and within 1 % of it.
    f = fair_at(stack, 1, fl["tick"])
    assert f < price < f * 101 // 100
    notional = -(-1_000_000 * price // SATS)          # payer rounds up
    assert fee == -(-notional * 1000 // 1_000_000)     # 0.1 % spot fee, rounded up
    assert p.balance() == GRANT - notional - fee
    assert btc(p) == 1_000_000
    # The ledger says the same, entry by entry.
    rows = stack.sql(
        "SELECT e.kind, e.currency, sum(CASE WHEN c.company_id = %s THEN e.amount ELSE "
        "-e.amount END) FROM ledger_entries e JOIN ledger_accounts d ON d.id = e.debit_account "
        "JOIN ledger_accounts c ON c.id = e.credit_account WHERE (d.company_id = %s OR "
        "c.company_id = %s) AND e.kind LIKE 'market.%%' GROUP BY 1, 2", (p.cid, p.cid, p.cid))
    assert sorted(rows) == sorted([("market.trade", "usd", -notional),
                                   ("market.trade", "btc", 1_000_000),
                                   ("market.fee", "usd", -fee)])
    assert stack.sql("SELECT balance FROM ledger_accounts WHERE world_id = 1 AND system = "
                     "'market_fees' AND currency = 'usd'")[0][0] >= fee
    v = tickd(stack, "verify", "--world", "1", "--to", str(world_tick(stack, 1)))
    assert v.returncode == 0, v.stdout + v.stderr


def test_limit_order_rests_then_fills_when_the_price_crosses(stack, mk_world):
    wid, admin = mk_world
    p = Player(stack, world=wid)
    p.wait_open()
    limit = on_tick(fair(stack, wid) * 96 // 100, 10_000)
    r = trade(p, {"instrument": "BTC-USD", "side": "buy", "type": "limit", "qty": "0.05",
                  "limit_price": usd(limit)})
    applied(p, r)
    oid = r.json()["intent_id"]
    o = order(p, oid)
    assert (o["status"], o["filled"], o["time_in_force"]) == ("live", "0", "gtc")
    # It reserves the worst case (notional + fee at the limit): the cash
    # stays, the available balance shrinks.
    notional = -(-5_000_000 * limit // SATS)
    assert dec(o["reserved_usd"], 6) == notional - (-notional * 1000 // 1_000_000)
    assert p.balance() == GRANT
    shock(stack, wid, admin, -1000)
    stack.wait_for(lambda: order(p, oid)["status"] == "filled", timeout=30,
                   what="limit order filled")
    fl = fills_of(p, oid)
    assert sum(dec(x["qty"], 8) for x in fl) == 5_000_000
    assert all(dec(x["price"], 6) <= limit for x in fl)
    assert btc(p) == 5_000_000


def test_cancel_and_others_orders_are_invisible_and_uncancellable(stack, mk_world):
    wid, _ = mk_world
    p, q = Player(stack, world=wid), Player(stack, world=wid)
    p.wait_open()
    q.wait_open()
    limit = on_tick(fair(stack, wid) * 92 // 100, 10_000)
    r = trade(p, {"instrument": "BTC-USD", "side": "buy", "type": "limit", "qty": "0.01",
                  "limit_price": usd(limit)})
    applied(p, r)
    oid = r.json()["intent_id"]
    assert order(p, oid)["status"] == "live"
    # Another company sees nothing of it and cannot cancel it.
    assert all(o["order_id"] != oid for o in orders(q))
    assert_problem(q.stack.post("/market/cancel", {"order_id": oid}, headers=q.h), 404,
                   type_="not-found")
    assert_problem(p.stack.post("/market/cancel", {"order_id": 10**15}, headers=p.h), 404)
    assert_problem(p.stack.post("/market/cancel", {"order_id": "x"}, headers=p.h), 400,
                   field="order_id")
    c = p.stack.post("/market/cancel", {"order_id": oid}, headers=p.h)
    applied(p, c)
    o = order(p, oid)
    assert (o["status"], o["reason"], o["reserved_usd"]) == ("cancelled", "cancelled", "0")
    assert orders(p, status="live") == []
    # Cancelling it again: no longer a live order.
    assert_problem(p.stack.post("/market/cancel", {"order_id": oid}, headers=p.h), 404)


def test_two_players_cross_each_other_in_one_auction(stack, mk_world):
    wid, _ = mk_world
    a, b = Player(stack, world=wid), Player(stack, world=wid)
    a.wait_open()
    b.wait_open()
    applied(a, trade(a, {"instrument": "BTC-USD", "side": "buy", "type": "market",
                         "qty": "0.05"}))
    f = fair(stack, wid)
    lo, hi = on_tick(f * 98 // 100, 10_000), on_tick(f * 102 // 100, 10_000)
    # Both orders reach the same tick: the world waits while they are sent.
    stack.sql("UPDATE worlds SET status = 'paused' WHERE id = %s", (wid,))
    try:
        rs = trade(a, {"instrument": "BTC-USD", "side": "sell", "type": "limit", "qty": "0.05",
                       "limit_price": usd(lo)})
        rb = trade(b, {"instrument": "BTC-USD", "side": "buy", "type": "limit", "qty": "0.05",
                       "limit_price": usd(hi)})
        assert rs.status_code == 202 and rb.status_code == 202, (rs.text, rb.text)
    finally:
        stack.sql("UPDATE worlds SET status = 'running' WHERE id = %s", (wid,))
    ts, tb = applied(a, rs)["applied_tick"], applied(b, rb)["applied_tick"]
    assert ts == tb
    (fs,), (fb,) = fills_of(a, rs.json()["intent_id"]), fills_of(b, rb.json()["intent_id"])
    # One uniform price for both, strictly between the two limits, the
    # whole quantity: the makers' quotes (either side of the fair value) do
    # not reach a price both players improve on.
    assert fs["price"] == fb["price"] and fs["tick"] == fb["tick"] == ts
    assert lo < dec(fs["price"], 6) < hi
    assert fs["qty"] == fb["qty"] == "0.05"
    assert btc(b) == 5_000_000 and btc(a) == 0
    # The list's change is the last price against the one 24 game hours
    # ago (a game hour per tick here), once an hour has opened at a price.
    stack.wait_for(lambda: instrument(stack, wid, "BTC-USD")["open_24h"] is not None,
                   timeout=30, what="a 24 h open in the list")
    i = instrument(stack, wid, "BTC-USD")
    o, last = dec(i["open_24h"], 6), dec(i["last"], 6)
    q = abs(last - o) * 1_000_000 // o
    assert i["change_ppm"] == (q if last >= o else -q)
    assert dec(i["volume"], 8) > 0


# ---- perpetual ------------------------------------------------------------------------------

def test_perp_pnl_and_funding_signs(stack, mk_world):
    wid, admin = mk_world
    lg, sh = Player(stack, world=wid), Player(stack, world=wid)
    lg.wait_open()
    sh.wait_open()
    # Both positions open in the same tick (the world waits while the two
    # orders are sent), so every funding payment reaches both.
    stack.sql("UPDATE worlds SET status = 'paused' WHERE id = %s", (wid,))
    try:
        rl = trade(lg, {"instrument": "BTC-PERP", "side": "buy", "type": "market",
                        "qty": "0.5", "leverage": 5})
        rs = trade(sh, {"instrument": "BTC-PERP", "side": "sell", "type": "market",
                        "qty": "0.5", "leverage": 5})
    finally:
        stack.sql("UPDATE worlds SET status = 'running' WHERE id = %s", (wid,))
    assert applied(lg, rl)["applied_tick"] == applied(sh, rs)["applied_tick"]
    pl, ps = positions(lg)["BTC-PERP"], positions(sh)["BTC-PERP"]
    assert (pl["qty"], ps["qty"], pl["leverage"]) == ("0.5", "-0.5", 5)
    # Isolated margin = notional at the mark / leverage, held by clearing.
    assert dec(pl["margin"], 6) > 0 and lg.balance() < GRANT - dec(pl["margin"], 6) + 1
    # Funding every 8 game hours (8 ticks here): longs pay shorts when the
    # rate is positive, receive when negative; the two sides mirror.
    # The first payment and the rate it applied, read in one snapshot (the
    # tick writes both; the next payment is 8 ticks away).
    q = ("SELECT (SELECT funding FROM market_positions WHERE world_id = %s AND account = %s "
         "AND instr_id = 2), (SELECT funding FROM market_positions WHERE world_id = %s AND "
         "account = %s AND instr_id = 2), funding_rate_ppm FROM market_worlds WHERE world_id = %s")
    seen = []

    def paid():
        seen[:] = stack.sql(q, (wid, lg.cid, wid, sh.cid, wid))[0]
        return seen[0] != 0
    stack.wait_for(paid, timeout=60, interval=0.02, what="a funding payment")
    fl, fs, rate = seen
    assert rate != 0 and fs != 0
    assert (fl < 0) == (rate > 0) and (fs > 0) == (rate > 0)
    assert abs(fl + fs) <= 1  # the two sides mirror (up to the rounding of one side)
    assert positions(lg)["BTC-PERP"]["funding"] != "0"
    # A +10 % move: the long closes at a profit, the short at a loss.
    shock(stack, wid, admin, 1000)
    cl = trade(lg, {"instrument": "BTC-PERP", "side": "sell", "type": "market", "qty": "0.5",
                    "reduce_only": True})
    cs = trade(sh, {"instrument": "BTC-PERP", "side": "buy", "type": "market", "qty": "0.5",
                    "reduce_only": True})
    applied(lg, cl)
    applied(sh, cs)
    (xl,), (xs,) = fills_of(lg, cl.json()["intent_id"]), fills_of(sh, cs.json()["intent_id"])
    assert dec(xl["realized_pnl"], 6) > 0 > dec(xs["realized_pnl"], 6)
    assert "BTC-PERP" not in positions(lg) and "BTC-PERP" not in positions(sh)
    assert lg.balance() > GRANT > sh.balance() >= 0


def test_leveraged_position_is_liquidated_by_a_price_shock(stack, mk_world):
    wid, admin = mk_world
    p = Player(stack, world=wid)
    p.wait_open()
    sse = private_events(stack, p)
    seen = {}
    try:
        applied(p, trade(p, {"instrument": "BTC-PERP", "side": "buy", "type": "market",
                             "qty": "1", "leverage": 20}))
        margin = dec(positions(p)["BTC-PERP"]["margin"], 6)
        assert margin > 0
        t = shock(stack, wid, admin, -2000)

        def until_liquidated():
            ev = sse.next()
            if ev[0] == "alert":
                seen.setdefault(ev[2]["payload"]["code"], ev[2]["payload"])
            return "liquidated" in seen
        stack.wait_for(until_liquidated, timeout=60, interval=0, what="the liquidation alert")
    finally:
        sse.close()
    a = seen["liquidated"]
    assert a["level"] == "critical" and a["instrument"] == "BTC-PERP" and a["qty"] == "1"
    assert "BTC-PERP" not in positions(p)
    # A 20 % fall wipes out a 5 % margin: the insurance fund takes the
    # position over at the bankruptcy price and covers the shortfall.
    assert stack.sql("SELECT count(*) FROM ledger_entries WHERE world_id = %s AND tick >= %s "
                     "AND kind = 'market.insurance'", (wid, t))[0][0] > 0
    assert p.balance() >= 0 and p.balance() <= GRANT - margin
    assert stack.sql("SELECT count(*) FROM ledger_accounts WHERE world_id = %s AND "
                     "company_id IS NOT NULL AND balance < 0", (wid,))[0][0] == 0


@pytest.fixture(scope="module")
def calm_world(stack):
    """A world whose price moves only when an admin shocks it: one game
    second per tick, the lowest volatility, no jumps and no events."""
    yield from market_world(stack, {"game_seconds_per_tick": 1, "price_vol_bp": 500,
                                    "jumps_per_year": 0, "event_rate_pct": 0})


def test_margin_call_alert_comes_before_the_liquidation(stack, calm_world):
    wid, admin = calm_world
    p = Player(stack, world=wid)
    p.wait_open()
    sse = private_events(stack, p)
    seen = []

    def until(code):
        def check():
            ev = sse.next()
            if ev[0] == "alert":
                seen.append(ev[2]["payload"])
            return any(a["code"] == code for a in seen)
        stack.wait_for(check, timeout=60, interval=0, what=f"the {code} alert")
        return next(a for a in seen if a["code"] == code)

    try:
        applied(p, trade(p, {"instrument": "BTC-PERP", "side": "buy", "type": "market",
                             "qty": "1", "leverage": 20}))
        # The list's volume covers the last 24 game hours (the world's first
        # trade is in it); a change needs a price from an earlier game hour.
        stack.wait_for(lambda: dec(instrument(stack, wid, "BTC-PERP")["volume"], 8) >= SATS,
                       timeout=30, what="the trade in the list's volume")
        listed = instrument(stack, wid, "BTC-PERP")
        assert (listed["open_24h"] is None) == (listed["change_ppm"] is None)
        pos = positions(p)["BTC-PERP"]
        entry, margin = dec(pos["entry_price"], 6), dec(pos["margin"], 6)
        # 1 BTC long: equity = margin + mark - entry; maintenance 0.5 % of
        # the mark, margin call under 1.5x that.  Aim the shock at equity =
        # 0.625 % of the mark, the middle of the margin-call band.
        target = (entry - margin) / (1 - 0.00625)
        bp = round((target / fair(stack, wid) - 1) * 10000)
        assert -480 < bp < -380, bp
        shock(stack, wid, admin, bp)
        call = until("margin_call")
        assert call["level"] == "warning" and call["instrument"] == "BTC-PERP"
        assert call["qty"] == "1"
        assert call["maintenance_usd_micro"] <= call["equity_usd_micro"] \
            < call["maintenance_usd_micro"] * 3 // 2
        pos = positions(p)["BTC-PERP"]  # warned, still open
        assert pos["margin_called"] is True and dec(pos["qty"], 8) == 100_000_000
        shock(stack, wid, admin, -500)
        liq = until("liquidated")
    finally:
        sse.close()
    assert liq["level"] == "critical" and liq["instrument"] == "BTC-PERP"
    codes = [a["code"] for a in seen]
    assert codes.index("margin_call") < codes.index("liquidated")
    assert codes.count("margin_call") == 1  # once per fall under the threshold
    assert "BTC-PERP" not in positions(p)
    assert p.balance() >= 0


# ---- options --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def opt_world(stack):
    """A game day per tick: weekly option series expire within seconds."""
    for wid, _ in market_world(stack, {"game_seconds_per_tick": 86400}):
        yield wid


def test_options_settle_in_cash_in_and_out_of_the_money(stack, opt_world):
    wid = opt_world
    p = Player(stack, world=wid)
    p.wait_open()
    opts = [i for i in market_list(stack, wid)["instruments"] if i["kind"] == "option"]
    first = min(i["expiry_s"] for i in opts)
    series = [i for i in opts if i["expiry_s"] == first and i["option_type"] == "call"]
    f = fair(stack, wid)
    itm = min(series, key=lambda i: dec(i["strike"], 6))   # deepest in the money
    otm = max(series, key=lambda i: dec(i["strike"], 6))   # furthest out
    assert dec(itm["strike"], 6) < f < dec(otm["strike"], 6)
    got = {}
    for ins in (itm, otm):
        r = trade(p, {"instrument": ins["instrument"], "side": "buy", "type": "market",
                      "qty": "0.1"})
        out = p.outcome(r.json()["intent_id"], timeout=30)
        if out["status"] == "applied" and fills_of(p, r.json()["intent_id"]):
            got[ins["instrument"]] = ins
    assert set(got) == {itm["instrument"], otm["instrument"]}, got
    stack.wait_for(lambda: stack.sql("SELECT NOT listed FROM market_instruments WHERE "
                                     "world_id = %s AND name = %s", (wid, itm["instrument"]))[0][0],
                   timeout=60, what="expiry")
    settled = stack.sql(
        "SELECT e.tick, e.currency, e.amount FROM ledger_entries e JOIN ledger_accounts c ON "
        "c.id = e.credit_account WHERE c.company_id = %s AND e.kind = 'market.settlement'",
        (p.cid,))
    assert len(settled) == 1, settled   # the in-the-money call only
    tick, cur, amount = settled[0]
    s = fair_at(stack, wid, tick)
    # Cash settlement against the fair value: calls pay (S - K) x 0.1 BTC
    # worth of BTC (the call writers' collateral currency), receiver rounds down.
    assert cur == "btc"
    assert amount == (s - dec(itm["strike"], 6)) * 10_000_000 // s
    assert not positions(p)


# ---- replay ---------------------------------------------------------------------------------

def test_trading_session_replays_bit_for_bit_also_across_a_restart(stack, mk_world):
    wid, _ = mk_world
    ps = [Player(stack, world=wid) for _ in range(2)]
    for p in ps:
        p.wait_open()
    start = world_tick(stack, wid)
    f = fair(stack, wid)
    bodies = [
        {"instrument": "BTC-USD", "side": "buy", "type": "market", "qty": "0.02"},
        {"instrument": "BTC-PERP", "side": "buy", "type": "market", "qty": "0.2", "leverage": 3},
        {"instrument": "BTC-USD", "side": "buy", "type": "limit", "qty": "0.01",
         "limit_price": usd(on_tick(f * 97 // 100, 10_000))},
        {"instrument": "BTC-PERP", "side": "sell", "type": "limit", "qty": "0.1",
         "limit_price": usd(on_tick(f * 103 // 100, 100_000))},
    ]
    ids = []
    for n, body in enumerate(bodies * 2):
        p = ps[(n + n // 4) % 2]  # the second round swaps players: no self-trade
        r = trade(p, body)
        assert r.status_code == 202, r.text
        ids.append((p, r.json()["intent_id"]))
    for p, i in ids:
        p.outcome(i, timeout=30)
    assert stack.sql("SELECT count(*) FROM market_fills WHERE world_id = %s AND tick > %s",
                     (wid, start))[0][0] >= 4
    # The reads page with a cursor, newest first, without overlap.
    p = ps[0]
    every = [o["order_id"] for o in orders(p, limit=200)]
    # (one of them may be refused as a self-trade when it shares a tick with
    # the same player's market order: the applied trades are the orders)
    accepted = [i for (i,) in stack.sql("SELECT id FROM intents WHERE company_id = %s AND "
                                        "kind = 'market.trade' AND status = 'applied' ORDER BY "
                                        "id DESC", (p.cid,))]
    assert every == accepted and len(every) >= 3
    n = len(every) - 1
    first = p.stack.get("/market/orders", headers=p.h, params={"limit": n}).json()
    assert [o["order_id"] for o in first["items"]] == every[:n]
    assert first["next_cursor"] == every[n - 1]
    rest = p.stack.get("/market/orders", headers=p.h,
                       params={"limit": n, "cursor": first["next_cursor"]}).json()
    assert [o["order_id"] for o in rest["items"]] == every[n:] and rest["next_cursor"] is None
    assert_problem(p.stack.get("/market/orders", headers=p.h, params={"limit": 0}), 400,
                   field="limit")
    assert_problem(p.stack.get("/market/fills", headers=p.h, params={"status": "live"}), 400,
                   field="status")
    last = world_tick(stack, wid)
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(last))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "every hash matches" in v.stdout
    # A restart rebuilds the market from its tables (live orders, positions,
    # accounts, statistics): the ticks after it still equal a replay that
    # never stopped.
    os.kill(tickd_pid(stack), signal.SIGKILL)
    stack.ctl("start", "tickd")
    stack.wait_for(lambda: world_tick(stack, wid) > last + 10, timeout=60,
                   what="ticks after restart")
    after = world_tick(stack, wid)
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(after))
    assert v.returncode == 0, v.stdout + v.stderr
    assert "every hash matches" in v.stdout


# ---- mining income on the market ----------------------------------------------------------

def test_mined_btc_not_yet_in_the_ledger_entries_can_be_sold_exactly(stack, mk_world):
    """Mining results reach ledger_entries aggregated every 100 ticks (accrued
    postings, 0011, 0022).  Selling freshly mined BTC settles the company's
    unsettled rewards in the same tick: the sale fills, no balance goes
    negative, each account's balance is the sum of its entries, and
    company_balance() (what every reader uses) adds exactly the rest."""
    from test_mining_engine import add_rigs, books_exact, build_site
    wid, _ = mk_world
    p = Player(stack, world=wid)
    p.wait_open()
    add_rigs(p, build_site(p), "s21", 20)

    def mined():
        total, settled = stack.sql(
            "SELECT company_balance(%s, 'btc'), balance FROM ledger_accounts WHERE "
            "company_id = %s AND currency = 'btc'", (p.cid, p.cid))[0]
        return total >= 30_000 and total > settled
    stack.wait_for(mined, timeout=60, what="mined BTC, part of it not settled yet")
    r = trade(p, {"instrument": "BTC-USD", "side": "sell", "type": "market", "qty": "0.0002"})
    out = applied(p, r)
    (fl,) = fills_of(p, r.json()["intent_id"])
    assert (fl["side"], fl["qty"], fl["tick"]) == ("sell", "0.0002", out["applied_tick"])
    # The rewards were settled by the tick that applied the sale.
    assert stack.sql(
        "SELECT count(*) FROM ledger_entries e JOIN ledger_accounts c ON c.id = "
        "e.credit_account WHERE c.company_id = %s AND e.kind = 'mining.reward' AND "
        "e.tick = %s", (p.cid, out["applied_tick"]))[0][0] == 1
    # Settled out of turn: what is due now (mining_due, 0022) is the reward
    # mined since the company's last settlement (that tick, or a turn since).
    due, since = stack.sql(
        "WITH s AS (SELECT max(e.tick) AS t FROM ledger_entries e JOIN ledger_accounts c ON "
        "c.id = e.credit_account WHERE c.company_id = %(c)s AND e.kind = 'mining.reward') "
        "SELECT (SELECT coalesce(d.mined_sat[%(c)s %% mining_bucket_size() + 1], 0) FROM "
        "mining_due d WHERE d.world_id = %(w)s AND d.bucket = %(c)s / mining_bucket_size()), "
        "(SELECT coalesce(sum(h.mined_sat), 0) FROM mining_history h JOIN worlds w ON "
        "w.id = h.world_id, s WHERE h.company_id = %(c)s AND h.tick > s.t AND h.tick <= w.tick)",
        {"c": p.cid, "w": wid})[0]
    assert (due or 0) == since
    books_exact(stack, p.cid)   # one snapshot, while the world keeps ticking
    v = tickd(stack, "verify", "--world", str(wid), "--to", str(world_tick(stack, wid)))
    assert v.returncode == 0, v.stdout + v.stderr
