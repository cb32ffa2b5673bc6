"""Print the single-page HTML build of the book to a PDF with headless Chromium.

Usage:  python tools/print_pdf.py SINGLEHTML_DIR OUT_PDF

``make pdf`` (and ``make book``, ``make test``) first builds the single-page HTML
(``jupyter-book build . --builder singlehtml``, with the offline MathJax), then calls
this script, which prints ``SINGLEHTML_DIR/index.html`` with Debian's ``chromium``.
Chromium is driven by Playwright (as in the browser test): the page is printed once
MathJax has typeset and ``print-fit.js`` has shrunk wide equations to the column, so
no fixed time budget is needed; a request leaving the local files fails the build.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The text column of an A4 page less the margins of print.css, in CSS pixels: the
# page is laid out at this width on screen, so print-fit.js measures what prints.
COLUMN_PX = 680


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(html: Path, out: Path, timeout_s: float = 300) -> None:
    """Open ``html`` in headless Chromium, wait for MathJax and print-fit.js, print."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError(
            "chromium not found: install Debian's chromium "
            "(`sudo apt-get install chromium`) to build the PDF"
        )
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".tmp.pdf")
    external = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1000})

            def offline(route):  # the book must print from local files only
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    external.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_selector("html[data-print-ready]", state="attached",
                                   timeout=timeout_s * 1000)
            page.emulate_media(media="print")
            page.pdf(path=str(tmp_out), prefer_css_page_size=True,
                     print_background=True)
        finally:
            browser.close()
    if external:
        raise RuntimeError(f"the page requested {external[:3]} from the network")
    if not tmp_out.exists() or tmp_out.stat().st_size == 0:
        raise RuntimeError(f"chromium did not write {tmp_out}")
    tmp_out.replace(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("singlehtml", type=Path, help="folder of the singlehtml build")
    ap.add_argument("out", type=Path, help="PDF file to write")
    args = ap.parse_args(argv)
    index = args.singlehtml / "index.html"
    if not index.exists():
        print(f"error: {index} not found; build it with "
              "`jupyter-book build . --builder singlehtml`", file=sys.stderr)
        return 2
    try:
        print_pdf(index, args.out)
    except (FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
