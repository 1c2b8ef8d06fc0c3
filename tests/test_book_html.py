"""Unit tests of the book's Sphinx hooks (book/_ext/book_html.py); the built pages themselves are
checked in tests/browser."""

import base64
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from matplotlib.figure import Figure
from sphinx.errors import ConfigError

from sgd_utils.viz import widgets
from sgd_utils.viz.phone import phone_copy, with_phone_rendition
from sgd_utils.viz.style import css_size, figure_png

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import book_html  # noqa: E402


def png():
    fig = Figure(figsize=(1, 1))
    fig.subplots().plot([0, 1])
    return figure_png(fig)


def widget_state(*values):
    html = {f"m{i}": {"model_name": "HTMLModel", "state": {"value": v, "tooltip": None}}
            for i, v in enumerate(values)}
    layout = {"l0": {"model_name": "LayoutModel", "state": {"width": None, "display": "none"}}}
    return {"state": {**html, **layout}}


def test_slider_images_move_to_files_named_by_their_content(tmp_path):
    data = base64.b64encode(png()).decode()
    tag = f'<img src="data:image/png;base64,{data}" alt="a figure">'
    state = widget_state(tag, tag, "<b>no image</b>")
    out = book_html.image_files(state, tmp_path, lambda target, resource: f"../{target}")
    files = list((tmp_path / book_html.SLIDER_IMAGES).iterdir())
    assert len(files) == 1 and files[0].read_bytes() == base64.b64decode(data)  # stored once
    value = out["state"]["m0"]["state"]["value"]
    assert value == (f'<img src="../{book_html.SLIDER_IMAGES}/{files[0].name}" loading="lazy" '
                     'alt="a figure">')
    assert out["state"]["m2"]["state"]["value"] == "<b>no image</b>"


def test_a_slider_images_phone_rendition_moves_to_a_file_too(tmp_path):
    wide, narrow = png(), figure_png(Figure(figsize=(0.5, 1)))
    tag = widgets.image_html(wide, "a figure", narrow)
    out = book_html.image_files(widget_state(tag), tmp_path, lambda target, resource: target)
    value = out["state"]["m0"]["state"]["value"]
    assert "data:" not in value
    srcset = value.split('srcset="', 1)[1].split('"', 1)[0]
    src = value.split(' src="', 1)[1].split('"', 1)[0]
    assert (tmp_path / srcset).read_bytes() == narrow and (tmp_path / src).read_bytes() == wide


def figure_with_phone_rendition(tmp_path):
    """A static figure as the notebook stores it (with its phone rendition inside) and as
    myst-nb writes it into the page."""
    fig = Figure(figsize=(6, 2))
    fig.subplots(1, 2)
    wide = figure_png(fig)
    narrow = figure_png(phone_copy(fig))
    source = tmp_path / "jupyter_execute" / "abc.png"
    source.parent.mkdir()
    source.write_bytes(with_phone_rendition(wide, narrow))
    body = ('<p><img alt="Two panels side by side" src="../_images/abc.png" '
            'style="width: 480px; height: 160px;" /></p>')
    return wide, narrow, source, body


def test_a_static_figure_shows_its_phone_rendition_on_narrow_screens(tmp_path):
    wide, narrow, source, body = figure_with_phone_rendition(tmp_path)
    out = book_html.phone_pictures(body, {"abc.png": source}, tmp_path / "html",
                                   lambda target, resource: f"../{target}")
    (phone_file,) = (tmp_path / "html" / book_html.PHONE_IMAGES).iterdir()
    assert phone_file.read_bytes() == narrow
    width, height = css_size(wide)
    phone_width, phone_height = css_size(narrow)
    assert out == (f'<p><picture><source media="(max-width: {width + 32}px)" '
                   f'srcset="../{book_html.PHONE_IMAGES}/{phone_file.name}" '
                   f'width="{phone_width}" height="{phone_height}" />'
                   f'<img alt="Two panels side by side" src="../_images/abc.png" '
                   f'width="{width}" height="{height}" /></picture></p>')
    # a figure without a rendition, or whose source is unknown, stays as it was
    assert book_html.phone_pictures(body, {}, tmp_path / "html", str) == body


