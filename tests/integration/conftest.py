"""Integration tests: the real stack (PostgreSQL, Redis, nginx + Nchan, the
FastCGI pools, tickd) started once per session on free loopback ports in a
temporary directory, driven over HTTP.  Run with Debian's interpreter:

    /usr/bin/python3 -m pytest tests/integration

BT_BUILD selects the binaries (build, or build/asan for `make asan test`).
At the end the services' logs are scanned for sanitizer reports.
"""
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time

import psycopg
import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BT_BUILD", "build")
TEST_TICK_MS = int(os.environ.get("BT_TEST_TICK_MS", "500"))


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Stack:
    """One running stack and helpers to talk to it."""

    def __init__(self, var, tick_ms=TEST_TICK_MS, extra_env=None):
        self.var = var
        self.port, self.pub_port, self.pg_port, self.redis_port = free_ports(4)
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update({
            "BUILD": BUILD,
            "BT_VAR": var,
            "PORT": str(self.port),
            "BT_PUB_PORT": str(self.pub_port),
            "BT_PG_PORT": str(self.pg_port),
            "BT_REDIS_PORT": str(self.redis_port),
            "BT_TICK_MS": str(tick_ms),
            "BT_WORKERS": os.environ.get("BT_TEST_WORKERS", "3"),
            # nginx limits /auth/ per IP (10r/s, burst 20 in production);
            # every test request comes from 127.0.0.1, so the test stack
            # renders a higher limit (scripts/render-nginx.sh).
            "BT_AUTH_RATE": os.environ.get("BT_TEST_AUTH_RATE", "200r/s"),
            "BT_AUTH_BURST": os.environ.get("BT_TEST_AUTH_BURST", "400"),
        })
        self.env.update(extra_env or {})
        self.http = requests.Session()

    # -- lifecycle -------------------------------------------------------
    def ctl(self, *args, check=True, timeout=180):
        return subprocess.run([os.path.join(ROOT, "scripts", "stack.sh"), *args],
                              env=self.env, cwd=ROOT, check=check, timeout=timeout,
                              capture_output=True, text=True)

    def start(self):
        r = self.ctl("start", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"stack start failed:\n{r.stdout}\n{r.stderr}\n{self.tail_logs()}")

    def destroy(self):
        self.ctl("destroy", check=False)

    def close(self):
        """Stops the stack, then scans the logs, then deletes the state.
        Sanitizers write leak reports when a process exits, so the scan must
        come after the stop.  Returns the sanitizer reports found."""
        self.ctl("stop", check=False)
        reports = self.sanitizer_reports()
        self.destroy()
        return reports

    def tail_logs(self, n=20):
        out = []
        logdir = os.path.join(self.var, "log")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            path = os.path.join(logdir, name)
            try:
                with open(path, errors="replace") as f:
                    lines = f.readlines()[-n:]
            except OSError:
                continue
            out.append(f"--- {name}\n" + "".join(lines))
        return "\n".join(out)

    def sanitizer_reports(self):
        """Sanitizer output in the logs.  ASan/UBSan write to log/asan.<pid>
        and log/ubsan.<pid> (log_path in bt.env): any such file is a report,
        whatever it says (a bad suppressions file, too).  Other logs are
        searched for the runtimes' markers, in case log_path was not used."""
        reports = []
        logdir = os.path.join(self.var, "log")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            path = os.path.join(logdir, name)
            if not os.path.isfile(path):
                continue
            with open(path, errors="replace") as f:
                text = f.read()
            if name.startswith(("asan.", "ubsan.")) and text.strip():
                reports.append(f"{name}:\n{text[:4000]}")
                continue
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                           "AddressSanitizer:", "LeakSanitizer:"):
                if marker in text:
                    i = text.index(marker)
                    reports.append(f"{name}: {marker}\n{text[max(0, i - 200):i + 4000]}")
                    break
        return reports

    # -- HTTP ------------------------------------------------------------
    def url(self, path):
        return self.base + path

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return self.http.get(self.url(path), **kw)

    def post(self, path, body=None, **kw):
        kw.setdefault("timeout", 10)
        if body is not None and "data" not in kw:
            kw["json"] = body
        return self.http.post(self.url(path), **kw)

    def patch(self, path, body=None, **kw):
        kw.setdefault("timeout", 10)
        if body is not None and "data" not in kw:
            kw["json"] = body
        return self.http.patch(self.url(path), **kw)

    # -- database --------------------------------------------------------
    def pg_password(self, user="bt"):
        with open(os.path.join(self.var, "secrets", "pgpass")) as f:
            for line in f:
                host, port, db, u, pw = line.rstrip("\n").split(":", 4)
                if u == user:
                    return pw
        raise KeyError(user)

    def db(self, user="bt"):
        return psycopg.connect(host="127.0.0.1", port=self.pg_port, dbname="bitcoin_tycoon",
                               user=user, password=self.pg_password(user), autocommit=True)

    def sql(self, query, params=None):
        with self.db() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else None

    def redis_cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.redis_port), *args],
                              capture_output=True, text=True, check=True).stdout.strip()

    def wait_for(self, predicate, timeout=15.0, interval=0.1, what="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def assert_problem(resp, status, field=None, type_=None):
    """Asserts an RFC 9457 problem+json answer; returns the decoded body."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert body["type"].startswith("/problems/")
    assert "detail" in body
    if type_:
        assert body["type"] == f"/problems/{type_}", body
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, body
    return body


@contextlib.contextmanager
def running_stack(prefix="bt-test-", **kw):
    """A started Stack in a fresh temporary directory; on exit it is stopped
    and deleted, and any sanitizer report fails the test that owned it."""
    s = Stack(tempfile.mkdtemp(prefix=prefix), **kw)
    try:
        s.start()
        yield s
    finally:
        reports = s.close()
        assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture(scope="session")
def stack():
    with running_stack() as s:
        yield s


def sse_events(url, count, timeout=15.0, headers=None):
    """Reads `count` SSE events from url; returns a list of (event, id, data)."""
    h = {"Accept": "text/event-stream"}
    h.update(headers or {})
    events, cur = [], {}
    deadline = time.monotonic() + timeout
    with requests.get(url, headers=h, stream=True, timeout=timeout) as r:
        assert r.status_code == 200, (r.status_code, r.text)
        for raw in r.iter_lines(decode_unicode=True):
            if time.monotonic() > deadline:
                break
            if raw is None:
                continue
            if raw == "":
                if "data" in cur:
                    events.append((cur.get("event", "message"), cur.get("id"), cur["data"]))
                    if len(events) >= count:
                        break
                cur = {}
                continue
            if raw.startswith(":"):
                continue
            key, _, value = raw.partition(":")
            value = value[1:] if value.startswith(" ") else value
            cur[key] = cur[key] + "\n" + value if key == "data" and key in cur else value
    return events


def decode(events):
    return [(e, i, json.loads(d)) for e, i, d in events]
