"""Weight and speed of the web book's pages on a first visit, against the budgets of issue 20.

For each page of the built book (``make book`` first), served from 127.0.0.1 and opened in a fresh
Chromium context (a cold cache) at 1366 x 900, it reports:

- the bytes fetched until the page settles, uncompressed and as gzip would send them (a static
  host compresses text; the PNGs and fonts are compressed already), against a 2 MB budget;
- the load event, the first contentful paint and the longest main-thread task after the first
  paint, against budgets of 1.0 s and 200 ms;
- for each slider figure, how many images it holds and how many of them the first visit fetches.

Times are medians of ``--repeat`` visits and are also given as a ratio to the load of a reference
page in the same browser and server: a plain HTML page of the chapter's size, with no script or
stylesheet, i.e. the least any page of that size can cost on this machine. A busy or slow machine
moves the times, not the ratios, much; the bytes do not move at all. The browser tests assert the
bytes; the times are measured here because a timed test fails on a busy machine, not a slow page.

Run: ``python benchmarks/bench_pages.py [--repeat 3] [PAGE ...]`` (about a minute for the book).
"""

import argparse
import functools
import gzip
import http.server
import json
import re
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
BUDGET_MB, BUDGET_LOAD_MS, BUDGET_TASK_MS = 2.0, 1000, 200
STATE = re.compile(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
                   re.S)
LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver(list => { for (const entry of list.getEntries())
    window.__longTasks.push([entry.startTime, entry.duration]); })
  .observe({type: 'longtask', buffered: true});"""
TIMINGS = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const fcp = paint ? paint.startTime : 0;
  return {load: nav.loadEventStart, fcp: fcp,
          task: Math.max(0, ...window.__longTasks.filter(t => t[0] + t[1] > fcp).map(t => t[1])),
          urls: [nav.name, ...performance.getEntriesByType('resource').map(r => r.name)],
          bytes: [nav, ...performance.getEntriesByType('resource')]
                   .reduce((total, r) => total + r.decodedBodySize, 0)}; })()"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as every static host serves
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def gzip_bytes(urls, base):
    """What the fetched files weigh gzipped (level 6, as nginx and most hosts default to)."""
    total = 0
    for url in dict.fromkeys(urls):
        path = HTML / urlparse(url).path.lstrip("/")
        if url.startswith(base) and path.is_file():
            data = path.read_bytes()
            total += len(gzip.compress(data, 6)) if path.suffix in (
                ".html", ".js", ".css", ".json", ".svg", ".ttf") else len(data)
    return total


def slider_figures(text):
    """(images, images fetched at first) per slider figure of a page, from its widget state."""
    match = STATE.search(text)
    if not match:
        return []
    models = json.loads(match.group(1))["state"]

    def images(model_id):
        model = models[model_id]
        if model["model_name"] == "HTMLModel":
            return 1 if "<img" in model["state"].get("value", "") else 0
        children = model["state"].get("children", [])
        return sum(images(child.removeprefix("IPY_MODEL_")) for child in children)

    views = re.findall(r'widget-view\+json">\{[^}]*"model_id": "([0-9a-f]+)"', text)
    return [images(view) for view in views if view in models]


def visit(browser, url):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.add_init_script(LONG_TASKS)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(800)   # fonts and lazily typeset maths after the load event
    result = page.evaluate(TIMINGS)
    context.close()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="paths under _build/html (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="visits per page (median)")
    args = parser.parse_args(argv)
    if not (HTML / "index.html").exists():
        sys.exit(f"no built book in {HTML}: run `make book` first")
    pages = args.pages or sorted(str(p.relative_to(HTML)) for p in HTML.glob("*/*.html")
                                 if p.parent.name in ("chapters", "book"))

    from playwright.sync_api import sync_playwright
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from conftest import CHROMIUM_ARGS, chromium_path

    server, base = serve(HTML)
    scratch = tempfile.TemporaryDirectory()
    reference_server, reference_base = serve(scratch.name)
    rows, over = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
        for path in pages:
            text = (HTML / path).read_text(encoding="utf-8")
            # the reference: the page's text alone, as plain HTML of the same size
            plain = re.sub(r"<script.*?</script>|<link[^>]*>|<img[^>]*>", "", text, flags=re.S)
            (Path(scratch.name) / "reference.html").write_text(plain, encoding="utf-8")
            visits = [visit(browser, f"{base}/{path}") for _ in range(args.repeat)]
            references = [visit(browser, f"{reference_base}/reference.html")
                          for _ in range(args.repeat)]
            load = statistics.median(v["load"] for v in visits)
            reference = statistics.median(v["load"] for v in references)
            row = {"page": path, "mb": visits[0]["bytes"] / 1e6,
                   "gzip_mb": gzip_bytes(visits[0]["urls"], base) / 1e6,
                   "load_ms": load, "vs_reference": load / max(reference, 1),
                   "fcp_ms": statistics.median(v["fcp"] for v in visits),
                   "task_ms": statistics.median(v["task"] for v in visits),
                   "figures": slider_figures(text),
                   "slider_images_fetched": sum("/_images/sliders/" in u
                                                for u in visits[0]["urls"])}
            rows.append(row)
            if (row["mb"] > BUDGET_MB or row["load_ms"] > BUDGET_LOAD_MS
                    or row["task_ms"] > BUDGET_TASK_MS):
                over.append(path)
        browser.close()
    server.shutdown()
    reference_server.shutdown()

    print(f"Budgets: under {BUDGET_MB} MB, load event within {BUDGET_LOAD_MS} ms, no task over "
          f"{BUDGET_TASK_MS} ms after the first paint. Median of {args.repeat} cold visits.")
    print(f"{'page':46} {'MB':>5} {'gzip':>5} {'load ms':>8} {'x ref':>6} {'FCP':>5} "
          f"{'task':>5}  slider images per figure (fetched at first)")
    for r in rows:
        print(f"{r['page']:46} {r['mb']:5.2f} {r['gzip_mb']:5.2f} {r['load_ms']:8.0f} "
              f"{r['vs_reference']:6.1f} {r['fcp_ms']:5.0f} {r['task_ms']:5.0f}  "
              f"{r['figures']} ({r['slider_images_fetched']})")
    print(f"over a budget: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    main()