def test_the_copied_figures_lose_their_phone_rendition(tmp_path):
    wide, _, source, _ = figure_with_phone_rendition(tmp_path)
    images = tmp_path / "html" / "_images"
    images.mkdir(parents=True)
    (images / "abc.png").write_bytes(source.read_bytes())
    (images / "plain.png").write_bytes(wide)
    app = SimpleNamespace(outdir=str(tmp_path / "html"), builder=SimpleNamespace(format="html"))
    book_html.strip_phone_renditions(app, None)
    assert (images / "abc.png").read_bytes() == wide == (images / "plain.png").read_bytes()


def test_null_widget_attributes_are_dropped_and_the_others_kept():
    state = book_html.without_nulls(widget_state("x"))
    assert state["state"]["m0"]["state"] == {"value": "x"}
    assert state["state"]["l0"]["state"] == {"display": "none"}


def test_images_in_the_text_load_lazily_unless_told_otherwise():
    body = '<p><img src="a.png" alt="a"></p><img loading="eager" src="b.png">'
    assert book_html.lazy_images(body) == ('<p><img loading="lazy" src="a.png" alt="a"></p>'
                                           '<img loading="eager" src="b.png">')


def test_icon_table_reads_every_selector_of_a_rule():
    css = '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}.fa-x:before{content:"\\58"}'
    assert book_html.icon_codepoints(css) == {"fa-bars": 0xF0C9, "fa-navicon": 0xF0C9,
                                             "fa-x": 0x58}


def test_header_button_links_are_escaped_once():
    buttons = [{"url": "https://x/issues/new?title=a&body=b"},
               {"buttons": [{"url": "https://x/?a=1&amp;b=2"}]}]
    book_html.escape_button_links(buttons)
    assert buttons[0]["url"] == "https://x/issues/new?title=a&amp;body=b"
    assert buttons[1]["buttons"][0]["url"] == "https://x/?a=1&amp;b=2"


@pytest.mark.parametrize("given, used", [
    ("https://github.com/you/sgd-book", "https://github.com/you/sgd-book"),
    ("https://gitlab.example.org/group/sub/book.git/", "https://gitlab.example.org/group/sub/book"),
])
def test_the_repository_setting_replaces_the_configured_one(monkeypatch, given, used):
    config = SimpleNamespace(html_theme_options={"repository_url": "https://placeholder/x/y"})
    monkeypatch.setenv(book_html.REPOSITORY_SETTING, given)
    book_html.repository_from_environment(None, config)
    assert config.html_theme_options["repository_url"] == used


@pytest.mark.parametrize("given", ["github.com/you/book", "http://github.com/you/book",
                                   "https://github.com", "https://github.com/you",
                                   "https://github.com/you/my book"])
def test_a_malformed_repository_setting_is_refused_by_name(monkeypatch, given):
    config = SimpleNamespace(html_theme_options={})
    monkeypatch.setenv(book_html.REPOSITORY_SETTING, given)
    with pytest.raises(ConfigError, match=book_html.REPOSITORY_SETTING):
        book_html.repository_from_environment(None, config)
    assert config.html_theme_options == {}


def test_without_the_setting_the_configured_repository_stays(monkeypatch):
    config = SimpleNamespace(html_theme_options={"repository_url": "https://placeholder/x/y"})
    monkeypatch.delenv(book_html.REPOSITORY_SETTING, raising=False)
    book_html.repository_from_environment(None, config)
    assert config.html_theme_options == {"repository_url": "https://placeholder/x/y"}


def test_compact_state_shares_identical_styles_and_keeps_every_reference_valid():
    def html(layout, style):
        return {"model_name": "HTMLModel", "state": {
            "_view_name": "HTMLView", "value": "x", "layout": f"IPY_MODEL_{layout}",
            "style": f"IPY_MODEL_{style}"}}

    models = {
        "h1": html("l1", "s1"), "h2": html("l2", "s2"),
        "l1": {"model_name": "LayoutModel", "state": {"_model_name": "LayoutModel"}},
        "l2": {"model_name": "LayoutModel", "state": {"_model_name": "LayoutModel", "x": None}},
        "s1": {"model_name": "HTMLStyleModel", "state": {"font_size": None}},
        "s2": {"model_name": "HTMLStyleModel", "state": {}},
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_h1",
                                                                  "IPY_MODEL_h2"]}},
    }
    out = book_html.compact({"state": models})["state"]
    assert set(out) == {"h1", "h2", "l1", "s1", "box"}
    assert out["h2"]["state"] == {"value": "x", "layout": "IPY_MODEL_l1", "style": "IPY_MODEL_s1"}
    references = [v for m in out.values() for v in m["state"].values()
                  if isinstance(v, str) and v.startswith("IPY_MODEL_")]
    assert all(ref[len("IPY_MODEL_"):] in out for ref in references)


