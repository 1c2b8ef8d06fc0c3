#!/usr/bin/env python
"""Fetch axe-core, the accessibility engine the browser tests run on every page.

axe-core (Deque Systems, MPL-2.0, https://github.com/dequelabs/axe-core) is the engine behind
Chrome's Lighthouse accessibility audit; the tests inject its ``axe.min.js`` into each page in
Chromium and fail on any violation of "serious" or "critical" impact. It comes from the npm
registry, checked against the sha512 ``integrity`` the registry publishes (pinned below), and is
not part of the book: readers never load it.

Usage: ``python scripts/fetch_axe.py [DEST]`` (default ``_build/axe-core/axe.min.js``). A
destination that already holds the pinned file is left alone; otherwise the file is written to
a temporary name and renamed into place.
"""

import argparse
import hashlib
import os
import tarfile
import tempfile
from pathlib import Path

from npm_tarball import npm_pack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "_build" / "axe-core" / "axe.min.js"
SPEC = "axe-core@4.14.1"
INTEGRITY = ("sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZ"
             "e37OgudVGtQ==")
MEMBER = "package/axe.min.js"
# SHA-256 of axe.min.js inside that tarball, so an existing copy is checked without npm.
SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch(dest: Path) -> None:
    if dest.is_file() and sha256(dest) == SHA256:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        tarball = npm_pack(SPEC, INTEGRITY, workdir, "fetch_axe")
        with tarfile.open(tarball) as archive:
            data = archive.extractfile(MEMBER).read()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise SystemExit(f"fetch_axe: {MEMBER} of {SPEC} has SHA-256 "
                         f"{hashlib.sha256(data).hexdigest()}, expected {SHA256}")
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    part.write_bytes(data)
    part.replace(dest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST)
    fetch(parser.parse_args().dest)


if __name__ == "__main__":
    main()
