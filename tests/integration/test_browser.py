"""A real browser: headless Chromium opens the live viewer served by nginx
(www-admin/live.html), which subscribes with EventSource; the test reads the
tick numbers the page shows.  Chromium, its driver and selenium are
installed by `make deps`; when they are missing this test fails."""
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def chromium_paths():
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return browser, driver


@pytest.fixture
def browser():
    binary, driver = chromium_paths()
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    b = webdriver.Chrome(service=Service(driver), options=opts)
    b.set_page_load_timeout(20)
    try:
        yield b
    finally:
        b.quit()


def test_live_page_shows_increasing_ticks(stack, browser):
    browser.get(stack.url("/admin/live.html?world=1"))
    assert "Live ticks" in browser.title or "live" in browser.title.lower()

    def tick():
        text = browser.find_element(By.ID, "tick").text.strip()
        return int(text) if text.isdigit() else None

    seen = []

    def advanced():
        t = tick()
        if t is not None and (not seen or t > seen[-1]):
            seen.append(t)
        return len(seen) >= 3

    stack.wait_for(advanced, timeout=20, interval=0.1, what="three increasing ticks on the page")
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert browser.find_element(By.ID, "status").text == "open"
    assert int(browser.find_element(By.ID, "count").text) >= 3