def test_compact_state_leaves_a_page_with_other_widgets_to_the_ipywidgets_manager():
    models = {"p": {"model_name": "IntProgressModel", "state": {"_view_name": "ProgressView",
                                                                "value": 3, "bar_style": None}},
              "l1": {"model_name": "LayoutModel", "state": {}},
              "l2": {"model_name": "LayoutModel", "state": {}}}
    out = book_html.compact({"state": models})["state"]
    assert set(out) == {"p", "l1", "l2"}
    assert out["p"]["state"] == {"_view_name": "ProgressView", "value": 3}


def page_context(models, tmp_path):
    """A page's Sphinx context as myst-nb leaves it: widget state, then the manager's scripts."""
    from sphinx.builders.html._assets import _JavaScript

    manager = ["vendor/requirejs/require.js", "vendor/html-manager/dist/embed-amd.js"]
    app = SimpleNamespace(outdir=str(tmp_path), srcdir=str(tmp_path),
                          builder=SimpleNamespace(images={}), config=SimpleNamespace(
        nb_ipywidgets_js={path: {} for path in manager}, mathjax3_config={}))
    body = json.dumps({"version_major": 2, "version_minor": 0, "state": models})
    scripts = [_JavaScript(None, type=book_html.WIDGET_STATE, body=body),
               *(_JavaScript(f"_static/{path}") for path in manager)]
    context = {"script_files": scripts, "css_files": [], "body": "<p>text</p>",
               "pathto": lambda target, resource=0: f"../{target}"}
    book_html.trim_page(app, "page", "page.html", context, None)
    return [str(s.filename) for s in context["script_files"]]


def test_a_page_of_slider_figures_gets_sliders_js_instead_of_the_manager(tmp_path):
    scripts = page_context({"h": {"model_name": "HTMLModel", "state": {"value": "x"}}}, tmp_path)
    assert "_static/sliders.js" in scripts
    assert not any("embed-amd" in s or "require.js" in s for s in scripts)


def test_a_page_with_another_widget_keeps_the_ipywidgets_manager(tmp_path):
    scripts = page_context({"h": {"model_name": "HTMLModel", "state": {"value": "x"}},
                            "p": {"model_name": "IntProgressModel", "state": {"value": 3}}},
                           tmp_path)
    assert "_static/sliders.js" not in scripts
    assert any("embed-amd" in s for s in scripts) and any("require.js" in s for s in scripts)


def maths_context(with_maths):
    """A page's scripts after trim_page, with MathJax's loader or without it."""
    from sphinx.builders.html._assets import _JavaScript

    app = SimpleNamespace(outdir="unused", srcdir="unused", builder=SimpleNamespace(images={}),
                          config=SimpleNamespace(
        nb_ipywidgets_js={}, mathjax3_config={"loader": {"load": ["input/tex"]}}))
    scripts = [_JavaScript("_static/vendor/mathjax/es5/startup.js")] if with_maths else []
    context = {"script_files": scripts, "css_files": [], "body": "<p>text</p>",
               "pathto": lambda target, resource=0: f"../{target}"}
    book_html.trim_page(app, "page", "page.html", context, None)
    return context


def test_a_page_with_maths_gets_the_batched_typesetter_and_preloads():
    context = maths_context(with_maths=True)
    added = [s for s in context["script_files"] if str(s.filename) == "_static/maths.js"]
    assert len(added) == 1 and added[0].attributes.get("defer") == "defer"
    assert 'href="../_static/vendor/mathjax/es5/input/tex.js"' in context["metatags"]


def test_a_page_without_maths_gets_no_typesetter():
    context = maths_context(with_maths=False)
    assert context["script_files"] == [] and context["metatags"] == ""
