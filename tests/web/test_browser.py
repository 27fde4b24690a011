"""The paste page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Installed by scripts/install-browser-packages.sh (called by scripts/setup.sh as
root): the Debian packages chromium and chromium-driver, and axe-core from the
npm registry into ./node_modules for the accessibility check.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from .conftest import SAMPLE, SAMPLE_SMARTHOST

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VERIFIER_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _missing(what: str, how: str):
    msg = f"{what} is not installed ({how}: bash scripts/install-browser-packages.sh)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright", "pip install -e .[test]")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _missing("Chromium", "Debian package chromium")
    with sync_playwright() as p:
        # Playwright gives each launch a fresh, temporary --user-data-dir.
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page with its dialogs and console errors recorded."""

    def __init__(self, browser, **context_args) -> None:
        self.context = browser.new_context(**context_args)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser):
    opened: list[Page] = []

    def make(**kw) -> Page:
        p = Page(browser, **kw)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def analyse(pg, base: str, text: str, smarthost: str = "") -> dict:
    resp = pg.goto(base + "/")
    assert resp.status == 200
    pg.fill("#headers", text)
    if smarthost:
        pg.fill("#smarthost", smarthost)
    with pg.expect_navigation() as nav:
        pg.click("button[type=submit] >> text=Analyse")
    r = nav.value
    return {"status": r.status, "headers": r.headers}


