"""Realtime: the public and private live channels over SSE, WebSocket and
long-poll, subscribe tickets and the authorizer, resume with Last-Event-ID,
the publisher's isolation and limits, and multi-node fan-out through Redis.

Messages on private channels are published straight to the loopback
publisher here; the engine publishes real player:update messages."""
import hashlib
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time

import pytest
import requests
import websocket

from conftest import ROOT, assert_problem, decode, free_ports, sse_events
from test_foundation import admin_token


# ---- helpers ---------------------------------------------------------------

def publish(pub_base, channel, msg, event=None):
    body = json.dumps(msg)
    # A node's workers connect to Redis one by one after start-up: 503 until then.
    for _ in range(100):
        r = requests.post(f"{pub_base}/pub/{channel}", data=body, timeout=5,
                          headers={"Content-Type": "application/json", "Accept": "text/json",
                                   "X-EventSource-Event": event or msg["type"]})
        if r.status_code != 503:
            break
        time.sleep(0.05)
    assert r.status_code in (201, 202), (r.status_code, r.text)
    return r


def player(stack, world=1):
    """A player with a company; returns (token, user id, company id)."""
    tok, uid = admin_token(stack, role="player")
    cid = stack.sql("INSERT INTO companies (user_id, world_id, name, region) "
                    "VALUES (%s, %s, %s, 'texas') RETURNING id",
                    (uid, world, f"Co{uid}x{time.monotonic_ns() % 100000}"))[0][0]
    tok, _ = reissue(stack, uid, "player", cid)
    return tok, uid, cid


def reissue(stack, uid, role, cid):
    import jwt
    with open(os.path.join(stack.var, "secrets", "jwt.key"), "rb") as f:
        key = f.read().strip()
    now = int(time.time())
    claims = {"sub": str(uid), "role": role, "cid": cid, "wid": 1, "gst": False, "iat": now,
              "exp": now + 300, "jti": "t", "iss": "bitcoin-tycoon", "aud": "bitcoin-tycoon-api"}
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": "k1"}), uid


