"""End to end in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright)
opens the worklist, codes a letter, accepts one code, rejects one, adds one by search, reorders
with a keyboard shortcut, submits, and the stored record, its audit trail and the FHIR export
hold what the coder did. It also takes the README's screenshot of the review page."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "out" / "review-page.png"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed; `make test` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def server(workbench):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(workbench, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the workbench server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(20_000)
        yield pg
        browser.close()


def _navigate(page, act) -> None:
    """Do something that posts a form, and wait for the page it leads to."""
    with page.expect_navigation():
        act()


def _codes(page, kind: str) -> list[str]:
    return page.locator(f"#{kind}-list > li .code").all_inner_texts()


def test_a_coder_reviews_and_submits_a_letter(page, server, workbench):
    page.goto(server + "/")
    page.fill("#coder-name", "ann")
    _navigate(page, lambda: page.click("form[action='/coder'] button"))
    _navigate(page, lambda: page.click("#next"))
    letter_id = page.url.rsplit("/", 1)[1]
    before = _codes(page, "diagnosis")
    assert len(before) >= 2 and page.locator("#letter mark").count() > 0

    _navigate(page, page.locator("#diagnosis-list > li").nth(0).locator("button.accept").click)
    second = page.locator("#diagnosis-list > li").nth(1)
    rejected = second.locator(".code").inner_text()
    second.locator("select.reason").select_option("symptom of a coded diagnosis")
    _navigate(page, second.locator("button.reject").click)
    assert rejected not in _codes(page, "diagnosis")

    page.press("body", "/")  # keyboard: focus the search box
    page.keyboard.type("obesity")
    _navigate(page, lambda: page.keyboard.press("Enter"))
    coded = set(_codes(page, "diagnosis")) | {rejected}
    button = next(b for b in page.locator("#search-results button.add").all() if b.get_attribute("data-code") not in coded)
    added = button.get_attribute("data-code")
    _navigate(page, button.click)
    assert page.locator("#error").count() == 0, page.locator("#error").inner_text()
    assert _codes(page, "diagnosis")[-1] == added

    item = page.locator("#diagnosis-list > li").last
    item.locator(".code").click()  # select it: its evidence lights up, keys act on it
    for _ in range(len(_codes(page, "diagnosis")) - 1):
        _navigate(page, lambda: page.keyboard.press("u"))  # move up; the page comes back with it selected
        page.locator("li.selected").wait_for()
    assert _codes(page, "diagnosis")[0] == added
    _screenshot(page)

    _navigate(page, lambda: page.click("#submit"))
    assert page.url.rsplit("/", 1)[1] != letter_id  # on to the next letter
    _check_stored(workbench, page, server, letter_id, added, rejected)


def _screenshot(page) -> None:
    """The README's picture: the top of the page, the second code selected (its evidence lit in the
    letter) with its "why" panel open."""
    item = page.locator("#diagnosis-list > li").nth(1)
    item.locator(".code").click()
    item.locator("summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#letter mark.lit").count() > 0  # clicking a code lights its evidence
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def _check_stored(workbench, page, server, letter_id, added, rejected):
    store = workbench.state.services.store
    (letter,) = [r for r in store.reviewed() if r.id == letter_id]
    diagnoses = letter.coded("diagnosis")
    assert diagnoses[0].code == added and diagnoses[0].origin in ("added", "candidate")
    assert (rejected, "symptom of a coded diagnosis") in letter.to_gold().must_not_code
    trail = [(e.user, e.action) for e in store.events(letter_id)]
    assert trail[0] == ("system", "load") and trail[-1] == ("ann", "submit")
    assert {("ann", "accept"), ("ann", "reject"), ("ann", "add"), ("ann", "reorder")} <= set(trail)

    bundle = page.request.get(f"{server}/export.fhir.json?letter={letter_id}").json()
    resources = [e["resource"] for e in bundle["entry"]]
    conditions = [r["code"]["coding"][0]["code"] for r in resources if r["resourceType"] == "Condition"]
    assert bundle["resourceType"] == "Bundle" and conditions[0] == added and rejected not in conditions
    csv_rows = page.request.get(f"{server}/export.csv?letter={letter_id}").text().splitlines()
    assert csv_rows[1].startswith(f"{letter_id},diagnosis,1,primary,ICD-10,{added},")