def test_sample_banner_route_delays_auth_and_jump_to_line(server, tab, tmp_path):
    t = tab(viewport={"width": 1280, "height": 900})
    pg = t.page
    res = analyse(pg, server.base, SAMPLE.read_text(), SAMPLE_SMARTHOST)
    assert res["status"] == 200
    csp = res["headers"]["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # banner
    assert pg.inner_text("#verdict h1") == "Sent through the send connector"
    assert "smarthost" in pg.inner_text("#verdict .reason")
    proof = pg.locator("#verdict .proof a.ref")
    assert proof.count() >= 1
    # route diagram: the border hop is marked, and so is the smarthost
    border = pg.locator("ol.route > li.is-border")
    assert border.count() == 1
    assert border.locator("[data-mark=border]").is_visible()
    assert "in31.mail.ovh.net" in border.inner_text()
    assert pg.locator("ol.route [data-mark=smarthost]").count() >= 1
    # delay bars: one row per hop, the longest bar full width, skew/unknown labelled
    rows = pg.locator("table.delays tr.delay-row")
    assert rows.count() == 6
    widths = [float(w) for w in pg.eval_on_selector_all("table.delays svg.bar rect:not(.track)", "els => els.map(e => e.getAttribute('width'))")]
    assert max(widths) == 100.0 and any(0 < w < 100 for w in widths)
    assert "Total, from the Date header" in pg.inner_text("table.delays tr.total")
    # auth cards
    assert pg.inner_text("article.auth[data-method=spf] .res").lower() == "pass"
    assert pg.inner_text("article.auth[data-method=dkim] .res").lower() == "pass"
    assert "trusted" in pg.inner_text("article.auth[data-method=spf]")
    assert pg.locator("article.auth[data-method=dmarc]").count() == 1
    assert pg.locator("article.auth[data-method=arc]").count() == 1
    # a finding's reference jumps to its header line and highlights it
    ref = pg.locator("ol.findings a.ref").first
    target = ref.get_attribute("href")[1:]
    line = pg.locator(f"li#{target}")
    before = line.evaluate("e => getComputedStyle(e).backgroundColor")
    ref.click()
    assert "active" in line.get_attribute("class")
    after = line.evaluate("e => getComputedStyle(e).backgroundColor")
    assert after != before
    assert pg.evaluate("location.hash") == f"#{target}"
    assert pg.evaluate("document.activeElement.id") == target
    assert t.dialogs == [] and t.errors == []
    # the screenshot in docs/ comes from this page (scripts/screenshot.sh)
    out = os.environ.get("VERIFIER_SCREENSHOT")
    pg.set_viewport_size({"width": 1280, "height": 1900})
    pg.evaluate("window.scrollTo(0, 0)")
    pg.evaluate("document.querySelectorAll('li.active').forEach(e => e.classList.remove('active'))")
    pg.screenshot(path=out or str(tmp_path / "paste-page.png"), full_page=False)


def test_whole_analysis_without_javascript(server, tab):
    t = tab(java_script_enabled=False)
    pg = t.page
    assert analyse(pg, server.base, SAMPLE.read_text(), SAMPLE_SMARTHOST)["status"] == 200
    assert pg.inner_text("#verdict h1") == "Sent through the send connector"
    for sel in ("ol.route > li", "table.delays svg.bar", "article.auth", "ol.findings > li", "ol.headers > li", "#export-json"):
        assert pg.locator(sel).count() >= 1, sel
    # CSS alone highlights a jumped-to line (:target)
    ref = pg.locator("ol.findings a.ref").first
    target = ref.get_attribute("href")[1:]
    ref.click()
    assert pg.locator(f"li#{target}").evaluate("e => e.matches(':target')")


def test_hello_world_shows_the_no_header_message(server, tab):
    t = tab()
    pg = t.page
    assert analyse(pg, server.base, "hello world")["status"] == 400
    assert "No email header found" in pg.inner_text("#error")
    assert pg.locator("#verdict").count() == 0
    assert pg.input_value("#headers") == "hello world"


def test_uploaded_and_dropped_eml_files(server, tab, tmp_path):
    eml = tmp_path / "ticket.eml"
    eml.write_bytes(SAMPLE.read_bytes().replace(b"&lt;", b"<").replace(b"&gt;", b">") + b"\nHello, this is the body.\n")
    t = tab()
    pg = t.page
    pg.goto(server.base + "/")
    pg.fill("#smarthost", SAMPLE_SMARTHOST)
    pg.set_input_files("#file", str(eml))
    with pg.expect_navigation():
        pg.click("button[type=submit] >> text=Analyse")
    assert pg.inner_text("#verdict h1") == "Sent through the send connector"
    assert "ticket.eml" in pg.inner_text("main")
    # drop the file on the paste box: the page sends it as an upload
    pg.goto(server.base + "/?smarthost=" + SAMPLE_SMARTHOST)
    b64 = base64.b64encode(eml.read_bytes()).decode()
    with pg.expect_navigation():
        pg.evaluate(
            """b64 => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], "dropped.eml", {type: "message/rfc822"}));
                const box = document.getElementById("headers");
                box.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
                box.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
            }""",
            b64,
        )
    assert "dropped.eml" in pg.inner_text("main")
    assert pg.inner_text("#verdict h1") == "Sent through the send connector"
    assert t.errors == []


HOSTILE = (
    "Received: from <script>window.pwned=1;alert(1)</script> (x [203.0.113.1]) by mx.example with ESMTP; Fri, 27 Nov 2026 20:00:00 +0000\n"
    'Received: from "><img src=x onerror="window.pwned=2;alert(2)"> by \'onmouseover=\'alert(3) with ESMTP; Fri, 27 Nov 2026 19:59:00 +0000\n'
    "Authentication-Results: javascript:alert(4); spf=pass smtp.mailfrom=\"</textarea><script>alert(5)</script>\"\n"
    "Subject: =?UTF-8?B?" + base64.b64encode(b"<script>window.pwned=6;alert(6)</script><img src=x onerror=alert(7)>").decode() + "?=\n"
    "X-Link: <a href=\"javascript:alert(8)\">click</a> =?UTF-8?Q?=3Cscript=3Ealert(9)=3C/script=3E?=\n"
    "From: \"</title><script>alert(10)</script>\" <a@b.example>\n"
    "Message-ID: <x@\"><svg onload=alert(11)>>\n"
)


def test_hostile_headers_run_no_script(server, tab):
    t = tab()
    pg = t.page
    res = analyse(pg, server.base, HOSTILE, smarthost='"><script>alert(12)</script>')
    assert res["status"] == 200
    assert "frame-ancestors 'none'" in res["headers"]["content-security-policy"]
    assert res["headers"]["x-content-type-options"] == "nosniff"
    # the values are shown as text...
    assert "<script>window.pwned=1" in pg.inner_text("ol.headers")
    assert "<script>window.pwned=6" in pg.inner_text("ol.headers .decoded")
    # ...and none became markup: no element the page does not make itself
    assert pg.locator("img, svg[onload], iframe, object, embed").count() == 0
    assert pg.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))") == ["/static/page.js"]
    assert pg.locator("a[href^='javascript:']").count() == 0
    # hover and click everything a user might: the links and the header lines
    for a in pg.locator("a.ref:visible").all()[:20]:
        a.click()
    pg.locator("ol.headers li").first.hover()
    assert pg.evaluate("window.pwned") is None
    assert t.dialogs == []
    assert t.errors == []
    # the standalone file (--html) carries the same protection in a meta CSP
    from verifier.analysis.engine import analyze_bytes
    from verifier.report.html import render

    html = render(analyze_bytes(HOSTILE.encode()))
    t2 = tab()
    t2.page.set_content(html)
    assert t2.page.evaluate("window.pwned") is None and t2.dialogs == []
    assert t2.page.locator("img, iframe").count() == 0
    assert t2.errors == []  # the inline style and script match their hashes


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_with_axe(server, tab, scheme):
    if not AXE.exists():
        _missing("axe-core", "npm install axe-core")
    # bypass_csp only so that the test can inject axe; the page itself is unchanged
    t = tab(bypass_csp=True, color_scheme=scheme)
    pg = t.page
    pg.goto(server.base + "/")
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    analyse(pg, server.base, SAMPLE.read_text(), SAMPLE_SMARTHOST)
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    # landmarks and keyboard order: skip link first, then the paste box
    assert pg.locator("main").count() == 1 and pg.locator("header[role=banner]").count() == 1
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.className") == "skip"
    pg.keyboard.press("Tab")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.id") == "headers"


def test_phone_width_and_print(server, tab):
    t = tab(viewport={"width": 375, "height": 800}, is_mobile=True)
    pg = t.page
    analyse(pg, server.base, SAMPLE.read_text(), SAMPLE_SMARTHOST)
    assert pg.evaluate("document.documentElement.scrollWidth") <= 376  # no sideways scrolling
    pg.emulate_media(media="print")
    assert not pg.locator("form.paste").is_visible()
    assert pg.locator("#verdict").is_visible()
