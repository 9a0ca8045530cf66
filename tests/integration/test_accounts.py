"""Accounts: register/login/refresh/logout, guests and upgrade, token
verification with an independent JWT implementation, enumeration
resistance, failed-login backoff, profiles and ownership, bans, the admin
CLI and the admin user API."""
import base64
import hashlib
import itertools
import json
import os
import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import psycopg
import pytest
import requests

from conftest import BUILD, ROOT, assert_problem

PASSWORD = "correct horse battery staple"
_seq = itertools.count()


def uniq(prefix):
    return f"{prefix}{time.monotonic_ns() % 10**9}{next(_seq)}"


def register(stack, email=None, company=None, region="texas", password=PASSWORD):
    body = {"email": email or f"{uniq('u')}@example.test", "password": password,
            "company_name": company or uniq("Co "), "region": region}
    return stack.post("/auth/register", body)


def registered(stack, **kw):
    r = register(stack, **kw)
    assert r.status_code == 201, r.text
    return r.json()


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


def jwt_key(stack):
    with open(os.path.join(stack.var, "secrets", "jwt.key"), "rb") as f:
        return f.read().strip()


def cli(stack, *args, stdin=None):
    """Runs bt-admin with the stack's environment (var/bt.env)."""
    env = dict(os.environ)
    with open(os.path.join(stack.var, "bt.env")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    env.pop("BT_ADMIN_PASSWORD", None)
    binary = os.path.join(ROOT, BUILD, "bin", "bt-admin")
    return subprocess.run([binary, *args], input=stdin, env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


@pytest.fixture(scope="module")
def admin(stack):
    email = f"{uniq('admin')}@example.test"
    r = cli(stack, "create-admin", "--email", email, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    uid = int(r.stdout.strip())
    login = stack.post("/auth/login", {"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"id": uid, "email": email, "token": login.json()["access_token"]}


# -- the session lifecycle ---------------------------------------------------

def test_register_login_refresh_reuse_logout(stack):
    email = f"{uniq('Flow')}@Example.TEST"
    reg = registered(stack, email=f"  {email} ", region="iceland")
    assert reg["token_type"] == "Bearer" and reg["expires_in"] == 900
    assert reg["user"]["email"] == email.lower() and reg["user"]["role"] == "player"
    assert reg["user"]["is_guest"] is False
    assert reg["company"]["region"] == "iceland" and reg["company"]["world_id"] == 1
    uid = reg["user"]["id"]

    login = stack.post("/auth/login", {"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200, login.text
    first = login.json()
    assert first["user"]["id"] == uid and first["company"]["id"] == reg["company"]["id"]

    r = stack.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert stack.get("/player/me", headers=bearer(second["access_token"])).status_code == 200

    # The rotated token is dead; presenting it revokes the whole family.
    reuse = assert_problem(stack.post("/auth/refresh", {"refresh_token": first["refresh_token"]}),
                           401, type_="unauthorized")
    assert "revoked" in reuse["detail"]
    assert_problem(stack.post("/auth/refresh", {"refresh_token": second["refresh_token"]}), 401)
    rows = stack.sql("SELECT event, ip, request_id FROM audit_log WHERE user_id = %s "
                     "AND event = 'refresh_reuse'", (uid,))
    assert len(rows) == 1 and rows[0][1] == "127.0.0.1" and rows[0][2]
    # The registration's own family is untouched by that revocation.
    r = stack.post("/auth/refresh", {"refresh_token": reg["refresh_token"]})
    assert r.status_code == 200, r.text

    # Logout revokes the family of the presented token.
    third = r.json()
    r = stack.post("/auth/logout", {"refresh_token": third["refresh_token"]})
    assert r.status_code == 204 and r.text == ""
    assert_problem(stack.post("/auth/refresh", {"refresh_token": third["refresh_token"]}), 401)
    events = [e for (e,) in stack.sql("SELECT event FROM audit_log WHERE user_id = %s ORDER BY id",
                                      (uid,))]
    assert events == ["register", "login_success", "refresh_reuse", "logout"]
    # Logging out twice, or with garbage, is still a quiet success.
    assert stack.post("/auth/logout", {"refresh_token": third["refresh_token"]}).status_code == 204
    assert stack.post("/auth/logout", {"refresh_token": "x" * 43}).status_code == 204


def test_refresh_tokens_stored_only_as_keyed_hash(stack):
    reg = registered(stack)
    tok = reg["refresh_token"]
    assert len(tok) == 43
    rows = stack.sql("SELECT token_hash, family FROM refresh_tokens WHERE user_id = %s",
                     (reg["user"]["id"],))
    assert len(rows) == 1 and len(bytes(rows[0][0])) == 32
    hit = stack.sql("SELECT count(*) FROM refresh_tokens WHERE token_hash = %s "
                    "OR encode(token_hash, 'escape') LIKE %s OR encode(token_hash, 'hex') = %s",
                    (tok.encode(), f"%{tok}%", tok))
    assert hit[0][0] == 0
    # The stored value is BLAKE2b-256 keyed with the key derived from the
    # stack's refresh key file (checked with hashlib, independently of C).
    with open(os.path.join(stack.var, "secrets", "refresh.key"), "rb") as f:
        key = hashlib.blake2b(b"bitcoin-tycoon refresh-token hash v1" + f.read().rstrip(b"\r\n"),
                              digest_size=32).digest()
    raw = base64.urlsafe_b64decode(tok + "=")
    assert bytes(rows[0][0]) == hashlib.blake2b(raw, key=key, digest_size=32).digest()


def test_access_token_verifies_with_pyjwt(stack):
    reg = registered(stack)
    tok = reg["access_token"]
    assert jwt.get_unverified_header(tok) == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    claims = jwt.decode(tok, jwt_key(stack), algorithms=["HS256"], audience="bitcoin-tycoon-api",
                        issuer="bitcoin-tycoon",
                        options={"require": ["sub", "role", "iat", "exp", "jti", "iss", "aud"]})
    assert claims["sub"] == str(reg["user"]["id"]) and claims["role"] == "player"
    assert claims["cid"] == reg["company"]["id"] and claims["wid"] == 1
    assert claims["gst"] is False and claims["exp"] - claims["iat"] == 900
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tok, b"y" * 64, algorithms=["HS256"], audience="bitcoin-tycoon-api")


def test_forged_tokens_rejected(stack):
    reg = registered(stack)
    claims = jwt.decode(reg["access_token"], options={"verify_signature": False})
    key = jwt_key(stack)
    now = int(time.time())
    none_hdr = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": "k1"}).encode())
    body = reg["access_token"].split(".")[1]
    forged = {
        "alg none": none_hdr.decode() + "." + body + ".",
        "wrong key": jwt.encode(claims, b"z" * 48, algorithm="HS256", headers={"kid": "k1"}),
        "HS512": jwt.encode(claims, key, algorithm="HS512", headers={"kid": "k1"}),
        "expired": jwt.encode({**claims, "iat": now - 1000, "exp": now - 10}, key,
                              algorithm="HS256", headers={"kid": "k1"}),
        "wrong audience": jwt.encode({**claims, "aud": "another-api"}, key, algorithm="HS256",
                                     headers={"kid": "k1"}),
        "tampered": reg["access_token"][:-4] + ("AAAA" if not reg["access_token"].endswith("AAAA")
                                                else "BBBB"),
    }
    ok = jwt.encode(claims, key, algorithm="HS256", headers={"kid": "k1"})
    assert stack.get("/player/me", headers=bearer(ok)).status_code == 200
    for why, tok in forged.items():
        r = stack.get("/player/me", headers=bearer(tok))
        assert r.status_code == 401, (why, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


# -- guests -------------------------------------------------------------------

def test_guest_then_upgrade_keeps_company(stack):
    r = stack.post("/auth/guest", {})
    assert r.status_code == 201, r.text
    guest = r.json()
    assert guest["user"]["is_guest"] is True and guest["user"]["email"] is None
    assert guest["company"]["name"].startswith("Guest ")
    assert guest["company"]["region"] in {"texas", "quebec", "iceland", "kazakhstan", "paraguay",
                                          "norway"}
    assert jwt.decode(guest["access_token"], options={"verify_signature": False})["gst"] is True
    me = stack.get("/player/me", headers=bearer(guest["access_token"])).json()
    assert me["private"]["is_guest"] is True

    named = stack.post("/auth/guest", {"company_name": uniq("Guesty "), "region": "norway"})
    assert named.status_code == 201 and named.json()["company"]["region"] == "norway"

    email = f"{uniq('up')}@example.test"
    r = stack.post("/auth/upgrade", {"email": email, "password": PASSWORD},
                   headers=bearer(guest["access_token"]))
    assert r.status_code == 200, r.text
    up = r.json()
    assert up["user"]["id"] == guest["user"]["id"] and up["user"]["is_guest"] is False
    assert up["company"] == guest["company"]
    assert jwt.decode(up["access_token"], options={"verify_signature": False})["gst"] is False
    login = stack.post("/auth/login", {"email": email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["company"]["id"] == guest["company"]["id"]
    # Upgrading twice (even with the stale guest token) is a conflict.
    assert_problem(stack.post("/auth/upgrade", {"email": f"{uniq('x')}@example.test",
                                                "password": PASSWORD},
                              headers=bearer(guest["access_token"])), 409)
    assert_problem(stack.post("/auth/upgrade", {"email": email, "password": PASSWORD}), 401)
    assert stack.sql("SELECT count(*) FROM audit_log WHERE user_id = %s AND event = 'upgrade'",
                     (guest["user"]["id"],))[0][0] == 1


def test_upgrade_to_taken_email_names_the_field(stack):
    taken = registered(stack)["user"]["email"]
    guest = stack.post("/auth/guest", {}).json()
    body = assert_problem(stack.post("/auth/upgrade", {"email": taken, "password": PASSWORD},
                                     headers=bearer(guest["access_token"])), 409, field="email")
    assert body["errors"][0]["code"] == "taken"


# -- login protection ---------------------------------------------------------

def test_unknown_email_and_wrong_password_look_the_same(stack):
    email = registered(stack)["user"]["email"]

    def strip(resp):
        b = resp.json()
        b.pop("request_id", None)
        return resp.status_code, resp.headers["Content-Type"], b

    wrong = stack.post("/auth/login", {"email": email, "password": "not the password"})
    unknown = stack.post("/auth/login", {"email": f"{uniq('nobody')}@example.test",
                                         "password": "not the password"})
    assert wrong.status_code == 401
    assert strip(wrong) == strip(unknown)


def test_twenty_wrong_passwords_get_429(stack):
    email = registered(stack)["user"]["email"]
    codes = []
    for _ in range(20):
        r = stack.post("/auth/login", {"email": email, "password": "wrong password!"})
        codes.append(r.status_code)
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 15, codes
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert_problem(r, 429, type_="rate-limited")
    # The backoff holds even for the right password, and is per account.
    assert stack.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 429
    other = registered(stack)["user"]["email"]
    assert stack.post("/auth/login", {"email": other, "password": PASSWORD}).status_code == 200


# -- profiles -----------------------------------------------------------------

def test_profiles_hide_private_fields_from_others(stack, admin):
    a, b = registered(stack), registered(stack, region="paraguay")
    bid = b["user"]["id"]
    pub = stack.get(f"/player/{bid}", headers=bearer(a["access_token"]))
    assert pub.status_code == 200, pub.text
    body = pub.json()
    assert body["company"]["name"] == b["company"]["name"]
    assert body["company"]["region"] == "paraguay"
    assert body["reputation"] == 0 and body["rank"] >= 1 and body["created_at"]
    assert "private" not in body and "email" not in json.dumps(body)
    def own_view():
        return stack.get(f"/player/{bid}", headers=bearer(b["access_token"])).json()
    # Balances are null until tickd opened the company, then the grant.
    stack.wait_for(lambda: own_view()["private"]["balances"] is not None, what="company opened")
    own = own_view()
    grant = stack.sql("SELECT starting_grant FROM worlds WHERE id = %s",
                      (b["company"]["world_id"],))[0][0]
    assert own["private"] == {"email": b["user"]["email"], "role": "player", "is_guest": False,
                              "balances": {"usd_micro": grant, "btc_sat": 0},
                              "assets": {"sites": 0, "rigs": 0, "hashrate_ghs": 0}}
    assert stack.get("/player/me", headers=bearer(b["access_token"])).json() == own
    as_admin = stack.get(f"/player/{bid}", headers=bearer(admin["token"])).json()
    assert as_admin["private"]["email"] == b["user"]["email"]
    assert_problem(stack.get("/player/me"), 401)
    assert_problem(stack.get("/player/999999999", headers=bearer(a["access_token"])), 404)
    assert_problem(stack.get("/player/abc", headers=bearer(a["access_token"])), 404)


def test_rank_follows_reputation(stack):
    a, b = registered(stack), registered(stack)
    stack.sql("UPDATE companies SET reputation = (SELECT max(reputation) + 10 FROM companies) "
              "WHERE id = %s", (b["company"]["id"],))
    ra = stack.get("/player/me", headers=bearer(a["access_token"])).json()["rank"]
    rb = stack.get("/player/me", headers=bearer(b["access_token"])).json()["rank"]
    assert rb == 1 and ra > 1


# -- registration rules -------------------------------------------------------

def test_concurrent_registrations_same_email(stack):
    email = f"{uniq('race')}@example.test"
    with ThreadPoolExecutor(max_workers=50) as pool:
        resps = list(pool.map(lambda i: requests.post(
            stack.url("/auth/register"), json={"email": email, "password": PASSWORD,
                                               "company_name": uniq(f"Race {i} "),
                                               "region": "quebec"}, timeout=60), range(50)))
    codes = sorted(r.status_code for r in resps)
    assert codes.count(201) == 1 and codes.count(409) == 49, codes
    for r in resps:
        if r.status_code == 409:
            assert_problem(r, 409, field="email")
    assert stack.sql("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 1
    assert stack.sql("SELECT count(*) FROM companies WHERE name LIKE 'Race %%' AND user_id NOT IN "
                     "(SELECT id FROM users)")[0][0] == 0


def test_duplicate_company_name_is_409_case_insensitive(stack):
    name = uniq("Hash Hut ")
    registered(stack, company=name)
    body = assert_problem(register(stack, company=name.upper()), 409, field="company_name")
    assert body["errors"][0]["code"] == "taken"
    assert_problem(stack.post("/auth/guest", {"company_name": name.lower()}), 409,
                   field="company_name")


@pytest.mark.parametrize("body,fields", [
    ({}, {"email": "required", "password": "required", "company_name": "required",
          "region": "required"}),
    ({"email": 5, "password": ["x"], "company_name": True, "region": 1},
     {"email": "type", "password": "type", "company_name": "type", "region": "enum"}),
    ({"email": "not-an-email", "password": "short", "company_name": "ab", "region": "mars"},
     {"email": "format", "password": "too_short", "company_name": "too_short", "region": "enum"}),
    ({"email": "a@b.co", "password": "p" * 257, "company_name": "x" * 33, "region": "texas"},
     {"password": "too_long", "company_name": "too_long"}),
    ({"email": "e" * 300 + "@example.test", "password": PASSWORD, "company_name": "Tab\tCo",
      "region": "texas"}, {"email": "too_long", "company_name": "format"}),
    ({"email": "a@b.co", "password": PASSWORD, "company_name": " Spaced", "region": "texas",
      "role": "admin"}, {"company_name": "format", "role": "unknown"}),
])
def test_register_validation_names_each_field(stack, body, fields):
    r = stack.post("/auth/register", body)
    problem = assert_problem(r, 400, type_="validation")
    got = {e["field"]: e["code"] for e in problem["errors"]}
    assert got == fields


def test_invalid_utf8_and_huge_bodies(stack):
    raw = b'{"email":"a@b.co","password":"' + b"\xff\xfe" * 6 + \
          b'","company_name":"Caf\xc3","region":"texas"}'
    r = stack.post("/auth/register", data=raw, headers={"Content-Type": "application/json"})
    body = assert_problem(r, 400)
    assert {e["field"] for e in body["errors"]} == {"password", "company_name"}
    huge = json.dumps({"email": "a@b.co", "password": "p" * 70000}).encode()
    assert_problem(stack.post("/auth/login", data=huge,
                              headers={"Content-Type": "application/json"}), 413)
    for path in ("/auth/login", "/auth/refresh", "/auth/logout", "/auth/guest"):
        assert_problem(stack.post(path, data=b"[1]", headers={"Content-Type": "application/json"}),
                       400)
    assert_problem(stack.post("/auth/login", {"email": "a@b.co"}), 400, field="password")
    assert_problem(stack.post("/auth/refresh", {}), 400, field="refresh_token")
    assert_problem(stack.post("/auth/refresh", {"refresh_token": 7}), 400, field="refresh_token")
    assert_problem(stack.post("/auth/guest", {"region": "atlantis"}), 400, field="region")


# -- bans, the CLI and the admin API -------------------------------------------

def test_cli_ban_blocks_everything_and_unban_restores(stack):
    reg = registered(stack)
    uid, email = reg["user"]["id"], reg["user"]["email"]
    r = cli(stack, "ban", "--user", str(uid), "--reason", "botting")
    assert r.returncode == 0, r.stderr
    assert stack.sql("SELECT ban_reason FROM users WHERE id = %s AND banned_at IS NOT NULL",
                     (uid,)) == [("botting",)]
    assert stack.redis_cli("SISMEMBER", "bt:banned", str(uid)) == "1"
    assert_problem(stack.get("/player/me", headers=bearer(reg["access_token"])), 403)
    assert_problem(stack.get(f"/player/{uid}", headers=bearer(reg["access_token"])), 403)
    assert_problem(stack.post("/auth/refresh", {"refresh_token": reg["refresh_token"]}), 403)
    assert_problem(stack.post("/auth/login", {"email": email, "password": PASSWORD}), 403)
    assert stack.sql("SELECT count(*) FROM refresh_tokens WHERE user_id = %s "
                     "AND revoked_at IS NULL", (uid,))[0][0] == 0
    assert stack.sql("SELECT actor_id, user_agent, detail->>'reason' FROM audit_log "
                     "WHERE user_id = %s AND event = 'ban'", (uid,)) == [(None, "bt-admin",
                                                                          "botting")]
    assert cli(stack, "unban", "--user", str(uid)).returncode == 0
    assert stack.redis_cli("SISMEMBER", "bt:banned", str(uid)) == "0"
    assert stack.get("/player/me", headers=bearer(reg["access_token"])).status_code == 200
    assert stack.post("/auth/login", {"email": email, "password": PASSWORD}).status_code == 200
    assert cli(stack, "ban", "--user", "999999999").returncode == 1
    assert cli(stack, "ban").returncode == 2


def test_bans_and_limits_survive_a_flushed_redis(stack):
    """The ban check and the rate-limit hit share one pipelined Redis round
    trip: when Redis has lost its scripts and the ban set (a restart without
    persistence), both are restored on the next request, and the counts stay
    exact (each request counted once)."""
    banned, other = registered(stack), registered(stack)
    assert cli(stack, "ban", "--user", str(banned["user"]["id"])).returncode == 0
    stack.redis_cli("SCRIPT", "FLUSH")
    stack.redis_cli("DEL", "bt:banned", "bt:banned:loaded")
    assert_problem(stack.get("/player/me", headers=bearer(banned["access_token"])), 403)
    assert stack.redis_cli("SISMEMBER", "bt:banned", str(banned["user"]["id"])) == "1"
    stack.redis_cli("SCRIPT", "FLUSH")
    key = f"bt:rl:player:/player/me:u{other['user']['id']}"
    for n in (1, 2, 3):
        assert stack.get("/player/me", headers=bearer(other["access_token"])).status_code == 200
        assert stack.redis_cli("GET", key) == str(n)


def test_cli_create_admin_rules(stack, admin):
    r = cli(stack, "create-admin", "--email", admin["email"], stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = cli(stack, "create-admin", "--email", f"{uniq('a')}@example.test", stdin="short\n")
    assert r.returncode == 1
    r = cli(stack, "create-admin", "--email", "nope", stdin=PASSWORD + "\n")
    assert r.returncode == 1
    claims = jwt.decode(admin["token"], jwt_key(stack), algorithms=["HS256"],
                        audience="bitcoin-tycoon-api")
    assert claims["role"] == "admin" and claims["cid"] == 0
    assert stack.sql("SELECT event FROM audit_log WHERE user_id = %s ORDER BY id LIMIT 1",
                     (admin["id"],)) == [("admin_created",)]


def test_admin_api_users_ban_and_audit(stack, admin):
    h = bearer(admin["token"])
    tag = uniq("panel")
    a = registered(stack, email=f"{tag}-a@example.test")
    b = registered(stack, company=f"{tag} Mining")
    # A player gets nothing from the admin API.
    assert_problem(stack.get("/api/admin/users", headers=bearer(a["access_token"])), 403)

    found = stack.get(f"/api/admin/users?q={tag.upper()}", headers=h)
    assert found.status_code == 200, found.text
    ids = [u["id"] for u in found.json()["users"]]
    assert ids == sorted([a["user"]["id"], b["user"]["id"]])
    page = stack.get(f"/api/admin/users?q={tag}&limit=1", headers=h).json()
    assert [u["id"] for u in page["users"]] == ids[:1] and page["next_after"] == ids[0]
    rest = stack.get(f"/api/admin/users?q={tag}&limit=1&after={ids[0]}", headers=h).json()
    assert [u["id"] for u in rest["users"]] == ids[1:]
    assert stack.get("/api/admin/users?q=%25", headers=h).status_code == 200
    assert_problem(stack.get("/api/admin/users?limit=1000", headers=h), 400, field="limit")

    detail = stack.get(f"/api/admin/users/{b['user']['id']}", headers=h).json()
    assert detail["email"] == b["user"]["email"] and detail["banned"] is False
    assert detail["company"]["name"] == f"{tag} Mining" and detail["active_sessions"] == 1
    assert_problem(stack.get("/api/admin/users/999999999", headers=h), 404)

    r = stack.post(f"/api/admin/users/{b['user']['id']}/ban", {"reason": "chargeback"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["banned"] is True and r.json()["ban_reason"] == "chargeback"
    assert r.json()["active_sessions"] == 0
    assert_problem(stack.get("/player/me", headers=bearer(b["access_token"])), 403)
    assert_problem(stack.post(f"/api/admin/users/{admin['id']}/ban", {}, headers=h), 409)
    assert_problem(stack.post(f"/api/admin/users/{b['user']['id']}/ban", {"reason": 5},
                              headers=h), 400, field="reason")

    audit = stack.get(f"/api/admin/audit?user_id={b['user']['id']}&limit=10", headers=h).json()
    assert audit["entries"][0]["event"] == "ban"
    assert audit["entries"][0]["actor_id"] == admin["id"]
    assert audit["entries"][0]["detail"] == {"reason": "chargeback"}
    assert [e["event"] for e in audit["entries"]][-1] == "register"

    r = stack.post(f"/api/admin/users/{b['user']['id']}/unban", headers=h)
    assert r.status_code == 200 and r.json()["banned"] is False
    assert stack.get("/player/me", headers=bearer(b["access_token"])).status_code == 200
    latest = stack.get("/api/admin/audit?limit=1", headers=h).json()
    assert latest["entries"][0]["event"] == "unban" and latest["next_before"]


def test_audit_log_is_append_only(stack):
    registered(stack)
    for stmt in ("UPDATE audit_log SET event = 'logout'", "DELETE FROM audit_log",
                 "TRUNCATE audit_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            stack.sql(stmt)
    assert stack.sql("SELECT count(*) FROM audit_log")[0][0] > 0
