"""Open every page of the built book in headless Chromium, as an offline reader would.

Each page must load with no JavaScript errors beyond the known harmless ones below, make no request
to another host, typeset its maths, render every slider figure, and change the figure when each
slider moves. Full-page screenshots go to test-artifacts/screenshots/ for inspection.
"""

import re
from urllib.parse import urlparse

import pytest

from conftest import HTML

# Known, harmless messages, each with its cause. Anything else fails the page.
KNOWN_HARMLESS = [
    # sphinx-thebe 0.3.1 writes its inline configuration script twice on every page.
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme, before the reader has chosen light or dark mode.
    "Got invalid theme mode: . Resetting to auto.",
]
WIDGET_VIEW = 'type="application/vnd.jupyter.widget-view+json"'
MAX_PAGE_MB = 6.0


def book_pages():
    if not HTML.exists():
        return ["index.html"]  # the book_url fixture then fails with "run make book first"
    skip = {"genindex.html", "search.html", "index.html"}  # index.html only redirects to the intro
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if p.name not in skip and not p.relative_to(HTML).parts[0].startswith("_"))


def open_page(context, url):
    """Load ``url`` and return (page, problems, external requests)."""
    page = context.new_page()
    problems, external = [], []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", lambda msg: problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (None, "127.0.0.1") and
            urlparse(request.url).scheme in ("http", "https", "ws", "wss") else None)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    return page, problems, external


def wait_for_maths(page):
    """Wait until MathJax has typeset the page; return the number of rendered formulas."""
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
    return page.locator("mjx-container").count()


def figure_png(page, handle):
    """Screenshot of the figure that the slider of ``handle`` (its knob) drives: the one visible
    image in the slider figure's box. Not the whole box: its knob and readout move with the
    slider, so a screenshot of it changes even when the figure does not."""
    area = handle.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][last()]")
    image = area.locator(".slider-image:visible")
    assert image.count() == 1, f"{image.count()} visible figures in one slider figure"
    return image.screenshot()


def move_slider(page, handle):
    """Press an arrow key on the slider: right, or left when it already sits at the right end."""
    handle.focus()
    at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
    page.wait_for_timeout(250)


@pytest.mark.parametrize("path", book_pages())
def test_page(browser_context, book_url, screenshots, path):
    html = (HTML / path).read_text(encoding="utf-8")
    assert len(html.encode()) / 1e6 < MAX_PAGE_MB, f"{path} is {len(html) / 1e6:.1f} MB"
    page, problems, external = open_page(browser_context, f"{book_url}/{path}")
    try:
        if re.search(r'class="math|\\\(|\$\$', html):
            assert wait_for_maths(page) > 0, "page has maths but MathJax typeset none"
        num_views = html.count(WIDGET_VIEW)
        if num_views:
            page.wait_for_selector(".slider-image", state="visible")
            page.wait_for_timeout(300)
            visible = page.locator(".slider-image:visible").count()
            assert visible >= num_views, f"{num_views} widget outputs but {visible} figures shown"
            assert "Error displaying widget" not in page.content()
        handles = page.locator(".noUi-handle")
        for i in range(handles.count()):
            handle = handles.nth(i)
            handle.scroll_into_view_if_needed()
            before = figure_png(page, handle)
            move_slider(page, handle)
            assert figure_png(page, handle) != before, f"slider {i} did not change its figure"
        page.screenshot(path=str(screenshots / (path.replace("/", "__") + ".png")), full_page=True)
        unexpected = [p for p in problems if not any(k in p for k in KNOWN_HARMLESS)]
        assert not unexpected, "\n".join(unexpected)
        assert not external, f"requests to other hosts: {external}"
    finally:
        page.close()


def test_search_finds_a_term(browser_context, book_url):
    page, problems, external = open_page(browser_context, f"{book_url}/search.html?q=momentum")
    try:
        page.wait_for_selector("#search-results li", timeout=15000)
        assert page.locator("#search-results li").count() > 0
        assert not external, f"requests to other hosts: {external}"
    finally:
        page.close()


def test_notebook_pages_offer_launch_and_download(browser_context, book_url):
    page, _, _ = open_page(browser_context, f"{book_url}/book/how_to_use.html")
    try:
        hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
        assert any("mybinder.org" in h for h in hrefs), "no Binder launch button"
        assert any("colab.research.google.com" in h for h in hrefs), "no Colab launch button"
        assert any(h.endswith("how_to_use.ipynb") for h in hrefs), "no notebook download"
    finally:
        page.close()
