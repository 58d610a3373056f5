"""The HMM pen-digits demo (PRML fig. 13.11): quick mode writes its figures, and '2's are written forwards."""
import json
import pathlib
import sys

import pytest

pytest.importorskip("minigen.models.hmm", reason="minigen.models.hmm (CategoricalHMM) is not written yet")
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import hmm_pen_digits  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hmm_pen_digits")
    return out, hmm_pen_digits.main(["--quick", "--out", str(out)])


def test_quick_run_writes_figures_and_metrics(quick_run):
    out, metrics = quick_run
    for name in ("digits.png", "viterbi.png", "em.png", "parameters.png", "metrics.json"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_em_never_lowers_the_log_likelihood(quick_run):
    history = quick_run[1]["em_history"]
    assert len(history) == 10
    assert all(later >= earlier - 1e-6 for earlier, later in zip(history, history[1:]))


def test_a_two_is_far_more_likely_forwards_than_backwards(quick_run):
    metrics = quick_run[1]
    assert metrics["first_digit"]["forwards"] > metrics["first_digit"]["backwards"] + 50
    assert metrics["test_forwards_wins"] == metrics["test_digits"] >= 10


def test_viterbi_states_only_stay_or_advance_by_one_from_state_0(quick_run):
    states = quick_run[1]["states_of_first_digit"]
    assert states[0] == 0
    assert all(later - earlier in (0, 1) for earlier, later in zip(states, states[1:]))