def ticket(stack, tok, body=None, status=201):
    r = stack.post("/realtime/ticket", body, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


class SSE:
    """An open SSE connection read event by event."""

    def __init__(self, url, headers=None, timeout=10):
        h = {"Accept": "text/event-stream"}
        h.update(headers or {})
        # 503: this nginx worker is not connected to Redis yet (Redis mode,
        # just started); a client retries.  The authorizer ran first, so a
        # private URL is passed as a callable that fetches a fresh ticket.
        for _ in range(100):
            self.resp = requests.get(url() if callable(url) else url, headers=h, stream=True,
                                     timeout=timeout)
            if self.resp.status_code != 503:
                break
            self.resp.close()
            time.sleep(0.05)
        self.status = self.resp.status_code
        self.lines = self.resp.iter_lines(chunk_size=1, decode_unicode=True) if self.status == 200 else None

    def next(self):
        """Returns the next (event, id, data-as-json)."""
        cur = {}
        for raw in self.lines:
            if raw == "":
                if "data" in cur:
                    return cur.get("event", "message"), cur.get("id"), json.loads(cur["data"])
                cur = {}
                continue
            if raw.startswith(":"):
                continue
            key, _, value = raw.partition(":")
            cur[key] = value[1:] if value.startswith(" ") else value
        raise AssertionError("stream ended")

    def until(self, pred, limit=50):
        for _ in range(limit):
            ev = self.next()
            if pred(ev):
                return ev
        raise AssertionError("expected event not seen")

    def close(self):
        self.resp.close()


def fresh_world():
    """A public world channel that only this test publishes to."""
    return 900000000 + secrets.randbelow(99999999)


def wait_subscribers(stack, pub_base, channel, n):
    """Waits until the publisher sees n subscribers on channel (in Redis mode
    a subscriber joins asynchronously)."""
    def count():
        r = requests.get(f"{pub_base}/pub/{channel}", headers={"Accept": "text/json"}, timeout=5)
        return r.status_code == 200 and r.json()["subscribers"] >= n
    stack.wait_for(count, timeout=10, interval=0.05, what=f"{n} subscribers on {channel}")


# ---- public channel: transports ----------------------------------------------

def test_websocket_receives_consecutive_ticks(stack):
    ws = websocket.create_connection(stack.base.replace("http://", "ws://") + "/live/world/1",
                                     timeout=10)
    try:
        m1 = json.loads(ws.recv())
        m2 = json.loads(ws.recv())
    finally:
        ws.close()
    assert m1["type"] == m2["type"] == "tick:update"
    assert m1["world"] == m2["world"] == 1
    assert m2["tick"] == m1["tick"] + 1


def test_longpoll_walks_the_channel(stack):
    url = stack.url("/live/world/1")
    r1 = requests.get(url, timeout=10)
    assert r1.status_code == 200, r1.text
    m1 = r1.json()
    r2 = requests.get(url, timeout=10, headers={"If-Modified-Since": r1.headers["Last-Modified"],
                                                "If-None-Match": r1.headers["Etag"]})
    assert r2.status_code == 200, r2.text
    m2 = r2.json()
    assert m1["type"] == m2["type"] == "tick:update"
    assert m2["tick"] == m1["tick"] + 1


def test_sse_event_field_carries_the_type(stack):
    events = decode(sse_events(stack.url("/live/world/1"), 2, timeout=10))
    assert [e for e, _, _ in events] == ["tick:update", "tick:update"]
    assert events[1][2]["tick"] == events[0][2]["tick"] + 1


# ---- publishing ----------------------------------------------------------------

def test_publishing_through_the_public_port_is_refused(stack):
    for path in ("/pub/world.1", "/pub/company.1"):
        r = stack.post(path, {"type": "tick:update"})
        assert_problem(r, 403, type_="forbidden")


def test_publisher_refuses_oversized_messages(stack):
    pub = f"http://127.0.0.1:{stack.pub_port}"
    r = requests.post(f"{pub}/pub/world.{fresh_world()}", data=b"x" * (65 * 1024), timeout=5)
    assert r.status_code == 413


def test_resume_with_last_event_id_delivers_exactly_the_missed_messages(stack):
    pub = f"http://127.0.0.1:{stack.pub_port}"
    w = fresh_world()
    url = stack.url(f"/live/world/{w}")

    def msg(i):
        return {"type": "tick:update", "world": w, "tick": i, "ts": "t", "payload": {"tick": i}}

    s = SSE(url)
    assert s.status == 200
    publish(pub, f"world.{w}", msg(1))
    ev, id1, m = s.next()
    assert (ev, m["tick"]) == ("tick:update", 1)
    s.close()
    for i in (2, 3, 4):  # missed while disconnected
        publish(pub, f"world.{w}", msg(i))
    s = SSE(url, headers={"Last-Event-ID": id1})
    got = [s.next()[2]["tick"] for _ in range(3)]
    publish(pub, f"world.{w}", msg(5))
    got.append(s.next()[2]["tick"])
    s.close()
    assert got == [2, 3, 4, 5]


# ---- private channel: tickets and the authorizer ---------------------------------

def test_owner_receives_company_messages_and_ticks_in_one_connection(stack):
    tok, uid, cid = player(stack)
    t = ticket(stack, tok)
    assert t["channels"] == ["world.1", f"company.{cid}"]
    assert t["ticket"].startswith(f"{uid}.") and t["expires_in"] > 0
    s = SSE(stack.url(t["path"]))
    assert s.status == 200
    ev1 = s.until(lambda e: e[0] == "tick:update")
    publish(f"http://127.0.0.1:{stack.pub_port}", f"company.{cid}",
            {"type": "player:update", "world": 1, "tick": ev1[2]["tick"], "ts": "t",
             "payload": {"company": cid, "marker": "owner-only"}})
    # tickd's own player:update (company.open) may arrive first: wait for ours.
    ev = s.until(lambda e: e[0] == "player:update" and "marker" in e[2]["payload"])
    assert ev[2]["payload"] == {"company": cid, "marker": "owner-only"}
    ticks = [s.until(lambda e: e[0] == "tick:update")[2]["tick"] for _ in range(2)]
    assert ticks[1] == ticks[0] + 1
    s.close()


def test_a_player_never_sees_another_players_messages(stack):
    pub = f"http://127.0.0.1:{stack.pub_port}"
    _, _, cid_a = player(stack)
    tok_b, _, cid_b = player(stack)
    s = SSE(stack.url(ticket(stack, tok_b)["path"]))
    assert s.status == 200
    wait_subscribers(stack, pub, f"company.{cid_b}", 1)
    publish(pub, f"company.{cid_a}", {"type": "player:update", "world": 1, "tick": 0, "ts": "t",
                                      "payload": {"company": cid_a, "marker": "a"}})
    publish(pub, f"company.{cid_b}", {"type": "player:update", "world": 1, "tick": 0, "ts": "t",
                                      "payload": {"company": cid_b, "marker": "b"}})
    # Messages arrive in publish order: A's would come before B's marker if
    # it leaked.  tickd's own player:update for B (company.open) may be
    # interleaved; every player:update seen must be B's.
    seen = []
    s.until(lambda e: e[0] == "player:update" and
            (seen.append(e[2]["payload"]) or e[2]["payload"].get("marker") == "b"))
    assert seen and all(p.get("company", p.get("company_id")) == cid_b for p in seen), seen
    s.close()


def test_player_update_follows_an_applied_intent_and_reaches_only_its_owner(stack):
    """End to end: a real intent, applied by tickd, announced on the owner's
    private channel with its outcome and new balances; another subscribed
    player receives nothing about it."""
    tok_a, _, cid_a = player(stack)
    tok_b, _, cid_b = player(stack)
    ha = {"Authorization": f"Bearer {tok_a}"}
    # Wait until A's company is open (its grant is on the ledger).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bal = stack.get("/player/me", headers=ha).json().get("private", {}).get("balances")
        if bal and bal["usd_micro"] > 0:
            break
        time.sleep(0.2)
    sa = SSE(stack.url(ticket(stack, tok_a)["path"]))
    sb = SSE(stack.url(ticket(stack, tok_b)["path"]))
    r = stack.post("/site/create", headers=ha,
                   json={"region": "iceland", "grid_tier": 1, "cooling_type": "air",
                         "name": "Live"})
    assert r.status_code == 202, r.text
    iid = r.json()["intent_id"]

    def has_intent(e):
        return e[0] == "player:update" and any(
            i["intent_id"] == iid for i in e[2]["payload"].get("intents", []))
    ev = sa.until(has_intent)
    msg = ev[2]
    assert msg["type"] == "player:update" and msg["world"] == 1 and msg["tick"] > 0
    payload = msg["payload"]
    assert payload["company_id"] == cid_a
    [out] = [i for i in payload["intents"] if i["intent_id"] == iid]
    assert out == {"intent_id": iid, "kind": "site.create", "status": "applied"}
    assert payload["sites"] == 1
    assert payload["balances"]["usd_micro"] == stack.get(
        "/player/me", headers=ha).json()["private"]["balances"]["usd_micro"]
    # B's stream: ticks go on, and no player:update of B mentions A's intent.
    tick = msg["tick"]
    seen = []
    for _ in range(50):
        seen.append(sb.next())
        if seen[-1][0] == "tick:update" and seen[-1][2]["tick"] >= tick + 1:
            break
    assert seen[-1][0] == "tick:update" and seen[-1][2]["tick"] >= tick + 1
    for e in seen:
        if e[0] == "player:update":
            assert e[2]["payload"].get("company_id") == cid_b
            assert not any(i["intent_id"] == iid for i in e[2]["payload"].get("intents", []))
    sa.close()
    sb.close()


def test_player_update_goes_only_to_companies_with_a_live_subscriber(stack):
    """tickd publishes a company's player:update only while one of its
    players subscribed recently (lib/presence.h): nothing is built or sent
    for a company nobody listens to."""
    tok, _, cid = player(stack)
    h = {"Authorization": f"Bearer {tok}"}
    pub = f"http://127.0.0.1:{stack.pub_port}"

    def opened(h):
        stack.wait_for(lambda: (stack.get("/player/me", headers=h).json().get("private", {})
                                .get("balances") or {}).get("usd_micro", 0) > 0,
                       timeout=30, what="the company open")

    def site(h, name):
        r = stack.post("/site/create", headers=h, json={"region": "norway", "grid_tier": 2,
                                                        "cooling_type": "air", "name": name})
        assert r.status_code == 202, r.text
        iid = r.json()["intent_id"]
        stack.wait_for(lambda: stack.get(f"/intents/{iid}", headers=h).json()["status"]
                       == "applied", timeout=30, what=f"intent {iid} applied")
        return iid

    def messages(cid):
        r = requests.get(f"{pub}/pub/company.{cid}", headers={"Accept": "text/json"}, timeout=5)
        return 0 if r.status_code == 404 else r.json()["messages"]

    # Presence is older than BT_LIVE_PRESENCE (as on a server that has run
    # for a while): only subscribed companies are published to.
    stack.redis_cli("SET", "bt:live:presence:since", "0")
    opened(h)
    site(h, "Unwatched")
    tick = stack.sql("SELECT tick FROM worlds WHERE id = 1")[0][0]
    stack.wait_for(lambda: stack.sql("SELECT tick FROM worlds WHERE id = 1")[0][0] > tick + 1,
                   timeout=30, what="two more ticks")
    assert messages(cid) == 0
    assert stack.redis_cli("ZSCORE", "bt:live:online:1", str(cid)) == ""

    sse = SSE(stack.url(ticket(stack, tok)["path"]))
    try:
        iid = stack.post("/site/create", headers=h,
                         json={"region": "norway", "grid_tier": 2, "cooling_type": "air",
                               "name": "Watched"}).json()["intent_id"]
        ev = sse.until(lambda e: e[0] == "player:update" and any(
            i["intent_id"] == iid for i in e[2]["payload"].get("intents", [])))
        assert ev[2]["payload"]["company_id"] == cid
    finally:
        sse.close()
    until = float(stack.redis_cli("ZSCORE", "bt:live:online:1", str(cid)))
    assert until > time.time() * 1000  # present for a while after the subscribe

    # A Redis that lost its data lost presence with it: players connected
    # before are in no set until they reconnect, so for BT_LIVE_PRESENCE
    # every company is published to again.
    tok2, _, cid2 = player(stack)
    h2 = {"Authorization": f"Bearer {tok2}"}
    opened(h2)
    stack.redis_cli("DEL", "bt:live:presence:since", "bt:live:online:1")
    site(h2, "Unwatched after a flush")
    stack.wait_for(lambda: messages(cid2) > 0, timeout=30, what="a message to an unwatched company")


def test_websocket_with_ticket_receives_the_company_channel(stack):
    tok, _, cid = player(stack)
    t = ticket(stack, tok)
    ws = websocket.create_connection(t["websocket"], timeout=10)
    try:
        publish(f"http://127.0.0.1:{stack.pub_port}", f"company.{cid}",
                {"type": "alert", "world": 1, "tick": 0, "ts": "t", "payload": {"k": "margin"}})
        for _ in range(20):
            m = json.loads(ws.recv())
            if m["type"] == "alert":
                break
        assert m["payload"] == {"k": "margin"}
    finally:
        ws.close()


def test_other_players_company_is_forbidden(stack):
    tok_a, _, cid_a = player(stack)
    tok_b, _, cid_b = player(stack)
    # B cannot obtain a ticket for A's company ...
    r = stack.post("/realtime/ticket", {"company": cid_a},
                   headers={"Authorization": f"Bearer {tok_b}"})
    assert_problem(r, 403, type_="forbidden")
    # ... nor use its own ticket on A's channel.
    t = ticket(stack, tok_b)
    assert requests.get(stack.url(f"/live/world/1/company/{cid_a}?ticket={t['ticket']}"),
                        headers={"Accept": "text/event-stream"}, timeout=5).status_code == 403
    # A token claiming A's company for B's user id is refused too (ownership in the database).
    forged_claim, _ = reissue(stack, int(t["ticket"].split(".")[0]), "player", cid_a)
    assert_problem(stack.post("/realtime/ticket", {}, headers={
        "Authorization": f"Bearer {forged_claim}"}), 403, type_="forbidden")


def test_admin_may_watch_any_company(stack):
    _, _, cid = player(stack)
    adm, _ = admin_token(stack)
    t = ticket(stack, adm, {"company": cid})
    s = SSE(stack.url(t["path"]))
    assert s.status == 200
    s.close()
    assert_problem(stack.post("/realtime/ticket", {"company": 987654321},
                              headers={"Authorization": f"Bearer {adm}"}), 404)
    assert_problem(stack.post("/realtime/ticket", {"company": cid, "world": 2},
                              headers={"Authorization": f"Bearer {adm}"}), 400, field="world")


def test_ticket_needs_a_bearer_token(stack):
    assert_problem(stack.post("/realtime/ticket", {}), 401, type_="unauthorized")


def ticket_key(stack, t):
    return "bt:live:ticket:" + hashlib.blake2b(t.encode(), digest_size=16).hexdigest()


def test_missing_forged_expired_reused_and_misbound_tickets_are_refused(stack):
    tok, uid, cid = player(stack)
    base = f"/live/world/1/company/{cid}"

    def status(path):
        r = requests.get(stack.url(path), headers={"Accept": "text/event-stream"}, timeout=5,
                         stream=True)
        r.close()
        return r.status_code

    assert status(base) == 403                                             # missing
    forged = f"{uid}." + secrets.token_urlsafe(32)[:43]
    assert status(f"{base}?ticket={forged}") == 403                        # forged
    assert status(f"{base}?ticket=garbage") == 403                         # malformed
    t = ticket(stack, tok)["ticket"]
    assert status(f"/live/world/2/company/{cid}?ticket={t}") == 403        # other channels
    assert status(f"{base}?ticket={t}") == 403                             # ... and now used
    t = ticket(stack, tok)["ticket"]
    assert status(f"{base}?ticket={t}") == 200
    assert status(f"{base}?ticket={t}") == 403                             # reused
    t = ticket(stack, tok)["ticket"]
    key = ticket_key(stack, t)
    assert int(stack.redis_cli("TTL", key)) > 0
    stack.redis_cli("PEXPIRE", key, "1")
    stack.wait_for(lambda: stack.redis_cli("EXISTS", key) == "0", what="ticket expiry")
    assert status(f"{base}?ticket={t}") == 403                             # expired


def test_authorizer_is_not_reachable_directly(stack):
    tok, _, cid = player(stack)
    t = ticket(stack, tok)["ticket"]
    r = stack.get(f"/realtime/authorize?ticket={t}")
    assert_problem(r, 404)
    # The ticket was not consumed by the refused call.
    assert requests.get(stack.url(f"/live/world/1/company/{cid}?ticket={t}"), stream=True,
                        headers={"Accept": "text/event-stream"}, timeout=5).status_code == 200


def test_tickets_stay_out_of_the_access_log(stack):
    tok, _, cid = player(stack)
    t = ticket(stack, tok)["ticket"]
    requests.get(stack.url(f"/live/world/1/company/{cid}?ticket={t}"), stream=True,
                 headers={"Accept": "text/event-stream"}, timeout=5).close()
    log = os.path.join(stack.var, "log", "nginx-access.log")
    stack.wait_for(lambda: f"/live/world/1/company/{cid}" in open(log).read(), timeout=10,
                   what="access log flush")
    text = open(log).read()
    assert t not in text and t.split(".")[1] not in text


# ---- more nodes: Redis fan-out, connection limits, gaps ---------------------------

class Node:
    """An extra nginx node rendered from the project's templates, sharing the
    stack's FastCGI pools and (Nchan Redis mode) its Redis."""

    def __init__(self, stack, env):
        self.dir = tempfile.mkdtemp(prefix="bt-node-", dir=stack.var)
        self.port, self.pub_port = free_ports(2)
        conf = os.path.join(self.dir, "conf")
        for d in ("nginx/tmp", "nginx/cache", "log"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        e = dict(os.environ)
        e.update({"BT_VAR": self.dir, "BT_RUN_DIR": os.path.join(stack.var, "run"),
                  "BT_LOG_DIR": os.path.join(self.dir, "log"),
                  "BT_LISTEN": f"127.0.0.1:{self.port}", "BT_PUB_PORT": str(self.pub_port),
                  "BT_NGINX_PID": os.path.join(self.dir, "nginx.pid"),
                  "BT_NGINX_USER": "root root" if os.getuid() == 0 else "",
                  "BT_NCHAN_REDIS": f"redis://127.0.0.1:{stack.redis_port}"})
        e.update(env)
        subprocess.run([os.path.join(ROOT, "scripts", "render-nginx.sh"), conf], env=e,
                       check=True)
        self.proc = subprocess.Popen(
            ["nginx", "-e", os.path.join(self.dir, "log", "error.log"), "-p", self.dir,
             "-c", os.path.join(conf, "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self.pub = f"http://127.0.0.1:{self.pub_port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                # Up, and Nchan connected to Redis (503 until then).
                if requests.get(self.pub + "/pub/probe", timeout=1).status_code in (200, 404):
                    return
                time.sleep(0.05)
            except requests.ConnectionError:
                assert self.proc.poll() is None, "nginx node exited: " + self.errors()
                time.sleep(0.05)
        raise AssertionError("nginx node did not start")

    def errors(self):
        try:
            with open(os.path.join(self.dir, "log", "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def nodes(stack):
    env = {"BT_NCHAN_BUFFER": "3", "BT_NCHAN_COMPANY_BUFFER": "2", "BT_LIVE_CONN_PER_USER": "2"}
    a = Node(stack, env)
    try:
        b = Node(stack, env)
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def test_company_channels_keep_a_shorter_buffer(stack, nodes):
    """Every watched company's channel gets a message each tick, and each
    buffered message takes Nchan shared memory: a company channel keeps
    BT_NCHAN_COMPANY_BUFFER messages (a client further behind fetches
    GET /player/me), a world channel BT_NCHAN_BUFFER."""
    a, _ = nodes
    w = fresh_world()
    c = 900000000 + secrets.randbelow(99999999)
    for i in range(1, 6):
        publish(a.pub, f"world.{w}",
                {"type": "tick:update", "world": w, "tick": i, "ts": "t", "payload": {"tick": i}})
        publish(a.pub, f"company.{c}",
                {"type": "player:update", "world": w, "tick": i, "ts": "t", "payload": {}})

    def kept(channel):
        r = requests.get(f"{a.pub}/pub/{channel}", headers={"Accept": "text/json"}, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()["messages"]
    assert kept(f"world.{w}") == 3
    assert kept(f"company.{c}") == 2


def test_multi_node_fan_out_through_redis(stack, nodes):
    a, b = nodes
    w = fresh_world()
    msg = {"type": "tick:update", "world": w, "tick": 1, "ts": "t", "payload": {"tick": 1}}
    s_b = SSE(f"{b.base}/live/world/{w}")
    s_a = SSE(f"{a.base}/live/world/{w}")
    assert s_a.status == s_b.status == 200
    wait_subscribers(stack, a.pub, f"world.{w}", 2)
    publish(a.pub, f"world.{w}", msg)
    assert s_b.next()[2] == msg      # published on A, received on B
    assert s_a.next()[2] == msg
    msg2 = dict(msg, tick=2)
    publish(b.pub, f"world.{w}", msg2)
    assert s_a.next()[2]["tick"] == 2
    s_a.close()
    s_b.close()


def test_private_channel_across_nodes(stack, nodes):
    a, b = nodes
    tok, _, cid = player(stack)
    s = SSE(lambda: b.base + ticket(stack, tok)["path"])
    assert s.status == 200
    wait_subscribers(stack, a.pub, f"company.{cid}", 1)
    publish(a.pub, f"company.{cid}", {"type": "player:update", "world": 1, "tick": 0,
                                      "ts": "t", "payload": {"node": "a"}})
    assert s.until(lambda e: e[0] == "player:update")[2]["payload"] == {"node": "a"}
    s.close()


def test_connections_per_user_are_limited_and_released(stack, nodes):
    a, _ = nodes
    tok, _, cid = player(stack)
    def url():
        return a.base + ticket(stack, tok)["path"]
    opened = [SSE(url) for _ in range(2)]
    assert [s.status for s in opened] == [200, 200]
    extra = SSE(url)
    assert extra.status == 429
    opened.pop().close()

    def reconnect():
        s = SSE(url)
        if s.status == 200:
            opened.append(s)
            return True
        s.close()
        return False
    stack.wait_for(reconnect, timeout=10, interval=0.2, what="a released connection slot")
    # Another user is not affected by the first one's connections.
    tok2, _, _ = player(stack)
    other = SSE(lambda: a.base + ticket(stack, tok2)["path"])
    assert other.status == 200
    for s in opened + [other]:
        s.close()


def test_a_client_too_far_behind_sees_the_gap(stack, nodes):
    """The buffer keeps 3 messages here: a resume from an evicted id gets
    only what is left, and the tick numbers show the gap that makes a client
    fetch a snapshot (GET /world) instead."""
    a, _ = nodes
    w = fresh_world()
    url = f"{a.base}/live/world/{w}"

    def msg(i):
        return {"type": "tick:update", "world": w, "tick": i, "ts": "t", "payload": {"tick": i}}

    s = SSE(url)
    wait_subscribers(stack, a.pub, f"world.{w}", 1)
    publish(a.pub, f"world.{w}", msg(1))
    _, id1, m = s.next()
    assert m["tick"] == 1
    s.close()
    for i in range(2, 8):
        publish(a.pub, f"world.{w}", msg(i))
    s = SSE(url, headers={"Last-Event-ID": id1})
    first = s.next()[2]["tick"]
    s.close()
    assert first > 2  # ticks 2.. were evicted: the client must resynchronise
