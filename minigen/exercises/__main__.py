"""The command line: ``python -m minigen.exercises list | start NAME | check [NAME ...] | reset NAME``.

Exit status: 0 when everything asked for passed, 1 when a check failed or a file could not
be loaded, 2 for a usage error (an unknown exercise, a file that exists already). Without a
command it prints the help. Each exercise's checks run in a child process (sandbox.py).
"""
import argparse
import os
import sys

from minigen import exercises
from minigen.exercises import checking, sandbox, student
from minigen.exercises.registry import DEMOS, EXERCISES, get


def list_exercises(_args):
    print(f"{'name':<24} {'topic':<26} {'difficulty':<10} status")
    for exercise in EXERCISES:
        print(f"{exercise.name:<24} {exercise.topic:<26} {exercise.difficulty:<10} {student.status(exercise)}")
    return 0


def start(args):
    path = student.start(get(args.name))
    print(f"wrote {path}: replace `raise NotImplementedError` with your code, then run\n"
          f"    python -m minigen.exercises check {args.name}")
    if DEMOS.get(args.name):
        print(f"and see a demo run with your version:\n    MINIGEN_EXERCISES={args.name} python {DEMOS[args.name]}")
    return 0


def reset(args):
    path, backup = student.reset(get(args.name))
    print(f"wrote {path} afresh" + (f"; your previous version is kept as {backup}" if backup else ""))
    return 0


def check(args):
    exercises = [get(name) for name in args.names] if args.names else student.started()
    if not exercises:
        print("no exercise started yet: see `python -m minigen.exercises list`, then `start NAME`")
        return 0
    summary = [(exercise.name, _check_one(exercise, args.time_limit)) for exercise in exercises]
    if len(summary) > 1:
        print(f"\n{'exercise':<24} result")
        for name, result in summary:
            print(f"{name:<24} {result}")
    return 0 if all(result.startswith("passed") for _, result in summary) else 1


def _check_one(exercise, time_limit):
    """Print the per-check report of one exercise; record and return its one-line summary."""
    print(f"{exercise.name} ({student.path_of(exercise)})")
    if not student.path_of(exercise).exists():
        print(f"  could not load it: {student.not_started(exercise)}")
        return "could not load the file"
    load_error, results = sandbox.check_in_child(exercise, time_limit)
    if load_error:
        print(f"  could not load it: {load_error}")
        return _recorded(exercise, "could not load the file")
    for result in results:
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.check}")
        if result.message:
            print("        " + result.message.replace("\n", "\n        "))
    passed = sum(result.passed for result in results)
    if results and results[-1].message == checking.NOT_IMPLEMENTED:
        return _recorded(exercise, "not implemented")
    total = len(exercise.checks)
    return _recorded(exercise, f"passed {passed}/{total}" if passed == total else
                     f"failed ({passed}/{total} checks pass)")


def _recorded(exercise, verdict):
    student.record(exercise, verdict)
    return verdict


def time_limit(text):
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigen.exercises", description=exercises.__doc__.splitlines()[0],
                                     epilog="Begin with `list`, then `start NAME`; docs/exercises.md tells the rest.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="the exercises and their status").set_defaults(run=list_exercises)
    for name, run, text in (("start", start, "write exercises/NAME.py to fill in"),
                            ("reset", reset, "write exercises/NAME.py afresh (yours kept as NAME.py.bakN)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(run=run)
    command = commands.add_parser("check", help="run the checks of NAME (default: of every started exercise)")
    command.add_argument("names", nargs="*", metavar="NAME")
    command.add_argument("--time-limit", type=time_limit, default=sandbox.TIME_LIMIT, metavar="SECONDS",
                         help=f"for all the checks of one exercise (default {sandbox.TIME_LIMIT:g})")
    command.set_defaults(run=check)
    args = parser.parse_args(argv)
    if args.command is None:  # `python -m minigen.exercises` alone: what it can do
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (KeyError, FileExistsError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2


def run(argv=None):
    """main, for the command line: a reader that stops early (``list | head``) ends it quietly."""
    try:
        status = main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it could not be caught
        return status
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit goes nowhere
        return 0


if __name__ == "__main__":
    sys.exit(run())
