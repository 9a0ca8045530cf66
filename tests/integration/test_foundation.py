"""Foundation: the index, health and readiness, problem+json for bad bodies,
the live tick stream, metrics, and the admin world controls."""
import json
import os
import time

import jwt
import pytest

from conftest import assert_problem, decode, sse_events


def admin_token(stack, role="admin", ttl=300, **over):
    """Signs an access token with the stack's key, as the auth service does."""
    uid = stack.sql("INSERT INTO users (email, password_hash, role) VALUES (%s, 'x', %s) "
                    "RETURNING id", (f"{role}-{time.monotonic_ns()}@example.test", role))[0][0]
    with open(os.path.join(stack.var, "secrets", "jwt.key"), "rb") as f:
        key = f.read().strip()
    now = int(time.time())
    claims = {"sub": str(uid), "role": role, "cid": 0, "wid": 1, "gst": False, "iat": now,
              "exp": now + ttl, "jti": "t", "iss": "bitcoin-tycoon", "aud": "bitcoin-tycoon-api"}
    claims.update(over)
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": "k1"}), uid


def test_healthz(stack):
    r = stack.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["X-Request-Id"]


def test_index_links_and_tick_channel(stack):
    body = stack.get("/").json()
    assert body["service"] == "bitcoin-tycoon"
    assert body["links"]["api_description"].endswith("/docs/openapi.yaml")
    assert body["links"]["admin_panel"].endswith("/admin/")
    assert body["live"]["tick_channel"] == stack.base + "/live/world/1"
    assert body["live"]["websocket"].startswith("ws://")


def test_readyz_follows_redis(stack):
    stack.wait_for(lambda: stack.get("/readyz").status_code == 200, what="ready")
    stack.ctl("stop", "redis")
    try:
        r = stack.get("/readyz")
        body = assert_problem(r, 503, type_="unavailable")
        assert "redis" in body["detail"]
        assert body["checks"]["redis"]["status"] == "down"
        assert body["checks"]["postgres"]["status"] == "ok"
        assert r.headers["Retry-After"]
    finally:
        stack.ctl("start", "redis")
    stack.wait_for(lambda: stack.get("/readyz").status_code == 200, what="ready again")


def test_sse_receives_consecutive_ticks(stack):
    events = decode(sse_events(stack.url("/live/world/1"), 2, timeout=10))
    assert len(events) == 2
    (e1, id1, m1), (e2, id2, m2) = events
    assert e1 == e2 == "tick:update"
    assert m1["type"] == "tick:update" and m1["world"] == 1
    assert m2["tick"] == m1["tick"] + 1
    assert id1 != id2 and m1["ts"] and m2["payload"]["tick"] == m2["tick"]


def test_unknown_path_and_method(stack):
    assert_problem(stack.get("/no/such/thing"), 404, type_="not-found")
    r = stack.post("/healthz", {})
    assert_problem(r, 405, type_="method-not-allowed")
    assert r.headers["Allow"] == "GET"


