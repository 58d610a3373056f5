"""A newcomer's path from `pip install -e .` to the tour: what is missing is named with its
extra, Ctrl-C and a closed pipe end with one line or none, and `python -m demos.tour` runs."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "demos"))
import common  # noqa: E402
from minigen import backend  # noqa: E402
from minigen.exercises.__main__ import run as exercises_command  # noqa: E402


def test_ctrl_c_in_a_demo_prints_one_line_with_what_the_demo_added(capsys):
    common.one_line_errors(KeyboardInterrupt, KeyboardInterrupt("dcgan_mnist: continue with: python ..."), None)
    common.one_line_errors(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert capsys.readouterr().err.splitlines() == ["dcgan_mnist: continue with: python ...", "interrupted (Ctrl-C)"]


def test_the_demos_print_their_one_line_errors_from_the_command_line():
    assert sys.excepthook is common.one_line_errors


def test_a_demo_without_matplotlib_names_the_extra_to_install_in_one_line():
    hide = ("import runpy, sys; sys.modules['matplotlib'] = None; sys.path.insert(0, 'demos'); "
            "sys.argv = ['demos/mnist_classifier.py', '--help']; runpy.run_path(sys.argv[0], run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", hide], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ('ModuleNotFoundError: the demos draw their figures with matplotlib, which is not '
                                   'installed: pip install -e ".[demos]" (or pip install matplotlib)')


def test_python_dash_m_demos_dot_tour_runs():
    done = subprocess.run([sys.executable, "-m", "demos.tour", "--help"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and "--only" in done.stdout, done.stderr


def test_a_reader_that_stops_early_ends_the_exercises_list_quietly(monkeypatch):
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` has read its lines and gone
    closed_pipe = os.fdopen(write_end, "w")
    monkeypatch.setattr(sys, "stdout", closed_pipe)
    assert exercises_command(["list"]) == 0
    closed_pipe.close()


def test_without_cupy_the_hint_is_the_readmes_install_command(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    hint = 'pip install -e ".[cuda12'
    assert hint in backend._why_no_cuda() and hint in (ROOT / "README.md").read_text()

