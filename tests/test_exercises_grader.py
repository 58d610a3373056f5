"""The grader itself: its instruments never run the student's code, its hints are each for the
mistake they name, a student's file cannot stop or hang `check`, every exercise is on the path
of the demo that claims it, and `list`, `reset` and the bare command do what a newcomer expects."""
import ast
import atexit
import importlib
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from minigen.exercises import EXERCISES, get, run_checks
from minigen.exercises.__main__ import main
from minigen.exercises.checking import install
from minigen.exercises.registry import DEMOS
from minigen.exercises.student import report_calls, use_student_versions
from minigen.ops.shape import sum_to
from test_exercises import BUGS

ROOT = pathlib.Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "demos"))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_EXERCISES_DIR", str(tmp_path / "exercises"))
    return tmp_path / "exercises"


def _messages(name, candidate):
    return "\n".join(result.message for result in run_checks(get(name), candidate) if not result.passed)


# ------------------------------------------------------------------ the instruments run no student code
def mul_dx_sign_flipped(self, gy):
    x, y = self.inputs
    return sum_to(-(gy * y), x.shape), sum_to(gy * x, y.shape)


def test_a_flipped_dl_dx_in_mul_backward_is_blamed_on_input_0():
    """gradcheck's projection used to go through the student's Mul: the two sign errors cancelled
    on x and showed on y."""
    messages = _messages("mul_backward", mul_dx_sign_flipped)
    assert "input 0" in messages and "the sign is flipped" in messages
    assert "input 1" not in messages, messages


def test_swapped_x_and_y_in_mul_backward_get_the_swap_hint():
    def mul_swapped(self, gy):
        x, y = self.inputs
        return sum_to(gy * x, x.shape), sum_to(gy * y, y.shape)
    first = next(result for result in run_checks(get("mul_backward"), mul_swapped) if not result.passed)
    assert first.check == "gradcheck of x * y, both (3, 4)"  # with broadcast shapes the swap shows no pattern
    assert "input 0" in first.message and "this is the gradient of input 1: are two gradients swapped" in first.message


# ------------------------------------------------------------------ hints for the mistakes they name
def kl_summed_over_examples(self, mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(axis=0)


def kl_std_as_var(self, mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar / 2)).sum(axis=-1)


def test_a_kl_summed_over_the_wrong_axis_gets_the_axis_hint_only():
    messages = _messages("gaussian_kl", kl_summed_over_examples)
    assert "sum over the last dim (axis=-1)" in messages
    assert "exp(logvar / 2)" not in messages, messages


def test_a_kl_that_is_negative_somewhere_fails_the_kl_at_least_0_check():
    failed = [result.check for result in run_checks(get("gaussian_kl"), kl_std_as_var) if not result.passed]
    assert any("KL >= 0" in check for check in failed)
    messages = _messages("gaussian_kl", kl_std_as_var)
    assert "got -0.1915 at mu = 0, logvar = 1.5" in messages and "is the sign flipped" not in messages


