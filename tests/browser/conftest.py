"""Fixtures for the browser tests: the built book served on 127.0.0.1 and headless Chromium.

The book must be built first (`make book`, or `make test`, which builds it before these run).
Chromium is Debian's `/usr/bin/chromium` (override with `$CHROMIUM`), driven by Playwright without
`playwright install`: the test needs no browser download. Where no system Chromium exists, the
browser that `playwright install chromium` downloads is used.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
ARTIFACTS = Path(os.environ.get("BOOK_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
AXE = Path(os.environ.get("AXE_JS", ROOT / "_build" / "axe-core" / "axe.min.js"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path():
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]
    return next((c for c in candidates if c and Path(c).exists()), None)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output for failures
        pass


@pytest.fixture(scope="session")
def book_url():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book in {HTML}: run `make book` first")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


def launch_failed(error):
    pytest.fail(f"could not start Chromium ({error}): install it "
                "(Debian: apt-get install chromium), set $CHROMIUM to its path, "
                "or run `playwright install chromium`")


@pytest.fixture(scope="session")
def browser_context(playwright, tmp_path_factory):
    # None: Playwright's own build, if `playwright install` fetched one
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium_path(),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
    except Exception as error:  # Playwright raises its own Error types
        launch_failed(error)
    yield context
    context.close()


@pytest.fixture(scope="session")
def chromium(playwright):
    """The browser itself, for tests that open each page in a fresh context of their own
    (another viewport or colour scheme, a cold cache)."""
    try:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
    except Exception as error:
        launch_failed(error)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_js():
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `python scripts/fetch_axe.py` (`make browser` "
                    "does)")
    return AXE


@pytest.fixture(scope="session")
def screenshots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
