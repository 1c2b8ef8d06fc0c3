"""The book's own Sphinx hooks: lighter pages and valid markup on top of Jupyter Book's defaults.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. Each hook fixes something a reader
met in the built book (issue 20):

- **Slider figures without the 3.6 MB widget manager.** A page whose widgets are all the book's
  slider figures gets ``book/web_assets/sliders.js``, which draws them from the stored widget
  state, instead of require.js and the ipywidgets manager; a page with any other widget keeps
  the manager.
- **Images out of the page, and late.** Each slider image is moved from a base64 ``data:`` URL
  inside the page's widget state into a file of its own, ``_images/sliders/<hash>.png``, so a page
  transfers only the images the reader sees; identical images are stored once. The widget state
  loses its empty (null) fields, which the widget models default to anyway, and, where
  sliders.js draws it all, the fields it does not read and its duplicate layouts and styles.
  Every image in the text loads lazily: those far below the first screen wait until the reader
  scrolls near them.
- **Figures for phones.** Every figure has a second rendition laid out for a phone's text
  column (``sgd_utils.viz.phone``); a ``<picture>`` shows it on screens too narrow for the wide
  one, whose text would otherwise shrink to half the body text. A slider image's comes in its
  widget state, a static figure's inside its PNG: it is written to ``_images/phone/`` and cut out
  of the PNG a laptop downloads.
- **Icons in kilobytes.** The theme draws its icons twice over: with Font Awesome's CSS and web
  fonts, and again with Font Awesome's 1.5 MB JavaScript, which swaps every icon for an SVG. The
  book keeps the CSS and, once the pages are written, replaces the script with a comment
  (:data:`NO_ICON_SCRIPT`) and cuts the fonts and the stylesheet's 1,900 icon rules down to the
  icons the pages use.
- **MathJax without a chain of requests.** MathJax's loader fetches its components one after
  another (the loader, then the core, then TeX and the output); the page asks for all of them at
  once with ``<link rel="preload">``, so they arrive together while the page is parsed.
- **MathJax without long tasks.** MathJax typesets nothing by itself (``startup.typeset: false``);
  ``book/web_assets/maths.js`` hands it the formulas near the screen, a batch per task. MathJax's
  own lazy extension compiled every formula of a page in one task: 240 ms in chapter 10.
- **Only the assets a page uses.** sphinx-design's stylesheet and script (62 kB) load only on a page
  with one of its components.
- **No thebe.** The book has no live-code button, yet sphinx-thebe adds a script (with a URL
  on unpkg.com) and a stylesheet to every page, the script twice, which is a console error.
- **Valid markup.** sphinx-exercise gives the body of every exercise and every solution the same
  id (``exercise-content``, ``solution-content``), and sphinx-proof every unlabelled proof
  (``proof``, ``proof-content``): invalid HTML, and a broken target for links. The theme's "open
  issue" button writes a raw ``&`` into its link.
- **One setting for the repository.** ``_config.yml`` names a placeholder repository; a release
  build sets ``BOOK_REPOSITORY_URL`` (see the README) and every repository, issue, Binder and Colab
  link points there instead.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ConfigError
from sphinx.transforms.post_transforms import SphinxPostTransform

from sgd_utils.viz.phone import phone_rendition, without_phone_rendition
from sgd_utils.viz.style import css_size

REPOSITORY_SETTING = "BOOK_REPOSITORY_URL"
REPOSITORY_URL = re.compile(r"https://[^/\s]+(/[^/\s]+){2,}")   # host, owner, name
MATHJAX_LOADER = "startup.js"
ICON_SCRIPT = "_static/scripts/fontawesome.js"   # the theme's template loads it on every page
NO_ICON_SCRIPT = """\
// The book's build (book/_ext/book_html.py) replaced pydata-sphinx-theme's fontawesome.js, 1.5 MB
// that swaps every icon for an inline SVG: the theme's stylesheet already draws the same icons
// with Font Awesome's web fonts, cut down to the icons these pages use.
"""
ICON_FONTS = "_static/vendor/fontawesome/webfonts"
THEME_CSS = "_static/styles/pydata-sphinx-theme.css"
ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:(?:before|after),?)+)\{content:"\\([0-9a-f]+)"\}')
ICON_CLASS = re.compile(r'class="[^"]*"')
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# The widget models book/web_assets/sliders.js draws (keep the two lists alike), and those of them
# that are plain values, which widgets may share.
SHAREABLE_MODELS = {"LayoutModel", "SliderStyleModel", "HTMLStyleModel", "DescriptionStyleModel"}
SLIDERS_JS_MODELS = {"VBoxModel", "SelectionSliderModel", "StackModel", "HTMLModel",
                     "LinkModel"} | SHAREABLE_MODELS
SLIDER_IMAGES = "_images/sliders"
PHONE_IMAGES = "_images/phone"
DATA_PNG = re.compile(r'(src|srcset)="data:image/png;base64,([A-Za-z0-9+/=]+)"')
# A static figure as myst-nb writes it: <img ... src="../_images/<name>.png" style="width: ...">
STATIC_PNG = re.compile(r'<img ([^>]*?)src="([^"]*?)_images/([^"/]+\.png)"([^>]*?)\s*/?>')
SHARED_IDS = ("exercise-content", "solution-content")


def _is_thebe(asset) -> bool:
    filename = str(asset.filename or "")
    return ("thebe" in Path(filename).name
            or "THEBE_JS_URL" in getattr(asset, "attributes", {}).get("body", ""))


def png_file(png: bytes, outdir: Path, folder: str) -> str:
    """Write ``png`` to ``outdir/folder``, named by its content's hash (so identical images are
    stored once); return its path under ``outdir``."""
    name = f"{folder}/{hashlib.sha256(png).hexdigest()[:20]}.png"
    path = outdir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")   # a reader never sees half a file
        partial.write_bytes(png)
        partial.replace(path)
    return name


def image_files(state: dict, outdir: Path, pathto) -> dict:
    """``state`` with every ``data:`` PNG of an HTML widget written to a file under
    ``outdir/SLIDER_IMAGES`` (named by its content's hash) and referred to by its URL: the
    ``<img>``'s ``src`` and a phone rendition's ``srcset``."""

    def to_file(match):
        url = pathto(png_file(base64.b64decode(match.group(2)), outdir, SLIDER_IMAGES), 1)
        if match.group(1) == "srcset":
            return f'srcset="{url}"'
        return f'src="{url}" loading="lazy"'

    for model in state["state"].values():
        value = model.get("state", {}).get("value")
        if model.get("model_name") == "HTMLModel" and isinstance(value, str):
            model["state"]["value"] = DATA_PNG.sub(to_file, value)
    return state


def without_nulls(state: dict) -> dict:
    """``state`` without the widget attributes that are null: a missing attribute takes its
    model's default, which for every such attribute is null too. A third of a page's state."""
    for model in state["state"].values():
        model["state"] = {key: value for key, value in model.get("state", {}).items()
                          if value is not None}
    return state


def compact(state: dict) -> dict:
    """``state`` as small as sliders.js can read it, when sliders.js draws every model of it
    (:data:`SLIDERS_JS_MODELS`; a page with another model keeps its state for the ipywidgets
    manager, nulls aside): without the ``_model_*``/``_view_*`` attributes, which repeat what
    each entry's ``model_name`` says, and with one copy of each distinct layout or style, which
    the widgets then share (a figure of 320 images had 739 layouts and styles, 3 distinct)."""
    state = without_nulls(state)
    models = state["state"]
    if not all(m.get("model_name") in SLIDERS_JS_MODELS for m in models.values()):
        return state
    for model in models.values():
        model["state"] = {key: value for key, value in model["state"].items()
                          if not key.startswith(("_model_", "_view_"))}
    canonical, alias = {}, {}
    for model_id, model in models.items():
        if model["model_name"] in SHAREABLE_MODELS:
            key = json.dumps([model["model_name"], model["state"]], sort_keys=True)
            alias[model_id] = canonical.setdefault(key, model_id)
    for model_id in [i for i, kept in alias.items() if i != kept]:
        del models[model_id]

    def relink(value):
        if isinstance(value, str) and value.startswith("IPY_MODEL_"):
            return "IPY_MODEL_" + alias.get(value[len("IPY_MODEL_"):], value[len("IPY_MODEL_"):])
        if isinstance(value, list):
            return [relink(v) for v in value]
        return value

    for model in models.values():
        model["state"] = {key: relink(value) for key, value in model["state"].items()}
    return state


def phone_pictures(body: str, sources: dict[str, Path], outdir: Path, pathto) -> str:
    """``body`` with each static figure whose PNG (``sources`` maps an ``_images`` name to the
    file it is copied from) carries a phone rendition wrapped in a ``<picture>`` that shows the
    rendition, as a file of ``outdir/PHONE_IMAGES``, on screens narrower than the figure."""

    def wrap(match):
        source = sources.get(match.group(3))
        if source is None or not source.is_file():
            return match.group(0)
        png = source.read_bytes()
        narrow = phone_rendition(png)
        if narrow is None:
            return match.group(0)
        width, height = css_size(png)
        phone_width, phone_height = css_size(narrow)
        url = pathto(png_file(narrow, outdir, PHONE_IMAGES), 1)
        # size by attributes, not myst-nb's inline style, which would hold the phone rendition
        # at the wide figure's height
        attributes = re.sub(r'\s*style="[^"]*"', "", match.group(1) + match.group(4)).strip()
        image = (f'<img {attributes} src="{match.group(2)}_images/{match.group(3)}" '
                 f'width="{width}" height="{height}" />')
        return (f'<picture><source media="(max-width: {width + 32}px)" srcset="{url}" '
                f'width="{phone_width}" height="{phone_height}" />{image}</picture>')

    return STATIC_PNG.sub(wrap, body)


def strip_phone_renditions(app, exception):
    """Cut the phone renditions out of the copied figures: a laptop's reader downloads only the
    wide figure, a phone's only the rendition (written by :func:`phone_pictures`)."""
    if exception is not None or app.builder.format != "html":
        return
    for path in sorted((Path(app.outdir) / "_images").glob("*.png")):
        png = path.read_bytes()
        if phone_rendition(png) is not None:
            partial = path.with_suffix(".part")
            partial.write_bytes(without_phone_rendition(png))
            partial.replace(path)


def lazy_images(body: str) -> str:
    """Every ``<img>`` of the page's text loads lazily (the browser fetches those near the
    screen at once, and the others as the reader scrolls)."""
    return re.sub(r"<img (?![^>]*\bloading=)", '<img loading="lazy" ', body)


def mathjax_preloads(app, scripts, pathto) -> str:
    """``<link rel="preload">`` tags for the MathJax components that the page's MathJax loader
    will fetch (none on a page without maths)."""
    loader = next((s for s in scripts if str(s.filename).endswith(MATHJAX_LOADER)), None)
    if loader is None:
        return ""
    root = str(loader.filename)[:-len(MATHJAX_LOADER)]
    wanted = app.config.mathjax3_config.get("loader", {}).get("load", [])
    components = ["core", *wanted, "output/chtml/fonts/tex"]
    return "".join(f'<link rel="preload" as="script" href="{pathto(f"{root}{name}.js", 1)}">\n'
                   for name in dict.fromkeys(components))


def trim_page(app, pagename, templatename, context, doctree):
    """Drop thebe; on pages with widgets, swap the widget manager for sliders.js and move the
    images out of the page. Runs after myst-nb has added the page's widget assets."""
    scripts = context.get("script_files")
    if scripts is None:
        return
    css = context.get("css_files", [])
    escape_button_links(context.get("header_buttons", []))
    if "body" in context:
        images = getattr(app.builder, "images", {})   # source path -> name under _images/
        sources = {name: Path(app.srcdir, source) for source, name in images.items()}
        context["body"] = lazy_images(phone_pictures(context["body"], sources, Path(app.outdir),
                                                     context["pathto"]))
    preloads = mathjax_preloads(app, scripts, context["pathto"])
    context["metatags"] = context.get("metatags", "") + preloads
    if preloads:   # a page with maths: maths.js typesets it near the screen, a batch at a time
        scripts.append(_JavaScript("_static/maths.js", defer="defer"))
    scripts[:] = [s for s in scripts if not _is_thebe(s)]
    css[:] = [c for c in css if not _is_thebe(c)]
    if 'class="sd-' not in context.get("body", ""):   # no sphinx-design card, tab or button here
        scripts[:] = [s for s in scripts if not str(s.filename).endswith("design-tabs.js")]
        css[:] = [c for c in css if not str(c.filename).endswith("sphinx-design.min.css")]

    # Sphinx stores a page's own scripts under _static/.
    manager = {f"_static/{path}" for path in app.config.nb_ipywidgets_js}
    for i, script in enumerate(scripts):
        if script.attributes.get("type") != WIDGET_STATE:
            continue
        state = compact(image_files(json.loads(script.attributes["body"]),
                                    Path(app.outdir), context["pathto"]))
        body = json.dumps(state, separators=(",", ":")).replace("</", "<\\/")
        scripts[i] = _JavaScript(None, priority=script.priority, type=WIDGET_STATE, body=body)
        if all(m.get("model_name") in SLIDERS_JS_MODELS for m in state["state"].values()):
            scripts[:] = [s for s in scripts if str(s.filename) not in manager]
            scripts.append(_JavaScript("_static/sliders.js", defer="defer"))
        break   # otherwise myst-nb's ipywidgets manager stays, as Jupyter Book loads it


class UniqueContentIds(SphinxPostTransform):
    """Name each exercise's and solution's body after its box, ``<box id>-content``; then give
    any id still used twice in a page (unlabelled proofs) a number: ``proof``, ``proof-2``..."""

    default_priority = 900   # after sphinx-exercise's and sphinx-proof's own post-transforms

    def run(self, **kwargs):
        for section in self.document.findall(nodes.section):
            if not any(i in SHARED_IDS for i in section["ids"]):
                continue
            box = section.parent
            owner = box["ids"][0] if box is not None and box.get("ids") else None
            kept = [i for i in section["ids"] if i not in SHARED_IDS]
            section["ids"] = kept + ([f"{owner}-content"] if owner else [])
        seen = set()
        for node in self.document.findall(nodes.Element):
            ids = []
            for name in node.get("ids", []):
                unique, number = name, 1
                while unique in seen:
                    number += 1
                    unique = f"{name}-{number}"
                seen.add(unique)
                ids.append(unique)
            if ids:
                node["ids"] = ids


def escape_button_links(buttons):
    """The theme writes header buttons' URLs into ``href`` unescaped: escape their ``&``."""
    for button in buttons:
        if "url" in button:
            button["url"] = html.escape(html.unescape(button["url"]), quote=True)
        escape_button_links(button.get("buttons", []))


def icon_codepoints(css: str) -> dict[str, int]:
    """Font Awesome's class -> code point table, from the theme's stylesheet."""
    table = {}
    for selectors, code in ICON_RULE.findall(css):
        for name in re.findall(r"\.(fa-[a-z0-9-]+):", selectors):
            table[name] = int(code, 16)
    return table


def used_icons(outdir: Path) -> set[str]:
    """Every ``fa-*`` class in the built pages."""
    names = set()
    for page in outdir.rglob("*.html"):
        for attribute in ICON_CLASS.findall(page.read_text(encoding="utf-8")):
            names.update(re.findall(r"\bfa-[a-z0-9-]+", attribute))
    return names


def subset_icon_fonts(app, exception):
    """Replace the theme's icon script with a comment, and keep in each icon font only the
    glyphs of the icons the pages use (1-2 kB each, from 118-156 kB), and in the stylesheet
    only their rules. The icons are read from every built page, so none goes missing;
    tests/browser checks that each icon on each page is drawn."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset   # matplotlib's dependency; imported only when building

    outdir = Path(app.outdir)
    css_path = outdir / THEME_CSS
    fonts = outdir / ICON_FONTS
    if not css_path.exists() or not fonts.exists():
        return
    (outdir / ICON_SCRIPT).write_text(NO_ICON_SCRIPT, encoding="utf-8")
    css = css_path.read_text(encoding="utf-8")
    table = icon_codepoints(css)
    used = used_icons(outdir)
    codepoints = sorted({table[name] for name in used if name in table})

    def keep_if_used(rule):
        names = re.findall(r"\.(fa-[a-z0-9-]+):", rule.group(1))
        return rule.group(0) if used.intersection(names) else ""

    css_path.write_text(ICON_RULE.sub(keep_if_used, css), encoding="utf-8")
    for font_path in sorted(fonts.glob("*.woff2")) + sorted(fonts.glob("*.ttf")):
        options = subset.Options()
        options.flavor = "woff2" if font_path.suffix == ".woff2" else None
        options.layout_features = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(font_path), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        partial = font_path.with_name(font_path.name + ".part")
        subset.save_font(font, str(partial), options)
        partial.replace(font_path)


def repository_from_environment(app, config):
    """``$BOOK_REPOSITORY_URL``, when set, replaces the repository of ``_config.yml`` in every
    link the theme builds from it (repository and issue buttons, Binder and Colab launches)."""
    url = os.environ.get(REPOSITORY_SETTING, "").strip().rstrip("/")
    if not url:
        return
    if not REPOSITORY_URL.fullmatch(url):
        raise ConfigError(f"${REPOSITORY_SETTING} must be the https address of the book's "
                          f"repository, e.g. https://github.com/owner/name; got {url!r}")
    config.html_theme_options["repository_url"] = url.removesuffix(".git")


def setup(app):
    app.connect("config-inited", repository_from_environment)
    app.connect("html-page-context", trim_page, priority=900)
    app.connect("build-finished", subset_icon_fonts)
    app.connect("build-finished", strip_phone_renditions)
    app.add_post_transform(UniqueContentIds)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
