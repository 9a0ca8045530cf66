"""Lifecycle of the whole stack, on a stack of its own (not the session one,
since these tests kill and restart it): starting twice, a crashed pool
supervisor, recovery after everything was killed with SIGKILL (stale pid
files, sockets and postmaster.pid), and a stop that leaves nothing behind.

Other stacks run on this machine at the same time, so processes are never
found by name: a process belongs to this stack when it carries the stack's
BT_STACK_ID marker, is one of the pids in its pid files (checked against
the recorded start time), lives in the session of one of those (every
daemon is started with setsid), or descends from any of these.
"""
import os
import signal
import time

import pytest

from conftest import running_stack

SERVICES = ["auth", "player", "site", "market", "research", "governance", "event", "admin"]


# ---- /proc helpers ----------------------------------------------------------

def proc_table():
    """pid -> dict(state, ppid, sid, start) for every visible process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()  # fields 3.. (comm may hold spaces)
        table[int(name)] = {"state": rest[0], "ppid": int(rest[1]), "sid": int(rest[3]),
                            "start": rest[19]}
    return table


def has_marker(pid, var):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return ("BT_STACK_ID=" + var).encode() in env


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def exe_name(pid):
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


def pidfile_pids(stack, table):
    """Live pids named by the stack's pid files (start time checked)."""
    pids = set()
    run = os.path.join(stack.var, "run")
    for name in os.listdir(run) if os.path.isdir(run) else []:
        if not name.endswith(".pid"):
            continue
        try:
            with open(os.path.join(run, name)) as f:
                parts = f.read().split()
        except OSError:
            continue
        if not parts or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if pid not in table:
            continue
        # stack.sh writes "pid starttime"; nginx's own nginx-master.pid has
        # none, so its command line must name this stack's directory
        if table[pid]["start"] == parts[1] if len(parts) > 1 else \
                stack.var in cmdline(pid):
            pids.add(pid)
    pgdata = os.path.realpath(os.path.join(stack.var, "pg"))
    try:
        with open(os.path.join(pgdata, "postmaster.pid")) as f:
            pid = int(f.readline().strip() or 0)
        # a stale file may name a recycled pid: the postmaster's -D must match
        if pid in table and pgdata in cmdline(pid):
            pids.add(pid)
    except (OSError, ValueError):
        pass
    return pids


def stack_processes(stack):
    """pid -> start time of every live process of this stack."""
    table = proc_table()
    leaders = pidfile_pids(stack, table)
    mine = {p for p, t in table.items()
            if p in leaders or t["sid"] in leaders or has_marker(p, stack.var)}
    grew = True
    while grew:
        kids = {p for p, t in table.items() if t["ppid"] in mine and p not in mine}
        mine |= kids
        grew = bool(kids)
    return {p: table[p]["start"] for p in mine if table[p]["state"] != "Z"}


def alive(pids):
    """The subset of pid -> start still running (same start time, not a zombie)."""
    table = proc_table()
    return {p for p, st in pids.items()
            if p in table and table[p]["start"] == st and table[p]["state"] != "Z"}


def read_pid(stack, name):
    with open(os.path.join(stack.var, "run", f"{name}.pid")) as f:
        return int(f.read().split()[0])


def our_daemons(stack):
    """Processes of our own binaries (bt-*, tickd) in this stack, by name."""
    counts = {}
    for p in stack_processes(stack):
        name = exe_name(p)
        if name.startswith("bt-") or name == "tickd":
            counts[name] = counts.get(name, 0) + 1
    return counts


# ---- the stack under test -----------------------------------------------------

@pytest.fixture(scope="module")
def own():
    # Production-like per-IP limit on /auth/* (the session stack lifts it for
    # the suite's many registrations): 1 request a minute, burst 3.
    with running_stack(prefix="bt-life-",
                       extra_env={"BT_AUTH_RATE": "1r/m", "BT_AUTH_BURST": "3"}) as s:
        s.workers = int(s.env["BT_WORKERS"])
        yield s


def ready(stack):
    stack.wait_for(lambda: stack.get("/readyz", timeout=3).status_code == 200, timeout=30,
                   what="/readyz 200")


