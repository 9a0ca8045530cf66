"""The admin panel (www-admin/, served by nginx at /admin/) in a real headless
Chromium against the running stack: security headers, the admins-only gate,
readiness, a live tick counter fed by the world's EventSource, changing the
tick interval, pausing and resuming a world, tuning the rig catalog (exact
micro-USD prices, on sale or not), problem+json display, and that API strings
are never rendered as HTML.

Needs Debian's chromium, chromium-driver and python3-selenium (make deps
installs them); a missing one is a failure, not a skip.
"""
import json
import os
import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT
from test_foundation import admin_token

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SESSION_KEY = "bt.admin.session"
WAIT_S = 15


@pytest.fixture(scope="module")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.access(path, os.X_OK), f"{path} is missing: apt-get install chromium chromium-driver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--no-first-run", "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(WAIT_S)
    try:
        yield drv
    finally:
        drv.quit()


def wait(drv, cond, what, timeout=WAIT_S):
    # The panel redraws its tables on timers: an element found just before a
    # redraw goes stale, and the condition is simply evaluated again.
    return WebDriverWait(drv, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: cond(d), message=f"timed out waiting for {what}")


def visible(drv, css):
    els = drv.find_elements(By.CSS_SELECTOR, css)
    return els[0] if els and els[0].is_displayed() else None


def open_with_token(drv, stack, token):
    """Opens the panel with an access token put into sessionStorage, as
    sign-in would (the page reads it on load)."""
    drv.get(stack.url("/admin/"))
    drv.execute_script("sessionStorage.setItem(arguments[0], arguments[1])", SESSION_KEY,
                       json.dumps({"access_token": token}))
    drv.refresh()


def world_row(drv, wid):
    return drv.find_element(By.CSS_SELECTOR, f'#worlds-table tr[data-world="{wid}"]')


def live_tick(drv, wid=1):
    try:
        return int(world_row(drv, wid).find_element(By.CSS_SELECTOR, "td.tick").text)
    except Exception:  # not rendered yet, or being redrawn
        return None


def script_errors(drv):
    """Console errors other than failed requests (e.g. endpoints that other
    services have not implemented yet): exceptions, CSP violations."""
    return [e["message"] for e in drv.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]


def world(stack, wid=1):
    return stack.sql("SELECT status, tick_ms, tick, name FROM worlds WHERE id = %s", (wid,))[0]


# ---- static checks -------------------------------------------------------

