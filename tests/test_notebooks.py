"""Hygiene of the notebooks kept in git: listed in the book, executed, small, reproducible.

Outputs are committed so GitHub and Colab readers see them (nbval then checks they still hold), but
not the widget state or precomputed image stacks, which `make book` regenerates.
"""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("book/*.ipynb")])
MAX_NOTEBOOK_KB = 400
MAX_IMAGE_KB = 120


def toc_files():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            entries.append(chapter["file"])
            entries.extend(section["file"] for section in chapter.get("sections", []))
    return entries


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_files())
    missing = [str(nb.relative_to(ROOT)) for nb in NOTEBOOKS
               if str(nb.relative_to(ROOT).with_suffix("")) not in listed]
    assert not missing, f"notebooks not in book/_toc.yml: {missing}"


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_stored_executed(path):
    size_kb = path.stat().st_size / 1024
    assert size_kb < MAX_NOTEBOOK_KB, (
        f"{path.name} is {size_kb:.0f} kB: refresh it (make refresh-notebooks)")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in notebook["metadata"], "widget state is stored: make refresh-notebooks"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    counts = [cell["execution_count"] for cell in code]
    assert counts == list(range(1, len(code) + 1)), "not executed top to bottom in one run"
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"stored error output in {path.name}"
            for mime, data in output.get("data", {}).items():
                if mime.startswith("image/"):
                    assert len(data) / 1024 < MAX_IMAGE_KB, f"{mime} output over {MAX_IMAGE_KB} kB"


PAGES = [*NOTEBOOKS, *sorted(ROOT.glob("book/*.md"))]


def markdown_sources(path):
    """(label, markdown text) of each markdown cell of a notebook, or of a whole .md page."""
    if path.suffix == ".md":
        return [("page", path.read_text(encoding="utf-8"))]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [(f"cell {index}", "".join(cell["source"]))
            for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_dollar_of_the_prose_opens_or_closes_maths(path):
    """A `$` left in the text after MyST's parse is maths that did not render: e.g. a formula
    broken after a line ending so that the next line starts with `+ ` or `- ` and becomes a
    list item, which splits the formula and prints its dollars raw."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    parser = MarkdownIt("commonmark").use(dollarmath_plugin)
    raw = []
    for label, text in markdown_sources(path):
        for token in parser.parse(text):
            raw += [f"{label}: {child.content[:80]!r}" for child in token.children or []
                    if child.type == "text" and "$" in child.content]
    assert not raw, "unrendered $ in " + path.name + ":\n" + "\n".join(raw)