def expected_daemons(stack):
    """One supervisor plus the workers per pool, one tickd; each exactly once."""
    want = {f"bt-{svc}": 1 + stack.workers for svc in SERVICES}
    want["tickd"] = 1
    return want


def test_nginx_limits_auth_calls_per_ip(own):
    """nginx limit_req on /auth/*: beyond rate + burst a caller gets 429
    problem+json from nginx itself; other locations are not affected."""
    statuses = []
    for i in range(8):  # distinct emails: the per-account backoff stays out of it
        r = own.post("/auth/login", {"email": f"nobody{i}@example.test", "password": "x" * 12})
        statuses.append(r.status_code)
    assert 429 in statuses, statuses
    first = statuses.index(429)
    assert first >= 1 and all(s == 429 for s in statuses[first:]), statuses
    assert all(s == 401 for s in statuses[:first]), statuses
    r = own.post("/auth/login", {"email": "nobody9@example.test", "password": "x" * 12})
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["status"] == 429
    assert own.get("/healthz").status_code == 200


def test_start_twice_is_idempotent(own):
    ready(own)
    before = stack_processes(own)
    assert len(before) > len(SERVICES) * (1 + own.workers)
    own.start()  # again, while running
    ready(own)
    # the same set of daemons, each once: nothing duplicated, nothing of the
    # first run left over
    assert our_daemons(own) == expected_daemons(own)
    # the discovery sees the daemons that rewrite their process titles too
    found = stack_processes(own)
    for name in ("postgres", "redis", "nginx"):
        assert read_pid(own, name) in found, name
    assert sum(1 for p in found if exe_name(p) == "postgres") > 1  # postmaster + children
    leftovers = {p for p in alive(before) if p not in stack_processes(own)}
    assert not leftovers, leftovers


def test_killed_supervisor_leaves_no_orphan_workers(own):
    ready(own)
    sup = read_pid(own, "player")
    table = proc_table()
    workers = {p: t["start"] for p, t in table.items() if t["ppid"] == sup and t["state"] != "Z"}
    assert len(workers) == own.workers, workers
    os.kill(sup, signal.SIGKILL)
    # PR_SET_PDEATHSIG delivers SIGTERM to every worker; none may survive
    # (adopted by init or a subreaper) once its supervisor is gone.
    own.wait_for(lambda: not alive(workers), timeout=15, what="player workers to exit")
    assert not alive({sup: table[sup]["start"]})


def test_start_recovers_after_everything_was_killed(own):
    ready(own)
    # Kill until nothing is left: a parent still alive for a moment respawns
    # a child killed before it (an nginx master its worker, a pool its
    # FastCGI worker), and such a child would keep the listening socket.
    deadline = time.monotonic() + 15
    while (left := stack_processes(own)):
        assert time.monotonic() < deadline, f"still alive: {left}"
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        own.wait_for(lambda: not alive(left), timeout=15, what="the stack to die")
    run = os.path.join(own.var, "run")
    pgdata = os.path.realpath(os.path.join(own.var, "pg"))
    # the crash left its traces: this is what start must cope with
    assert os.path.exists(os.path.join(pgdata, "postmaster.pid"))
    assert os.path.exists(os.path.join(run, "tickd.pid"))
    assert os.path.exists(os.path.join(run, "redis.pid"))
    stale_sockets = [n for n in os.listdir(run) if n.endswith(".sock")]
    assert stale_sockets
    own.start()
    ready(own)
    assert our_daemons(own) == expected_daemons(own)
    # and it really works: ticks advance again
    t0 = own.sql("SELECT tick FROM worlds WHERE id = 1")[0][0]
    own.wait_for(lambda: own.sql("SELECT tick FROM worlds WHERE id = 1")[0][0] > t0,
                 timeout=15, what="a new tick")
    assert own.get("/healthz").status_code == 200


def test_stop_leaves_no_process(own):
    ready(own)
    running = stack_processes(own)
    assert len(running) > len(SERVICES) * (1 + own.workers)
    r = own.ctl("stop", check=False)
    assert r.returncode == 0, r.stderr
    left = alive(running)
    assert not left, {p: exe_name(p) for p in left}
    assert not stack_processes(own)
    run = os.path.join(own.var, "run")
    assert not [n for n in os.listdir(run) if n.endswith(".sock")]