def _hint_texts():
    """(file, the constant text of a hint) for every hint the grader's modules can give."""
    found = []
    for path in sorted((ROOT / "minigen" / "exercises").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ("hint", "shape_hint"):
                texts = [_text(node.value)]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hint_when":
                texts = [_text(node.args[2])]
            elif isinstance(node, (ast.Constant, ast.JoinedStr)) and "  hint: " in _text(node):
                texts = [_text(node).split("  hint: ", 1)[1]]
            elif isinstance(node, ast.FunctionDef) and node.name == "value_hint":
                texts = [_text(n.value) for n in ast.walk(node) if isinstance(n, ast.Return)]
            else:
                continue
            found += [(path.name, text) for text in texts if len(text) > 8]
    return sorted(set(found))


def _text(node):
    """The constant text of a string expression; '{}' where an f-string has a placeholder."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part) if isinstance(part, ast.Constant) else "{}" for part in node.values)
    if isinstance(node, ast.BinOp):
        return _text(node.left) + _text(node.right)
    if isinstance(node, ast.IfExp):
        return _text(node.body) or _text(node.orelse)
    return ""


# hints that a test outside the bug zoo gives their wrong answer, and where
HINTS_TESTED_ELSEWHERE = {
    "sys.exit() and exit() end the program": "test_sys_exit_in_a_students_function_is_a_failed_check",
    "each dim's KL, -ln sigma": "test_a_kl_that_is_negative_somewhere_fails_the_kl_at_least_0_check",
    "one KL per example": "test_a_kl_summed_over_the_wrong_axis_gets_the_axis_hint_only",
}


@pytest.mark.parametrize("where, hint", _hint_texts(), ids=lambda value: value[:40])
def test_every_hint_has_a_wrong_answer_that_gets_it(where, hint):
    """A bug-zoo entry whose expected text is a piece of this hint (and which test_exercises.py checks
    gets it), or a named test elsewhere."""
    pieces = hint.split("{}")
    in_zoo = [f"{name}: {bug.__name__}" for name, bugs in BUGS.items() for bug, expected in bugs
              if len(expected) >= 12 and any(expected in piece for piece in pieces)]
    elsewhere = [test for start, test in HINTS_TESTED_ELSEWHERE.items() if hint.startswith(start)]
    assert in_zoo or elsewhere, (f"{where}: no wrong version in the bug zoo (tests/test_exercises.py BUGS) is "
                                 f"expected to get the hint {hint!r}")


def test_the_hints_are_found():
    hints = [hint for _, hint in _hint_texts()]
    assert len(hints) >= 30
    assert any(hint.startswith("exp(1000) overflows") for hint in hints)
    assert any(hint.startswith("the sign is flipped") for hint in hints)


# ------------------------------------------------------------------ a student's file cannot stop or hang check
def _write(folder, name, source):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)


def _correct_sum_to(folder):
    _write(folder, "sum_to", "from minigen.ops.shape import sum_to\n")


def test_sys_exit_in_a_students_function_is_a_failed_check(folder, capsys):
    _write(folder, "markov_mle", "import sys\ndef markov_mle(sequences, K, pseudocount=0):\n    sys.exit(0)\n")
    _correct_sum_to(folder)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "raised SystemExit: 0" in out and "markov_mle.py line 3" in out and "sys.exit() and exit() end" in out
    assert "sum_to                   passed 2/2" in out


def test_os_exit_in_a_students_function_is_a_failed_check(folder, capsys):
    _write(folder, "markov_mle", "import os\ndef markov_mle(sequences, K, pseudocount=0):\n    os._exit(0)\n")
    _correct_sum_to(folder)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  counts of a small example by hand" in out
    assert "the program ended (exit status 0) before a verdict" in out
    assert "sum_to                   passed 2/2" in out


def test_sys_exit_as_the_file_loads_is_reported(folder, capsys):
    _write(folder, "markov_mle", "import sys\nsys.exit(3)\n")
    assert main(["check", "markov_mle"]) == 1
    assert "could not load it: raised SystemExit: 3" in capsys.readouterr().out


def test_an_infinite_loop_times_out_and_the_other_exercises_are_checked(folder, capsys):
    _write(folder, "markov_mle", "def markov_mle(sequences, K, pseudocount=0):\n    while True:\n        pass\n")
    _correct_sum_to(folder)
    assert main(["check", "--time-limit", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  counts of a small example by hand" in out and "timed out after 0.5 s: an infinite loop?" in out
    assert "sum_to                   passed 2/2" in out


def test_a_loop_in_a_later_check_keeps_the_earlier_verdicts(folder, capsys):
    _write(folder, "markov_mle", "from minigen.models.markov import markov_mle as reference\n"
                                 "def markov_mle(sequences, K, pseudocount=0):\n"
                                 "    while pseudocount:\n        pass\n"
                                 "    return reference(sequences, K, pseudocount)\n")
    assert main(["check", "markov_mle", "--time-limit", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "PASS  counts of a small example by hand" in out
    assert "FAIL  against the reference on 5 random sequences" in out and "timed out" in out


def test_a_bad_time_limit_is_a_usage_error(folder, capsys):
    with pytest.raises(SystemExit):
        main(["check", "--time-limit", "0"])
    assert "expected a positive number of seconds, got '0'" in capsys.readouterr().err


# ------------------------------------------------------------------ list, reset, the bare command
def test_list_shows_the_last_verdict_of_check_until_the_file_changes(folder, capsys):
    _correct_sum_to(folder)
    main(["start", "gaussian_kl"])
    main(["check"])
    capsys.readouterr()

    def status(name):
        main(["list"])
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith(name))[63:]
    assert status("sum_to") == "passed 2/2"
    assert status("gaussian_kl") == "not implemented"
    assert status("viterbi") == "not started"
    (folder / "sum_to.py").write_text("def sum_to(x, shape):\n    return x\n")
    assert status("sum_to") == "started"


def test_reset_keeps_the_students_work(folder, capsys):
    main(["start", "markov_mle"])
    for work in ("my work", "my second try"):
        (folder / "markov_mle.py").write_text(work)
        assert main(["reset", "markov_mle"]) == 0
    assert (folder / "markov_mle.py.bak1").read_text() == "my work"
    assert (folder / "markov_mle.py.bak2").read_text() == "my second try"
    assert "kept as" in capsys.readouterr().out
    main(["reset", "markov_mle"])  # an untouched stub needs no backup
    assert not (folder / "markov_mle.py.bak3").exists()


def test_the_bare_command_prints_the_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: python -m minigen.exercises" in out and all(c in out for c in ("list", "start", "check", "reset"))


def test_the_new_users_commands_of_docs_index_run_without_a_traceback(tmp_path):
    """README -> docs/index.md step 4 -> the exercises: each command as written, in a fresh folder."""
    step = (ROOT / "docs" / "index.md").read_text().split("4. Do an exercise", 1)[1].split("```bash", 1)[1]
    commands = [line.strip() for line in step.split("```", 1)[0].splitlines() if line.strip()]
    assert commands[0] == "python -m minigen.exercises" and len(commands) >= 3
    assert "python -m minigen.exercises list" in (ROOT / "README.md").read_text()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MINIGEN_EXERCISES_DIR", None)
    outputs = []
    for command in commands:
        run = subprocess.run([sys.executable, *command.split()[1:]], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0 and "Traceback" not in run.stderr + run.stdout, (command, run.stderr)
        outputs.append(run.stdout)
    assert "usage: python -m minigen.exercises" in outputs[0]
    assert (tmp_path / "exercises" / "hmm_forward.py").exists()


# ------------------------------------------------------------------ every exercise is on its demo's path
def test_every_exercise_names_the_demo_that_uses_it():
    missing = [exercise.name for exercise in EXERCISES if exercise.name not in DEMOS]
    assert not missing, f"add these exercises to DEMOS in minigen/exercises/registry.py (None for no demo): {missing}"
    assert set(DEMOS) <= {exercise.name for exercise in EXERCISES}
    assert [name for name, demo in DEMOS.items() if demo is None] == ["bernoulli_nb_log_posterior"]


@pytest.mark.parametrize("name", sorted(name for name, demo in DEMOS.items() if demo))
def test_a_blank_student_version_stops_the_demo_that_claims_it(name, folder, tmp_path, monkeypatch):
    """MINIGEN_EXERCISES=NAME with the file `start` writes (raise NotImplementedError) must reach
    that raise on the demo's path: the demo would otherwise run minigen's own code and say it ran the student's."""
    script, *args = DEMOS[name].split()
    demo = importlib.import_module(pathlib.Path(script).stem)  # before MINIGEN_EXERCISES is set: common.py reads it
    main(["start", name])
    monkeypatch.setenv("MINIGEN_EXERCISES", name)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exercise = get(name)
    try:
        use_student_versions()
        with pytest.raises(NotImplementedError) as error:
            demo.main(args + ["--out", str(tmp_path / "out")])
    finally:
        install(exercise, exercise.reference)
        atexit.unregister(report_calls)
    assert pathlib.Path(error.traceback[-1].path) == folder / f"{name}.py"


def test_a_demo_says_at_exit_how_often_the_students_version_ran(folder, tmp_path):
    """MINIGEN_EXERCISES=viterbi with markov_weather, which never decodes: the demo says so."""
    _write(folder, "viterbi", "from minigen.models.hmm_algorithms import viterbi_scaled\n")
    env = {**os.environ, "MINIGEN_EXERCISES": "viterbi", "MINIGEN_EXERCISES_DIR": str(folder), "MPLBACKEND": "Agg",
           "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(ROOT / "demos" / "markov_weather.py"), "--out", str(tmp_path / "out")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == ("minigen: your viterbi never ran: this program does not call it "
                                           "(MINIGEN_EXERCISES=viterbi python demos/hmm_pen_digits.py --quick does)")


def test_docs_exercises_names_the_demo_of_each_exercise():
    text = (ROOT / "docs" / "exercises.md").read_text()
    for name, demo in DEMOS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{demo}` |" if demo else "| none yet |"))
        assert f"`{name}`" in row, f"docs/exercises.md: the row of {demo} does not name {name}"


def test_start_names_the_demo_that_runs_the_exercise(folder, capsys):
    main(["start", "viterbi"])
    assert "MINIGEN_EXERCISES=viterbi python demos/hmm_pen_digits.py --quick" in capsys.readouterr().out
