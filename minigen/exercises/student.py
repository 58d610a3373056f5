"""The student's files: exercises/NAME.py, generated from the reference, loaded back, installed.

The folder is ``exercises/`` in the current directory, or ``$MINIGEN_EXERCISES_DIR``; its
``.results.json`` keeps the last verdict of ``check`` on each file, for ``list``.
``MINIGEN_EXERCISES=hmm_forward,viterbi`` makes ``use_student_versions()`` (which the demos
call) run the student's functions in place of minigen's for the rest of the program.
"""
import atexit
import collections
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import pathlib
import textwrap

from minigen.exercises.checking import install
from minigen.exercises.registry import BY_NAME, DEMOS, get


def folder():
    """The folder of the student's files."""
    return pathlib.Path(os.environ.get("MINIGEN_EXERCISES_DIR", "exercises"))


def path_of(exercise):
    return folder() / f"{exercise.name}.py"


def stub(exercise):
    """The starting file: a docstring with the task, imports, and the reference's signature and
    docstring over ``raise NotImplementedError``."""
    reference = exercise.reference
    doc = inspect.getdoc(reference) or textwrap.fill(exercise.statement, 96)
    quote = 'r"""' if "\\" in doc else '"""'
    head = [f'"""Exercise {exercise.name} ({exercise.topic}, {exercise.difficulty}).', "",
            textwrap.fill(exercise.statement, 96), "", *([exercise.context, ""] if exercise.context else []),
            "Replace `raise NotImplementedError` with your code, then run",
            f"    python -m minigen.exercises check {exercise.name}",
            f"minigen's own version is {exercise.where}: try it yourself first.", '"""']
    if exercise.imports:
        head.append(exercise.imports.rstrip("\n"))
    body = [f"def {exercise.attr}{inspect.signature(reference)}:",
            textwrap.indent(f'{quote}{doc}\n"""', "    "),
            "    raise NotImplementedError"]
    return "\n".join(head + ["", ""] + body) + "\n"


def start(exercise):
    """Write the starting file; FileExistsError if there is one already. Returns its path."""
    path = path_of(exercise)
    if path.exists():
        raise FileExistsError(f"{path} exists already; to start over, run: python -m minigen.exercises reset "
                              f"{exercise.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(stub(exercise), encoding="utf-8")
    return path


def reset(exercise):
    """Write the starting file again. The student's work, if any, is kept as NAME.py.bakN (the
    first free N); returns (the path, the backup's path or None when the file was still the stub)."""
    path, backup = path_of(exercise), None
    if path.exists() and path.read_text(encoding="utf-8") != stub(exercise):
        backup = next(path.with_name(f"{path.name}.bak{n}") for n in range(1, 10 ** 6)
                      if not path.with_name(f"{path.name}.bak{n}").exists())
        path.rename(backup)
    path.unlink(missing_ok=True)
    return start(exercise), backup


def load(exercise):
    """The student's function from exercises/NAME.py (a fresh import every time).

    Raises FileNotFoundError when the file is missing, AttributeError when it defines no
    function of the reference's name; errors in the file itself propagate (SyntaxError ...).
    """
    path = path_of(exercise)
    if not path.exists():
        raise FileNotFoundError(not_started(exercise))
    spec = importlib.util.spec_from_file_location(f"student_{exercise.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    candidate = getattr(module, exercise.attr, None)
    if not callable(candidate):
        raise AttributeError(f"{path} defines no function {exercise.attr!r} (the name must stay as generated)")
    return candidate


def not_started(exercise):
    """What to say of an exercise whose file does not exist."""
    return f"{path_of(exercise)} does not exist; start the exercise with: python -m minigen.exercises start " \
           f"{exercise.name}"


def started():
    """The exercises whose file exists, in the registry's order."""
    return [exercise for exercise in BY_NAME.values() if path_of(exercise).exists()]


def use_student_versions():
    """Install the student's versions of the exercises named in $MINIGEN_EXERCISES (comma-separated).

    For the rest of the program minigen calls them in place of its own. Prints one line
    naming them, and at exit how often each ran (a demo that never calls one says so);
    returns the names (none when the variable is unset or empty). Raises KeyError for an
    unknown name and FileNotFoundError for a file not started.
    """
    names = [name.strip() for name in os.environ.get("MINIGEN_EXERCISES", "").split(",") if name.strip()]
    for name in names:
        exercise = get(name)
        install(exercise, _counted(exercise.name, load(exercise)))
    if names:
        print(f"minigen: using the student versions of {', '.join(names)} (from {folder()}/)")
        atexit.register(report_calls, names)
    return names


CALLS = collections.Counter()  # exercise name -> calls of the student's version installed by use_student_versions


def _counted(name, candidate):
    """``candidate``, counting its calls in CALLS[name]."""
    @functools.wraps(candidate)
    def counted(*args, **kwargs):
        CALLS[name] += 1
        return candidate(*args, **kwargs)
    return counted


def report_calls(names):
    """Print how often the student's version of each of ``names`` ran (at the end of a demo)."""
    for name in names:
        if CALLS[name]:
            print(f"minigen: your {name} ran {CALLS[name]} time{'s' if CALLS[name] > 1 else ''}")
        else:
            demo = DEMOS.get(name)
            print(f"minigen: your {name} never ran: this program does not call it"
                  + (f" (MINIGEN_EXERCISES={name} python {demo} does)" if demo else ""))


# ------------------------------------------------------------------ the last verdicts, for `list`
def _results_file():
    return folder() / ".results.json"


def _fingerprint(exercise):
    return hashlib.sha256(path_of(exercise).read_bytes()).hexdigest()


def record(exercise, verdict):
    """Remember ``verdict`` ("passed 3/3", "failed (1/3 checks pass)" ...) for the file as it is now."""
    results = _read_results()
    results[exercise.name] = {"sha256": _fingerprint(exercise), "verdict": verdict}
    partial = _results_file().with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=1), encoding="utf-8")
    partial.replace(_results_file())  # whole or not at all


def status(exercise):
    """'not started', 'started' (not checked since its last change), or the last verdict of check."""
    if not path_of(exercise).exists():
        return "not started"
    last = _read_results().get(exercise.name)
    return last["verdict"] if last and last["sha256"] == _fingerprint(exercise) else "started"


def _read_results():
    try:
        results = json.loads(_results_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: no verdict is known
        return {}
    return results if isinstance(results, dict) else {}
