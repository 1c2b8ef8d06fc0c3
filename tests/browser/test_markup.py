"""The built pages' markup, read as files: valid HTML5, unique ids, references that resolve, and
the repository a release build names. No browser needed, but a built book is (`make book`).

The parse uses html5lib, an implementation of the HTML5 parsing algorithm, which reports every
parse error the standard defines (stray end tags, bad nesting, unescaped ``&`` in links...).
"""

import collections
import os
import re
from pathlib import Path

import html5lib
import pytest
import yaml

from conftest import HTML, ROOT

ID = re.compile(r'\sid="([^"]*)"')
# attributes whose value names other elements by id (space-separated for the aria-* ones)
ID_REFERENCES = re.compile(r'\s(for|aria-labelledby|aria-describedby|aria-controls)="([^"]*)"')


def built_pages():
    if not HTML.exists():
        return []
    # index.html is not a page: Jupyter Book writes it after Sphinx, a one-line redirect to the
    # book's first page.
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith("_") and p.name != "index.html")


@pytest.fixture(scope="module")
def pages():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book in {HTML}: run `make book` first")
    return {path: (HTML / path).read_text(encoding="utf-8") for path in built_pages()}


def test_every_page_parses_as_html5_without_error(pages):
    errors = {}
    for path, text in pages.items():
        parser = html5lib.HTMLParser(strict=False)
        parser.parse(text)
        if parser.errors:
            lines = text.splitlines()
            errors[path] = [f"{code} at line {line}: {lines[line - 1][max(col - 60, 0):col + 20]}"
                            for (line, col), code, _ in parser.errors[:3]]
    assert not errors, errors


def test_ids_are_unique_within_each_page(pages):
    repeated = {path: [i for i, n in collections.Counter(ID.findall(text)).items() if n > 1]
                for path, text in pages.items()}
    repeated = {path: ids for path, ids in repeated.items() if ids}
    assert not repeated, repeated


def test_labels_and_aria_references_name_elements_that_exist(pages):
    broken = {}
    for path, text in pages.items():
        ids = set(ID.findall(text))
        missing = [f"{attribute}={name}" for attribute, names in ID_REFERENCES.findall(text)
                   for name in names.split() if name not in ids]
        if missing:
            broken[path] = missing[:5]
    assert not broken, broken


def test_exercise_and_solution_bodies_have_ids_of_their_own(pages):
    chapter = pages["chapters/01_gradient_descent.html"]
    bodies = re.findall(r'<section id="([^"]*-content)"', chapter)
    assert len(bodies) >= 8 and len(set(bodies)) == len(bodies), bodies
    assert 'id="solution-content"' not in chapter and 'id="exercise-content"' not in chapter


def test_nothing_is_fetched_from_another_host(pages):
    """Every script, stylesheet and image is the book's own (links to read elsewhere are fine)."""
    foreign = {path: re.findall(r'(?:src|href)="(https?://[^"]+\.(?:js|css|woff2?))"', text)
               for path, text in pages.items()}
    foreign = {path: urls for path, urls in foreign.items() if urls}
    assert not foreign, foreign
    assert not any("THEBE_JS_URL" in text for text in pages.values())


def test_a_release_build_names_its_repository_everywhere(pages):
    """With $BOOK_REPOSITORY_URL set (a release build, see the README), no page may still point
    at the placeholder repository of _config.yml."""
    url = os.environ.get("BOOK_REPOSITORY_URL", "").strip().rstrip("/").removesuffix(".git")
    placeholder = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    if not url:
        pytest.skip("not a release build: BOOK_REPOSITORY_URL is not set")
    stale = [path for path, text in pages.items() if placeholder in text]
    assert not stale, f"pages still linking to {placeholder}: {stale}"
    launch = pages["chapters/01_gradient_descent.html"]
    owner_and_name = "/".join(Path(url).parts[-2:])
    assert url in launch, f"the repository button does not link to {url}"
    assert f"mybinder.org/v2/gh/{owner_and_name}" in launch, "Binder does not launch from it"
