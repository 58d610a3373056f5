"""What the demos share: their command line and their output folder (see DESIGN: demos)."""
import argparse
import pathlib
import sys

import numpy as np

from minigen.data import load_mnist
from minigen.exercises import use_student_versions

try:
    use_student_versions()  # MINIGEN_EXERCISES=NAME,...: run the student's versions (docs/exercises.md)
except (KeyError, FileNotFoundError, AttributeError) as error:
    sys.exit(f"MINIGEN_EXERCISES: {error.args[0]}")


def positive_int(text):
    """argparse type: an int >= 1, else a usage error that names the value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def demo_parser(doc, topic, quick_help, device=True):
    """A parser with the options every demo takes: --out (default out/<topic>), --seed,
    --quick, and --device unless the demo has no device to choose."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if device:
        parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", default=f"out/{topic}", help="folder for the figures and metrics.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def output_folder(args):
    """The --out folder, created if needed."""
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def mnist_digits(args, quick_digits=4000):
    """(train_x, train_y, test_x, test_y) of --data; with --quick, at most ``quick_digits``
    training digits, a random subset drawn with --seed (all 4,000 of the embedded set, in
    another order)."""
    train_x, train_y = load_mnist("train", variant=args.data)
    test_x, test_y = load_mnist("test", variant=args.data)
    if args.quick:
        keep = np.random.default_rng(args.seed).permutation(len(train_y))[:quick_digits]
        train_x, train_y = train_x[keep], train_y[keep]
    return train_x, train_y, test_x, test_y