def test_admin_routes_need_admin(stack):
    r = stack.get("/api/admin/worlds")
    assert_problem(r, 401, type_="unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    tok, _ = admin_token(stack, role="player")
    assert_problem(stack.get("/api/admin/worlds", headers={"Authorization": f"Bearer {tok}"}),
                   403, type_="forbidden")


@pytest.mark.parametrize("claims,why", [
    ({"aud": "someone-else"}, "audience"),
    ({"iss": "mallory"}, "issuer"),
    ({"exp": 1000}, "expired"),
])
def test_bad_tokens_rejected(stack, claims, why):
    tok, _ = admin_token(stack, **claims)
    body = assert_problem(stack.get("/api/admin/worlds",
                                    headers={"Authorization": f"Bearer {tok}"}), 401)
    assert why in body["detail"]


def test_alg_none_and_wrong_key_rejected(stack):
    tok, _ = admin_token(stack)
    header, payload, _sig = tok.split(".")
    none_header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": "k1"}).encode())
    forged = none_header.decode() + "." + payload + "."
    assert_problem(stack.get("/api/admin/worlds", headers={"Authorization": f"Bearer {forged}"}), 401)
    other = jwt.encode(jwt.decode(tok, options={"verify_signature": False}), b"x" * 40,
                       algorithm="HS256", headers={"kid": "k1"})
    assert_problem(stack.get("/api/admin/worlds", headers={"Authorization": f"Bearer {other}"}), 401)


class TestBodies:
    """Malformed, oversized and mistyped bodies get the right 4xx problem."""

    @pytest.fixture(scope="class")
    def auth(self, stack):
        tok, _ = admin_token(stack)
        return {"Authorization": f"Bearer {tok}"}

    def patch(self, stack, auth, data, ctype="application/json"):
        return stack.http.patch(stack.url("/api/admin/worlds/1"), data=data,
                                headers={**auth, "Content-Type": ctype}, timeout=10)

    def test_malformed_json(self, stack, auth):
        for data in (b'{"tick_ms": 500', b"[1,2]", b'{"a":1} trailing', b"", b'{"a":}'):
            assert_problem(self.patch(stack, auth, data), 400, type_="malformed-json")

    def test_too_deep(self, stack, auth):
        assert_problem(self.patch(stack, auth, b'{"a":' * 40 + b"1" + b"}" * 40), 400)

    def test_wrong_content_type(self, stack, auth):
        assert_problem(self.patch(stack, auth, b'{"tick_ms":500}', "text/plain"), 415,
                       type_="unsupported-media-type")

    def test_oversized(self, stack, auth):
        big = json.dumps({"name": "x" * 70000}).encode()
        assert_problem(self.patch(stack, auth, big), 413, type_="payload-too-large")
        huge = b'{"name":"' + b"x" * (2 * 1024 * 1024) + b'"}'
        assert_problem(self.patch(stack, auth, huge), 413, type_="payload-too-large")

    def test_field_errors_name_each_field(self, stack, auth):
        r = self.patch(stack, auth, json.dumps(
            {"tick_ms": 5, "status": "exploded", "name": "a\u0001b", "bogus": 1}).encode())
        body = assert_problem(r, 400, type_="validation")
        by_field = {e["field"]: e["code"] for e in body["errors"]}
        assert by_field == {"tick_ms": "range", "status": "enum", "name": "format",
                            "bogus": "unknown"}

    def test_invalid_utf8_names_the_field(self, stack, auth):
        r = self.patch(stack, auth, b'{"name":"ab\xff\xfecd"}')
        body = assert_problem(r, 400, field="name")
        assert body["errors"][0]["code"] == "encoding"

    def test_wrong_types(self, stack, auth):
        r = self.patch(stack, auth, b'{"tick_ms":"500","status":1,"name":null}')
        body = assert_problem(r, 400)
        assert {e["field"] for e in body["errors"]} == {"tick_ms", "status", "name"}


def test_admin_changes_tick_interval_live(stack):
    tok, _ = admin_token(stack)
    h = {"Authorization": f"Bearer {tok}"}
    worlds = stack.get("/api/admin/worlds", headers=h).json()
    assert worlds[0]["id"] == 1
    try:
        r = stack.http.patch(stack.url("/api/admin/worlds/1"), json={"tick_ms": 200}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["tick_ms"] == 200
        t0 = stack.sql("SELECT tick FROM worlds WHERE id = 1")[0][0]
        time.sleep(3)
        t1 = stack.sql("SELECT tick FROM worlds WHERE id = 1")[0][0]
        # 3 s at 200 ms is ~15 ticks; at the old 500 ms it would be ~6.
        assert t1 - t0 >= 10, (t0, t1)
    finally:
        stack.http.patch(stack.url("/api/admin/worlds/1"), json={"tick_ms": 500}, headers=h)
    assert_problem(stack.http.patch(stack.url("/api/admin/worlds/999"), json={"tick_ms": 500},
                                    headers=h), 404)


def test_ticks_recorded_without_gaps(stack):
    rows = stack.sql("SELECT tick FROM ticks WHERE world_id = 1 ORDER BY tick")
    ticks = [r[0] for r in rows]
    assert len(ticks) >= 2
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))


def test_metrics_exposition(stack):
    stack.get("/healthz")
    text = stack.get("/metrics").text
    assert "# TYPE bt_http_requests_total counter" in text
    assert 'bt_http_requests_total{service="admin",route="GET /healthz",status="200"}' in text
    assert "# TYPE bt_tick_duration_seconds histogram" in text
    line = [l for l in text.splitlines() if l.startswith('bt_ticks_total{world="1"}')][0]
    assert int(line.split()[-1]) >= 1
