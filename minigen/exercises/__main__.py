"""The command line: ``python -m minigen.exercises list | start NAME | check [NAME ...] | reset NAME``.

Exit status: 0 when everything asked for passed, 1 when a check failed or a file could not
be loaded, 2 for a usage error (an unknown exercise, a file that exists already).
"""
import argparse
import os
import sys

from minigen.exercises import checking, student
from minigen.exercises.registry import EXERCISES, get


def list_exercises(_args):
    print(f"{'name':<24} {'topic':<26} {'difficulty':<10} status")
    for exercise in EXERCISES:
        status = "started" if student.path_of(exercise).exists() else "not started"
        print(f"{exercise.name:<24} {exercise.topic:<26} {exercise.difficulty:<10} {status}")
    return 0


def start(args):
    path = student.start(get(args.name))
    print(f"wrote {path}: replace `raise NotImplementedError` with your code, then run\n"
          f"    python -m minigen.exercises check {args.name}")
    return 0


def reset(args):
    path = student.reset(get(args.name))
    print(f"wrote {path} afresh (your previous version is gone)")
    return 0


def check(args):
    exercises = [get(name) for name in args.names] if args.names else student.started()
    if not exercises:
        print("no exercise started yet: see `python -m minigen.exercises list`, then `start NAME`")
        return 0
    summary = [(exercise.name, _check_one(exercise)) for exercise in exercises]
    if len(summary) > 1:
        print(f"\n{'exercise':<24} result")
        for name, result in summary:
            print(f"{name:<24} {result}")
    return 0 if all(result.startswith("passed") for _, result in summary) else 1


def _check_one(exercise):
    """Print the per-check report of one exercise; return its one-line summary."""
    print(f"{exercise.name} ({student.path_of(exercise)})")
    try:
        candidate = student.load(exercise)
    except Exception as error:
        print(f"  could not load it: {checking.describe_error(error)}")
        return "could not load the file"
    results = checking.run_checks(exercise, candidate)
    for result in results:
        print(f"  {'PASS' if result.passed else 'FAIL'}  {result.check}")
        if result.message:
            print("        " + result.message.replace("\n", "\n        "))
    passed = sum(result.passed for result in results)
    if results and results[-1].message == checking.NOT_IMPLEMENTED:
        return "not implemented"
    total = len(exercise.checks)
    return f"passed {passed}/{total}" if passed == total else f"failed ({passed}/{total} checks pass)"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigen.exercises", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the exercises and their status").set_defaults(run=list_exercises)
    for name, run, text in (("start", start, "write exercises/NAME.py to fill in"),
                            ("reset", reset, "write exercises/NAME.py afresh")):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(run=run)
    command = commands.add_parser("check", help="run the checks of NAME (default: of every started exercise)")
    command.add_argument("names", nargs="*", metavar="NAME")
    command.set_defaults(run=check)
    args = parser.parse_args(argv)
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
