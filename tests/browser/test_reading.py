"""Every chapter as a reader sees it: on a laptop (1366 x 900) and a phone (390 x 844), in the light
and the dark theme.

For each page, viewport and theme:

- nothing scrolls sideways: neither the page nor any code block;
- every image in the text has alt text; a slider's image names its sliders' values;
- figures are stored at twice the pixel density they are shown at (sharp on high-density
  screens), and their smallest text is at least 80% of the body text: read from the
  ``sgd_utils.viz.style`` measurement inside the PNG the browser chose (on the phone, the
  figure's phone rendition) and scaled by the size the page shows it at;
- every slider has a name a screen reader announces, the sliders of a figure line up, and on a
  touch screen each slider is a target of at least 24 px;
- axe-core finds no accessibility violation of serious or critical impact (on the phone in the
  light theme only: the dark theme's colours are those checked on the laptop).

A screenshot of each (the whole page on the laptop, the first screen on the phone) goes to
test-artifacts/screenshots/ (CI keeps them as artifacts), and the figure-text ratios measured to
test-artifacts/figure_text/.
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
    phone = viewport == "phone"
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=theme, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
        page.wait_for_selector(".slider-image img", state="visible")
    page.wait_for_timeout(300)  # MathJax and the widgets settle the layout
    return context, page


def png_of(source):
    """The bytes of the image the browser shows (its ``currentSrc``, an absolute URL): a data URL
    (a live notebook's slider image) or a file of the built book."""
    if source.startswith("data:"):
        return base64.b64decode(source.split(",", 1)[1])
    return (HTML / urlparse(source).path.lstrip("/")).read_bytes()


def shown_images(page):
    """Every visible image in the page's text, as a dict: the ``src`` the browser chose (of a
    ``<picture>``'s sources), ``alt``, CSS ``width`` on screen, the start of its ``html`` and
    whether it is a slider's. One call into the page, not one per image: a chapter holds
    hundreds of (mostly hidden) slider images."""
    return page.evaluate("""[...document.querySelectorAll('article.bd-article img')]
        .filter(img => img.getClientRects().length > 0 && img.offsetParent !== null)
        .map(img => ({src: img.currentSrc || img.src, alt: img.getAttribute('alt') || '',
                      width: img.getBoundingClientRect().width,
                      html: img.outerHTML.slice(0, 120),
                      slider: img.closest('.slider-image') !== null}))""")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path", reading_pages())
def test_page_reads_well(chromium, axe_js, book_url, screenshots, path, viewport, theme):
    context, page = open_as_reader(chromium, f"{book_url}/{path}", viewport, theme)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        # the whole page on the laptop; the first screen on the phone, where a whole chapter is
        # some 40 screens tall and costs seconds to capture
        page.screenshot(path=str(screenshots / f"{path.replace('/', '__')}.{viewport}-{theme}.jpg"),
                        full_page=viewport == "laptop", type="jpeg", quality=70)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow} px"
        scrolling_code = page.evaluate("""[...document.querySelectorAll('article pre')]
            .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => pre.textContent.split('\\n')
                           .reduce((a, b) => a.length > b.length ? a : b))""")
        assert not scrolling_code, f"code lines scroll sideways: {scrolling_code[:3]}"

        # the figures far below load lazily: fetch them all, to measure what the browser chose
        page.evaluate("""Promise.all([...document.querySelectorAll('article img')].map(img => {
            img.loading = 'eager';
            return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
        }))""")
        ratios = []
        body_px = float(page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)"))
        for image in shown_images(page):
            alt, css_width = image["alt"], image["width"]
            assert len(alt.strip()) >= 20, f"image without alt text: {image['html']}"
            if image["slider"]:
                assert " = " in alt, f"slider image alt names no values: {alt}"
            png = Image.open(io.BytesIO(png_of(image["src"])))
            if style.DENSITY_KEY not in png.text:
                continue   # not a figure of the book's (e.g. a logo)
            assert png.width >= 1.95 * css_width, f"{alt[:40]}: {png.width} px shown at {css_width}"
            scale = css_width / (png.width / int(png.text[style.DENSITY_KEY]))
            ratio = float(png.text[style.SMALLEST_TEXT_KEY]) * scale / body_px
            ratios.append(round(ratio, 2))
            assert ratio >= 0.8, f"{alt[:40]}: figure text is {ratio:.0%} of the body text"
        report = ARTIFACTS.parent / "figure_text" / f"{path.replace('/', '__')}.{viewport}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(ratios))

        # every slider has a name: its <label>, or an ARIA label (the ipywidgets manager's)
        unnamed = page.evaluate("""[...document.querySelectorAll(
                'input[type=range], [role=slider]')].filter(s => {
            const labels = s.labels ? [...s.labels] : [];
            const by = (s.getAttribute('aria-labelledby') || '').split(' ')
                .map(id => document.getElementById(id)).filter(Boolean);
            return ![...labels, ...by].some(e => e.textContent.trim())
                && !(s.getAttribute('aria-label') || '').trim(); }).length""")
        assert unnamed == 0, f"{unnamed} sliders without an accessible name"
        # within a figure the tracks start at the same x; on a touch screen each slider is a
        # target of at least 24 x 24 px (WCAG 2.5.8)
        misaligned = page.evaluate("""() => {
            const figures = new Map();   // slider figure -> x of its tracks
            for (const track of document.querySelectorAll('.sgd-slider-figure input[type=range]')) {
                const box = track.closest('.sgd-slider-figure');
                figures.set(box, [...(figures.get(box) || []),
                                  Math.round(track.getBoundingClientRect().x)]);
            }
            return [...figures.values()].filter(xs => new Set(xs).size > 1); }""")
        assert not misaligned, f"slider tracks of one figure start at {misaligned}"
        if viewport == "phone":
            for slider in page.locator("input[type=range]").all():
                size = slider.bounding_box()
                assert min(size["width"], size["height"]) >= 24, f"slider target of {size}"

        if viewport == "phone" and theme == "dark":
            return   # the same colours as the laptop's dark page: axe (3 s a chapter) adds nothing
        page.add_script_tag(path=str(axe_js))
        violations = page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))")
        serious = [v for v in violations if v["impact"] in SERIOUS]
        assert not serious, json.dumps(serious, indent=1)[:3000]
    finally:
        context.close()
