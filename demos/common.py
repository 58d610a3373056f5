"""What the demos share: their command line, their output folder, and how they stop (see
DESIGN: demos). Import it before minigen.viz: from then on Ctrl-C and a missing optional
package end a demo with one line, not a traceback."""
import argparse
import contextlib
import pathlib
import shlex
import sys

import numpy as np

from minigen.backend import canonical_device
from minigen.data import load_mnist
from minigen.exercises import use_student_versions
from minigen.exercises.checking import describe_error
from minigen.exercises.student import folder


def one_line_errors(kind, error, traceback):
    """The demos' sys.excepthook: Ctrl-C (with what a demo adds to it, such as its --resume
    command) and an ImportError that names what to install print one line; anything else
    prints Python's traceback."""
    if issubclass(kind, KeyboardInterrupt):
        print(str(error) or "interrupted (Ctrl-C)", file=sys.stderr)
    elif issubclass(kind, ImportError) and "pip install" in str(error):
        print(f"{kind.__name__}: {error}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, traceback)


sys.excepthook = one_line_errors

try:
    use_student_versions()  # MINIGEN_EXERCISES=NAME,...: run the student's versions (docs/exercises.md)
except (KeyError, FileNotFoundError, AttributeError) as error:
    sys.exit(f"MINIGEN_EXERCISES: {error.args[0]}")
except Exception as error:  # the student's file itself fails to load: a SyntaxError, a NameError ...
    sys.exit(f"MINIGEN_EXERCISES: could not load a student's file from {folder()}/: {describe_error(error)}")


def int_at_least(low, what):
    """An argparse type: an int >= low, else a usage error that names the value."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


positive_int = int_at_least(1, "a positive integer")
non_negative_int = int_at_least(0, "a non-negative integer")


def available_device(text):
    """argparse type: a device this machine has, as canonical_device names it ("cuda" -> "cuda:0")."""
    try:
        return canonical_device(text)
    except (ValueError, RuntimeError) as error:
        raise argparse.ArgumentTypeError(str(error))


def demo_parser(doc, topic, quick_help, device=True):
    """A parser with the options every demo takes: --out (default out/<topic>), --seed,
    --quick, and --device unless the demo has no device to choose."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if device:
        parser.add_argument("--device", type=available_device, default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", default=f"out/{topic}", help="folder for the figures and metrics.json")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def output_folder(parser, args):
    """The --out folder, created if needed; one that cannot be is a usage error."""
    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"argument --out: cannot create {args.out!r}: {error.strerror or error}")
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


def gan_run_metrics(args, epochs, train_digits):
    """What a GAN demo's metrics.json says of its run: epochs, batch, data, device, seed, resumed."""
    return {"epochs": epochs, "batch_size": args.batch_size, "train_digits": train_digits, "device": args.device,
            "data": args.data, "seed": args.seed, "resumed": args.resume}


def resumable_checkpoint(args, out, demo):
    """<out>/checkpoint.npz, where a GAN demo keeps its run; with --resume it must exist
    already (SystemExit naming the path otherwise)."""
    path = out / "checkpoint.npz"
    if args.resume and not path.exists():
        raise SystemExit(f"{demo}: --resume: no checkpoint at {path}; run without --resume first")
    return path


@contextlib.contextmanager
def checkpoint_on_interrupt(trainer, path, demo, argv):
    """Ctrl-C inside the block: save ``trainer``'s checkpoint to ``path`` (save_checkpoint,
    atomic) and raise KeyboardInterrupt with one line that gives the command to resume:
    ``python demos/<demo>.py`` with ``argv`` (default sys.argv[1:]) and --resume. The round
    cut short is not in the checkpoint's history, but what it had done is: the resumed run
    goes on from there, not number for number as an uninterrupted run would."""
    try:
        yield
    except KeyboardInterrupt:
        trainer.save_checkpoint(path)
        words = list(sys.argv[1:] if argv is None else argv)
        command = shlex.join(["python", f"demos/{demo}.py", *words] + ([] if "--resume" in words else ["--resume"]))
        raise KeyboardInterrupt(f"{demo}: interrupted (rounds done: {trainer.step_}); saved {path}; "
                                f"continue with: {command}") from None
