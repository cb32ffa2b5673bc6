"""The built website, as a reader's browser sees it.

Runs after the book build of `make test`. A local HTTP server serves _build/html and
headless Chromium (Debian's `chromium`, driven by Playwright) opens every page:
no JavaScript errors, display math typeset by the locally served MathJax, no request
leaving localhost. Internal links and local resources are checked from the HTML.
On a phone (390 px wide) no page scrolls sideways as a whole; in dark mode every
figure sits on a light background. Screenshots go to _build/screenshots/.
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
SHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT = SHOTS / "03_back_through_time.png"
PHONE = {"width": 390, "height": 844}  # CSS pixels of a current phone
# Figures are drawn dark on light; in dark mode they must keep a light background.
MIN_FIGURE_BACKGROUND_LUMINANCE = 0.8
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
REFRESH = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.I)


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


def open_page(browser, url, viewport=None, color_scheme="light"):
    """Load ``url``; return the page, JS errors and requests that left localhost."""
    page = browser.new_page(
        viewport=viewport or {"width": 1200, "height": 900}, color_scheme=color_scheme
    )
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


def wait_for_math(page):
    """Wait until MathJax has typeset the page (if it has math); True if it has."""
    if page.locator(".math").count() == 0:
        return False
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
        timeout=20000,
    )
    page.evaluate("() => MathJax.startup.promise")
    return True


def shot_name(path, prefix=""):
    return prefix + path.replace("/", "_").removesuffix(".html") + ".png"


@pytest.mark.parametrize("path", PAGES)
def test_page_in_the_browser(browser, server, path):
    """Each page is loaded once, as on a phone, and checked three ways:

    - it loads cleanly: no JavaScript errors, no request leaving localhost, display
      math typeset by MathJax and no raw LaTeX left in the prose;
    - at 390 px it does not scroll sideways (wide equations and code scroll in
      place);
    - chapters, switched to the dark colour scheme: every figure sits on a light
      background.
    """
    page, errors, external = open_page(browser, f"{server}/{path}", viewport=PHONE)
    redirect = REFRESH.search((SITE / path).read_text(encoding="utf-8"))
    if redirect:  # index.html -> intro.html: check the page it lands on, once there
        page.wait_for_url(f"**/{redirect.group(1)}")
        page.wait_for_load_state("load")
    has_math = wait_for_math(page)
    if has_math:
        assert page.locator("mjx-container").count() > 0, "math was not typeset"
        text = page.evaluate(  # the page's prose: code samples may show LaTeX source
            """() => { const m = document.querySelector('main').cloneNode(true);
                       m.querySelectorAll('code, pre').forEach(e => e.remove());
                       return m.textContent; }"""
        )
        raw = RAW_MATH.search(text)
        assert not raw, f"raw LaTeX left in the visible text: {raw.group(0)!r}"

    width = page.evaluate("() => document.documentElement.scrollWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot_name(path, "phone_")), full_page=False)
    culprits = []
    if width > PHONE["width"]:
        culprits = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > w + 1
                           && getComputedStyle(e).position !== 'fixed')
                 .slice(-5).map(e => e.tagName + '.' + e.className + ' ' +
                                Math.round(e.getBoundingClientRect().right))""",
            PHONE["width"],
        )
    assert width <= PHONE["width"], (
        f"{path} is {width} px wide at a {PHONE['width']} px viewport: {culprits}"
    )

    if path == "chapters/03_back_through_time.html":  # the README's screenshot
        page.set_viewport_size({"width": 1200, "height": 900})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    figures = []
    if path.startswith("chapters/"):
        page.emulate_media(color_scheme="dark")  # the theme follows the OS scheme
        page.wait_for_function(
            "() => document.documentElement.dataset.theme === 'dark'"
        )
        figures = page.evaluate(FIGURE_BACKGROUNDS)
        if figures:
            page.locator("main .cell_output img").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / shot_name(path, "dark_")))
    page.close()
    assert not errors, f"JavaScript console errors: {errors}"
    assert not external, f"requests leaving localhost: {external}"
    for fig in figures:
        lum = luminance(fig["background"])
        assert lum >= MIN_FIGURE_BACKGROUND_LUMINANCE, (
            f"{path}: figure {fig['src']} sits on {fig['background']} in dark mode"
        )


def test_chapter_pages_show_figures(site):
    """The dark-mode figure check of test_page_in_the_browser is not vacuous."""
    with_figures = [
        p for p in PAGES
        if p.startswith("chapters/")
        and any("_images/" in r and r.endswith(".png") for r in parse(site / p).refs)
    ]
    assert len(with_figures) >= 10, with_figures


FIGURE_BACKGROUNDS = r"""() => {
  const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const opaque = (c) => { const v = rgba(c); return v.length === 3 || v[3] > 0.5; };
  return [...document.querySelectorAll('main img')]
    .filter(img => img.closest('.cell_output, figure'))
    .map(img => {
      let e = img, bg = null;
      while (e && !bg) {
        const c = getComputedStyle(e).backgroundColor;
        if (opaque(c)) bg = c;
        e = e.parentElement;
      }
      img.scrollIntoView();
      return {src: img.getAttribute('src'), background: rgba(bg || 'rgb(0,0,0)')};
    });
}"""


def luminance(rgb):
    r, g, b = (c / 255 for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_mode_is_dark(browser, server):
    """The control for the figure test: dark mode really darkens the page."""
    page, _, _ = open_page(browser, f"{server}/intro.html", color_scheme="dark")
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.close()
    assert luminance([float(v) for v in re.findall(r"[\d.]+", bg)]) < 0.3, bg


def test_download_menu_links_the_book_pdf(site):
    for path in ("intro.html", "chapters/01_forward_pass.html"):
        refs = parse(site / path).refs
        assert any(r.endswith("book.pdf") for r in refs), f"{path}: no link to book.pdf"


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
        if target == site / "book.pdf":  # built by the PDF step, which needs chromium
            require(target.exists(), "book.pdf not built: run `make pdf`")
        assert target.exists(), f"{path}: broken link {ref}"
        if parts.fragment and target.suffix == ".html":
            assert unquote(parts.fragment) in parse(target).ids, (
                f"{path}: {ref} points to a missing anchor"
            )
