"""Every chapter as a reader sees it: on a laptop (1366 x 900) and a phone (390 x 844), in the light
and the dark theme.

For each page, viewport and theme:

- nothing scrolls sideways: neither the page nor any code block;
- every image in the text has alt text; a slider's image names its sliders' values;
- figures are stored at twice the pixel density they are shown at (sharp on high-density
  screens), and on the laptop their smallest text is at least 80% of the body text: read from the
  ``sgd_utils.viz.style`` measurement inside each PNG and scaled by the size the page shows it at;
- every slider has a name a screen reader announces;
- axe-core finds no accessibility violation of serious or critical impact.

A screenshot of each goes to test-artifacts/screenshots/ (CI keeps them as artifacts), and the
figure-text ratios measured to test-artifacts/figure_text/ (on the phone a figure shrinks to the
screen, so its text does too: those ratios are recorded, not asserted).
"""

import base64
import io
import json
from urllib.parse import urlparse

import pytest
from PIL import Image

from conftest import ARTIFACTS, HTML
from sgd_utils.viz import style

VIEWPORTS = {"laptop": (1366, 900), "phone": (390, 844)}
THEMES = ("light", "dark")
SERIOUS = ("serious", "critical")


def reading_pages():
    if not HTML.exists():
        return ["chapters/01_gradient_descent.html"]  # book_url then fails: run make book first
    return sorted(str(p.relative_to(HTML)) for p in HTML.glob("*/*.html")
                  if p.parent.name in ("chapters", "book"))


def open_as_reader(browser, url, viewport, theme):
    """A fresh context (cold cache) of the viewport, the OS in ``theme`` and the book on "auto",
    as a first visit is."""
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=theme)
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
        page.wait_for_selector(".slider-image img", state="visible")
    page.wait_for_timeout(300)  # MathJax and the widgets settle the layout
    return context, page


def png_of(page, image):
    """The bytes of an ``<img>``: a data URL (slider images) or a file of the built book."""
    source = image.get_attribute("src")
    if source.startswith("data:"):
        return base64.b64decode(source.split(",", 1)[1])
    return (HTML / urlparse(page.url).path.lstrip("/")).parent.joinpath(source).read_bytes()


def shown_images(page):
    """(locator, CSS width on screen) of every visible image in the page's text."""
    images = page.locator("article.bd-article img")
    return [(images.nth(i), images.nth(i).bounding_box()["width"])
            for i in range(images.count()) if images.nth(i).is_visible()]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path", reading_pages())
def test_page_reads_well(chromium, axe_js, book_url, screenshots, path, viewport, theme):
    context, page = open_as_reader(chromium, f"{book_url}/{path}", viewport, theme)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        page.screenshot(path=str(screenshots / f"{path.replace('/', '__')}.{viewport}-{theme}.jpg"),
                        full_page=True, type="jpeg", quality=70)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow} px"
        scrolling_code = page.evaluate("""[...document.querySelectorAll('article pre')]
            .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => pre.textContent.split('\\n')
                           .reduce((a, b) => a.length > b.length ? a : b))""")
        assert not scrolling_code, f"code lines scroll sideways: {scrolling_code[:3]}"

        ratios = []
        body_px = float(page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)"))
        for image, css_width in shown_images(page):
            alt = image.get_attribute("alt") or ""
            html = image.evaluate("e => e.outerHTML")[:120]
            assert len(alt.strip()) >= 20, f"image without alt text: {html}"
            png = Image.open(io.BytesIO(png_of(page, image)))
            if style.DENSITY_KEY not in png.text:
                continue   # not a figure of the book's (e.g. a logo)
            assert png.width >= 1.95 * css_width, f"{alt[:40]}: {png.width} px shown at {css_width}"
            scale = css_width / (png.width / int(png.text[style.DENSITY_KEY]))
            ratio = float(png.text[style.SMALLEST_TEXT_KEY]) * scale / body_px
            ratios.append(round(ratio, 2))
            if viewport == "laptop":
                assert ratio >= 0.8, f"{alt[:40]}: figure text is {ratio:.0%} of the body text"
        report = ARTIFACTS.parent / "figure_text" / f"{path.replace('/', '__')}.{viewport}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(ratios))
        for image in page.locator(".slider-image img:visible").all():
            assert " = " in image.get_attribute("alt"), "slider image alt names no values"

        unnamed = page.evaluate("""[...document.querySelectorAll('[role=slider]')].filter(s => {
            const by = s.getAttribute('aria-labelledby');
            const named = by && by.split(' ').map(id => document.getElementById(id))
                .some(e => e && e.textContent.trim());
            return !named && !(s.getAttribute('aria-label') || '').trim(); }).length""")
        assert unnamed == 0, f"{unnamed} sliders without an accessible name"

        page.add_script_tag(path=str(axe_js))
        violations = page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))")
        serious = [v for v in violations if v["impact"] in SERIOUS]
        assert not serious, json.dumps(serious, indent=1)[:3000]
    finally:
        context.close()