def test_panel_served_with_strict_headers(stack):
    r = stack.get("/admin/")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Request-Id"]
    assert stack.get("/admin/index.html").headers["Cache-Control"] == "no-store"
    js = stack.get("/admin/js/main.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["Content-Type"]
    assert js.headers["Cache-Control"] == "no-cache"
    assert js.headers["X-Content-Type-Options"] == "nosniff"
    assert stack.get("/admin", allow_redirects=False).headers["Location"].endswith("/admin/")
    # Nothing outside the panel's directory is reachable through the alias.
    assert stack.get("/admin/../Makefile").status_code in (400, 404)


def test_panel_sources_never_parse_html():
    """API strings only ever reach the page through textContent."""
    sink = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML\s*\(|"
                      r"document\.write\s*\(|\beval\s*\(|new Function\s*\(")
    found = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "www-admin")):
        for name in files:
            if name.endswith((".js", ".html")):
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    for n, line in enumerate(f, 1):
                        if sink.search(line):
                            found.append(f"{path}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
    with open(os.path.join(ROOT, "www-admin", "index.html")) as f:
        html = f.read()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\sstyle=|<style", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


# ---- in the browser ------------------------------------------------------

def test_player_sees_admins_only(stack, browser):
    tok, _ = admin_token(stack, role="player")
    open_with_token(browser, stack, tok)
    msg = wait(browser, lambda d: visible(d, "#signin-message"), "the admins-only message")
    assert "administrators only" in msg.text
    assert not browser.find_element(By.ID, "app-view").is_displayed()
    # The player's token is not kept by the panel.
    assert browser.execute_script("return sessionStorage.getItem(arguments[0])", SESSION_KEY) is None


def test_problem_json_is_shown(stack, browser):
    """A failed sign-in shows the server's problem (title and status)."""
    browser.get(stack.url("/admin/"))
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait(browser, lambda d: visible(d, "#signin-form"), "the sign-in form")
    browser.find_element(By.ID, "signin-email").send_keys("nobody@example.test")
    browser.find_element(By.ID, "signin-password").send_keys("wrong password 123")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    box = wait(browser, lambda d: visible(d, "#signin-problem .problem"), "a problem box")
    title = box.find_element(By.CSS_SELECTOR, ".problem-title").text
    assert title and title != "undefined"
    status = int(re.search(r"\((\d{3})\)", box.text).group(1))
    assert 400 <= status < 500, box.text


def test_admin_dashboard_live_controls(stack, browser):
    tok, _ = admin_token(stack, ttl=600)
    h = {"Authorization": f"Bearer {tok}"}
    stack.wait_for(lambda: stack.get("/readyz").status_code == 200, what="stack ready")
    open_with_token(browser, stack, tok)

    # Readiness with each check.
    wait(browser, lambda d: d.find_element(By.ID, "ready-status").text == "ready", "ready badge")
    for check in ("postgres", "redis", "tickd"):
        wait(browser, lambda d: d.find_element(
            By.CSS_SELECTOR, f'#ready-table tr[data-check="{check}"] .badge').text == "ok",
            f"{check} ok")
    assert browser.find_elements(By.CSS_SELECTOR, '#ready-table tr[data-check="tickd.world.1"]')

    # World 1's counter increases by itself (EventSource, no page reload;
    # the table's own redraw is every 10 s, longer than this wait).
    wait(browser, lambda d: live_tick(d) is not None, "world 1 row")
    t0 = live_tick(browser)
    wait(browser, lambda d: (live_tick(d) or 0) >= t0 + 2, "the live tick to advance by 2",
         timeout=10)
    assert live_tick(browser) <= world(stack)[2] + 1

    try:
        # Tick interval: typed into the row, stored by the API.
        field = world_row(browser, 1).find_element(By.CSS_SELECTOR, "input.tick-ms")
        field.clear()
        field.send_keys("300")
        world_row(browser, 1).find_element(By.CSS_SELECTOR, "button.apply-tick").click()
        stack.wait_for(lambda: world(stack)[1] == 300, what="tick_ms 300 in the database")
        api = stack.get("/api/admin/worlds", headers=h).json()
        assert [w["tick_ms"] for w in api if w["id"] == 1] == [300]
        wait(browser, lambda d: world_row(d, 1).find_element(By.CSS_SELECTOR, "input.tick-ms")
             .get_attribute("value") == "300", "the row to show 300 ms")

        # Pause, then resume.
        world_row(browser, 1).find_element(By.CSS_SELECTOR, "button.pause").click()
        stack.wait_for(lambda: world(stack)[0] == "paused", what="world paused in the database")
        wait(browser, lambda d: world_row(d, 1).find_elements(By.CSS_SELECTOR, "button.resume"),
             "a Resume button")
        wait(browser, lambda d: world_row(d, 1).find_element(By.CSS_SELECTOR, "td.status").text
             == "paused", "the row to show paused")
        world_row(browser, 1).find_element(By.CSS_SELECTOR, "button.resume").click()
        stack.wait_for(lambda: world(stack)[0] == "running", what="world running again")
        wait(browser, lambda d: world_row(d, 1).find_elements(By.CSS_SELECTOR, "button.pause"),
             "a Pause button")
        # ...and it ticks again, live.
        t1 = live_tick(browser) or 0
        wait(browser, lambda d: (live_tick(d) or 0) > t1, "ticks after resuming", timeout=12)
        # Every section opens without a script error or a CSP violation.
        for tab in ("users", "params", "rigs", "dashboard"):
            browser.find_element(By.CSS_SELECTOR, f'.tab[data-tab="{tab}"]').click()
            wait(browser, lambda d: d.find_element(By.ID, f"tab-{tab}").is_displayed(), tab)
        assert not script_errors(browser)
    finally:
        stack.http.patch(stack.url("/api/admin/worlds/1"),
                         json={"tick_ms": 500, "status": "running"}, headers=h, timeout=10)


def test_api_strings_are_text(stack, browser):
    """A world name full of markup is shown literally, never run."""
    tok, _ = admin_token(stack, ttl=600)
    h = {"Authorization": f"Bearer {tok}"}
    old = world(stack)[3]
    evil = '<img src=x onerror="window.pwned=1">'
    r = stack.http.patch(stack.url("/api/admin/worlds/1"), json={"name": evil}, headers=h,
                         timeout=10)
    assert r.status_code == 200, r.text
    try:
        open_with_token(browser, stack, tok)
        wait(browser, lambda d: evil in world_row(d, 1).text, "the literal name")
        assert not browser.find_elements(By.CSS_SELECTOR, "#worlds-table img")
        assert browser.execute_script("return window.pwned === undefined")
    finally:
        stack.http.patch(stack.url("/api/admin/worlds/1"), json={"name": old}, headers=h,
                         timeout=10)


def test_sign_in_refresh_and_sign_out(stack, browser):
    """With the auth service: password sign-in, token refresh before expiry,
    sign-out revoking the refresh token."""
    email = f"panel-{time.monotonic_ns()}@example.test"
    password = "correct horse battery staple 42"
    r = stack.post("/auth/register", {"email": email, "password": password,
                                      "company_name": f"Panel {time.monotonic_ns() % 10**9}",
                                      "region": "texas"})
    if r.status_code == 404 and r.json().get("type") == "/problems/not-found":
        pytest.skip("the auth service has no /auth/register yet (issue 3)")
    assert r.status_code == 201, r.text
    stack.sql("UPDATE users SET role = 'admin' WHERE email = %s", (email,))

    browser.get(stack.url("/admin/"))
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait(browser, lambda d: visible(d, "#signin-form"), "the sign-in form")
    browser.find_element(By.ID, "signin-email").send_keys(email)
    browser.find_element(By.ID, "signin-password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    wait(browser, lambda d: visible(d, "#app-view"), "the dashboard")
    stored = json.loads(browser.execute_script(
        "return sessionStorage.getItem(arguments[0])", SESSION_KEY))
    assert stored["refresh_token"] and stored["access_token"]

    # Pretend the access token expires in 1 s: the panel refreshes it.
    stored["expires_at"] = int(time.time() * 1000) + 1000
    browser.execute_script("sessionStorage.setItem(arguments[0], arguments[1])", SESSION_KEY,
                           json.dumps(stored))
    browser.refresh()
    renewed = wait(browser, lambda d: (lambda s: s if s and json.loads(s)["refresh_token"]
                                       != stored["refresh_token"] else None)(
        d.execute_script("return sessionStorage.getItem(arguments[0])", SESSION_KEY)),
        "a refreshed session")
    renewed = json.loads(renewed)
    assert stack.get("/api/admin/worlds", headers={
        "Authorization": f"Bearer {renewed['access_token']}"}).status_code == 200

    browser.find_element(By.ID, "signout").click()
    wait(browser, lambda d: visible(d, "#signin-form"), "the sign-in form after sign-out")
    assert browser.execute_script("return sessionStorage.getItem(arguments[0])", SESSION_KEY) is None
    r = stack.post("/auth/refresh", {"refresh_token": renewed["refresh_token"]})
    assert r.status_code == 401, r.text


def rig_row(drv, rid):
    return drv.find_element(By.CSS_SELECTOR, f'#rigs-table tr[data-rig="{rid}"]')


def in_rig_row(drv, rid, css):
    return rig_row(drv, rid).find_element(By.CSS_SELECTOR, css)


def click_in_rig_row(drv, rid, css, what):
    # Retried while the table is being redrawn (a stale row).
    wait(drv, lambda d: in_rig_row(d, rid, css).click() or True, what)


def type_price(drv, rid, typed):
    def attempt(d):
        field = in_rig_row(d, rid, "input.price-usd")
        field.clear()
        field.send_keys(typed)
        if field.get_attribute("value") != typed:
            return False
        in_rig_row(d, rid, "button.apply-price").click()
        return True
    wait(drv, attempt, f"the price {typed!r} submitted for {rid}")


def catalog_model(stack, h, rid):
    r = stack.get("/rigs/catalog", headers=h)
    assert r.status_code == 200, r.text
    return next(m for m in r.json()["models"] if m["id"] == rid)


def usd(micro):
    """micro-USD as the panel types it (exact, trailing zeros dropped) and
    shows it (thousands grouped, at least 2 decimals)."""
    whole, frac = divmod(micro, 10**6)
    frac = f"{frac:06d}".rstrip("0")
    return f"{whole}.{frac}" if frac else str(whole), f"{whole:,}.{frac.ljust(2, '0')}"


def test_admin_tunes_the_rig_catalog(stack, browser):
    """The rig catalog section: a price typed in USD reaches the API as the
    exact micro-USD integer, a model goes off sale and back on, a price the
    server refuses and one that is not a number show their errors; the model
    ends as it was (other tests buy from the catalog)."""
    rid = "s9"
    tok, _ = admin_token(stack, ttl=600)
    h = {"Authorization": f"Bearer {tok}"}
    before = catalog_model(stack, h, rid)
    old = before["price_usd_micro"]
    assert before["available"] is True, before
    new = old + 1_234_567  # 1.234567 USD more: every decimal place counts
    try:
        open_with_token(browser, stack, tok)
        wait(browser, lambda d: visible(d, "#app-view"), "the panel")
        browser.find_element(By.CSS_SELECTOR, '.tab[data-tab="rigs"]').click()
        wait(browser, lambda d: in_rig_row(d, rid, "td.price").text == usd(old)[1],
             f"{rid} listed at its price")
        row = rig_row(browser, rid).text
        assert before["name"] in row and "13.5" in row, row  # 13,500 GH/s as TH/s
        assert in_rig_row(browser, rid, "td.on-sale").text == "yes"

        # A new price, typed in USD with 6 decimals.
        type_price(browser, rid, usd(new)[0])
        stack.wait_for(lambda: catalog_model(stack, h, rid)["price_usd_micro"] == new,
                       what=f"{rid} at {new} micro-USD in the catalog")
        wait(browser, lambda d: "next tick" in d.find_element(By.ID, "flash").text,
             "the success message")
        wait(browser, lambda d: in_rig_row(d, rid, "td.price").text == usd(new)[1],
             "the row to show the new price")

        # Off sale, and back on.
        click_in_rig_row(browser, rid, "button.withdraw", "Withdraw from sale")
        stack.wait_for(lambda: catalog_model(stack, h, rid)["available"] is False,
                       what=f"{rid} off sale")
        wait(browser, lambda d: in_rig_row(d, rid, "td.on-sale").text == "no"
             and in_rig_row(d, rid, "button.sell"), "the row to show it off sale")
        click_in_rig_row(browser, rid, "button.sell", "Put on sale")
        stack.wait_for(lambda: catalog_model(stack, h, rid)["available"] is True,
                       what=f"{rid} on sale again")
        wait(browser, lambda d: in_rig_row(d, rid, "td.on-sale").text == "yes"
             and in_rig_row(d, rid, "button.withdraw"), "the row to show it on sale")
        assert catalog_model(stack, h, rid)["price_usd_micro"] == new

        # The server refuses a negative price: its field error is shown.
        type_price(browser, rid, "-1")
        err = wait(browser, lambda d: visible(
            d, '#rigs-problem .problem li[data-field="price_usd_micro"]'),
            "the server's price_usd_micro error")
        assert err.text.strip() != "price_usd_micro:", err.text
        assert "(400)" in browser.find_element(By.ID, "rigs-problem").text
        # Not an amount at all: refused before any call.
        type_price(browser, rid, "abc")
        wait(browser, lambda d: "at most 6 decimals" in d.find_element(By.ID, "rigs-problem").text,
             "the panel's own price error")
        assert catalog_model(stack, h, rid)["price_usd_micro"] == new

        # Back to the old price, through the panel.
        type_price(browser, rid, usd(old)[0])
        stack.wait_for(lambda: catalog_model(stack, h, rid)["price_usd_micro"] == old,
                       what=f"{rid} back at {old} micro-USD")
        wait(browser, lambda d: in_rig_row(d, rid, "td.price").text == usd(old)[1]
             and not d.find_element(By.ID, "rigs-problem").text, "the old price, no error")
        assert not script_errors(browser)
    finally:
        now = catalog_model(stack, h, rid)
        if (now["price_usd_micro"], now["available"]) != (old, before["available"]):
            r = stack.patch(f"/api/admin/rigs/{rid}", {"price_usd_micro": old,
                                                        "available": before["available"]},
                            headers=h)
            assert r.status_code == 200, r.text
