"""The built website, as a reader's browser sees it.

Runs after the book build of `make test`. A local HTTP server serves _build/html and
headless Chromium (Debian's `chromium`, driven by Playwright) opens every page:
no JavaScript errors, display math typeset by the locally served MathJax, no request
leaving localhost. Internal links and local resources are checked from the HTML.
"""

import functools
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOT = ROOT / "_build" / "screenshots" / "03_back_through_time.png"
IN_CI = os.environ.get("CI") == "true"
PAGES = (
    sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith("_")
    )
    if SITE.exists()
    else []
)
RAW_MATH = re.compile(r"\$\$|\\\[|\\\(|\\begin\{")


def require(condition, message):
    """Skip with instructions on a reader's machine; fail in CI, never pass silently."""
    if not condition:
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site():
    require(
        SITE.joinpath("index.html").exists(),
        "the site is not built: run `make test` (it builds before testing)",
    )
    return SITE


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(
        chromium,
        "headless Chromium not found; install Debian's chromium "
        "(`sudo apt-get install chromium`) to run the browser test",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def open_page(browser, url):
    """Load ``url``; return the page, JS errors and requests that left localhost."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, external = [], []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return page, errors, external


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_cleanly_with_typeset_math(browser, server, path):
    page, errors, external = open_page(browser, f"{server}/{path}")
    has_math = page.locator(".math").count() > 0
    if has_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
            timeout=20000,
        )
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 0, "math was not typeset"
        text = page.evaluate(  # the page's prose: code samples may show LaTeX source
            """() => { const m = document.querySelector('main').cloneNode(true);
                       m.querySelectorAll('code, pre').forEach(e => e.remove());
                       return m.textContent; }"""
        )
        raw = RAW_MATH.search(text)
        assert not raw, f"raw LaTeX left in the visible text: {raw.group(0)!r}"
    if path == "chapters/03_back_through_time.html":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    page.close()
    assert not errors, f"JavaScript console errors: {errors}"
    assert not external, f"requests leaving localhost: {external}"


def test_every_chapter_page_has_typeset_display_equations(site):
    """The chapters exist as pages, and their numbered equations carry book numbers."""
    for nb in (ROOT / "chapters").glob("*.ipynb"):
        html = (site / "chapters" / (nb.stem + ".html")).read_text()
        assert "mathjax/tex-chtml.js" in html
    html = (site / "chapters" / "03_back_through_time.html").read_text()
    assert 'id="equation-eq-10-21"' in html and "(10.21)" in html


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "link", "script", "img"):
                self.refs.append(a[key])


@functools.lru_cache(maxsize=None)
def parse(path):
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_no_page_references_a_cdn(site):
    for path in PAGES:
        html = (site / path).read_text()
        for ref in parse(site / path).refs:
            if ref.startswith(("http://", "https://", "//")) and re.search(
                r"\.(js|css|woff2?)(\?|$)", ref
            ):
                pytest.fail(f"{path} loads {ref} from the network")
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html, path


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_and_resources_resolve(site, path):
    page = site / path
    for ref in parse(page).refs:
        parts = urlsplit(ref)
        if parts.scheme or ref.startswith(("//", "mailto:", "javascript:")):
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{path}: broken link {ref}"
        if parts.fragment and target.suffix == ".html":
            assert unquote(parts.fragment) in parse(target).ids, (
                f"{path}: {ref} points to a missing anchor"
            )
