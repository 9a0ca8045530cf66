"""Mining history retention (BT_HISTORY_TICKS, migrations 0012 and 0016) on a
stack of its own that keeps 100 ticks: older ticks are pruned by tickd, whole;
a company that stopped mining keeps its yield remainder in mining_remainders;
balances, replay and a restart stay exact."""
import os
import signal

import pytest

from conftest import running_stack
from test_engine import Player, new_world, tickd, tickd_pid, world_tick
from test_mining_engine import add_rigs, applied, books_exact, build_site, post

KEEP = 100


@pytest.fixture(scope="module")
def own():
    with running_stack(prefix="bt-hist-", extra_env={"BT_HISTORY_TICKS": str(KEEP)}) as s:
        yield s


def history(stack, cid):
    """(pruned tick of the world, oldest kept tick, newest tick, rows) in one snapshot."""
    return stack.sql(
        "SELECT (SELECT p.tick FROM mining_history_pruned p WHERE p.world_id = c.world_id), "
        "min(h.tick), max(h.tick), count(h.tick) FROM companies c LEFT JOIN mining_history h "
        "ON h.company_id = c.id WHERE c.id = %s GROUP BY c.world_id", (cid,))[0]


def test_old_history_is_pruned_and_what_the_engine_reads_is_kept(own):
    wid = new_world(own, 100)
    miner, quitter = Player(own, world=wid), Player(own, world=wid)
    for p in (miner, quitter):
        p.wait_open()
    add_rigs(miner, build_site(miner), "s21", 5)
    site = build_site(quitter)
    rig = add_rigs(quitter, site, "s21", 2)
    own.wait_for(lambda: own.sql("SELECT count(*) FROM mining_history WHERE company_id = %s AND "
                                 "hash_ghs > 0", (quitter.cid,))[0][0] > 0,
                 what="the quitter hashing (a remainder to keep)")
    applied(quitter, post(quitter, "/site/rig/remove", {"site_id": site, "rig_id": rig,
                                                       "count": 2}))
    last = history(own, quitter.cid)[2]
    own.wait_for(lambda: world_tick(own, wid) > last + 2, what="a tick after the quitter's last")
    last_rem = own.sql("SELECT rem_nsat FROM mining_history WHERE tick = %s AND company_id = %s",
                       (last, quitter.cid))[0][0]
    assert history(own, quitter.cid)[2] == last     # it stopped mining
    # Run until the quitter's last mining tick is well past the retention.
    own.wait_for(lambda: world_tick(own, wid) > last + KEEP + 20, timeout=60,
                 what="the retention to pass the quitter's last row")

    pruned, oldest, newest, rows = history(own, miner.cid)
    now = world_tick(own, wid)
    assert pruned is not None and pruned >= now - KEEP - 5, (pruned, now)
    assert oldest > pruned and newest - oldest < KEEP + 5, (pruned, oldest, newest)
    assert 0 < rows <= newest - oldest + 1      # at most one row per tick (none on outage ticks)
    # The quitter stopped mining: its rows are gone, its remainder was kept
    # when it stopped (the tick after its last row).
    assert history(own, quitter.cid)[1:] == (None, None, 0)
    assert own.sql("SELECT tick, rem_nsat FROM mining_remainders WHERE company_id = %s",
                   (quitter.cid,)) == [(last + 1, last_rem)]
    # The charts serve what is kept.
    r = own.get("/player/me/history", headers=miner.h, params={"from": 0, "to": now})
    assert r.status_code == 200, r.text
    ticks = [x["tick"] for x in r.json()["items"]]
    assert ticks and min(ticks) > pruned
    for p in (miner, quitter):
        books_exact(own, p.cid)

    # A restart reloads remainders and unsettled results from what is kept,
    # and replay verifies the whole run from its snapshots.
    os.kill(tickd_pid(own), signal.SIGKILL)
    own.ctl("start", "tickd")
    t = world_tick(own, wid)
    own.wait_for(lambda: world_tick(own, wid) > t + 15, timeout=60, what="ticks after restart")
    for p in (miner, quitter):
        books_exact(own, p.cid)
    v = tickd(own, "verify", "--world", str(wid), "--to", str(world_tick(own, wid)))
    assert v.returncode == 0, v.stdout + v.stderr
