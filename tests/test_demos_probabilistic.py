"""The Markov-chain and Bayes-classifier demos in quick mode: files written, key numbers right."""
import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import bayes_classifier  # noqa: E402
import markov_weather  # noqa: E402


def test_markov_weather_prints_the_slide_example_and_writes_its_figures(tmp_path, capsys):
    metrics = markov_weather.main(["--quick", "--out", str(tmp_path)])
    assert "= 0.0144" in capsys.readouterr().out
    assert metrics["slide_example_probability"] == pytest.approx(0.0144)
    assert metrics["stationary_distribution"] == pytest.approx([0.5, 0.25, 0.25])
    assert metrics["refit_max_abs_error"] < 0.15  # one year: about 90 to 180 transitions per row
    for name in ("sampled_weather.png", "transition_tables.png", "next_state_accuracy.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    weather, google, pens = (metrics["next_state"][name] for name in
                             ("weather (sampled)", "Google daily moves", "pen directions of '2's"))
    accuracy = {name: {k: v["accuracy"] for k, v in scores.items()} for name, scores in metrics["next_state"].items()}
    # the weather stays as it is with p >= 0.5: predicting today's weather scores 0.675 (= 0.5 0.8 + 0.25 0.6
    # + 0.25 0.5); the frequencies can only say "Sun" (0.5); order 2 has nothing more to learn
    assert weather["the true chain"]["accuracy"] == pytest.approx(0.675, abs=0.02)
    assert weather["order 1"]["accuracy"] > weather["i.i.d. frequencies"]["accuracy"] + 0.1
    assert abs(weather["order 2"]["accuracy"] - weather["the true chain"]["accuracy"]) < 0.02, accuracy
    assert weather["order 1"]["mean_log_prob"] > weather["i.i.d. frequencies"]["mean_log_prob"]
    assert abs(google["order 1"]["accuracy"] - google["i.i.d. frequencies"]["accuracy"]) < 0.03, accuracy
    assert pens["order 1"]["accuracy"] > pens["i.i.d. frequencies"]["accuracy"] + 0.1, accuracy  # a pen keeps going
    assert pens["order 2"]["accuracy"] > pens["order 1"]["accuracy"], accuracy


def test_next_state_scores_by_hand():
    scores = markov_weather.next_state_scores([np.array([0, 1, 0, 1, 0, 1, 1])], [np.array([0, 1, 0, 1, 0])], 2)
    # targets z_3..z_5 = 0, 1, 0; training counts 0: 3, 1: 4, so the frequencies always say 1
    assert scores["i.i.d. frequencies"]["accuracy"] == pytest.approx(1 / 3)
    # order 1, pseudocount 1: 0 -> 1 three times, so p(1 | 0) = (3 + 1) / (3 + 2) = 0.8; 1 -> 0 twice and
    # 1 -> 1 once, so p(0 | 1) = (2 + 1) / (3 + 2) = 0.6; the contexts z_2..z_4 are 1, 0, 1
    assert scores["order 1"]["accuracy"] == 1.0
    assert scores["order 1"]["mean_log_prob"] == pytest.approx(np.log([0.6, 0.8, 0.6]).mean())
    assert scores["order 1"]["steps"] == 3 and "the true chain" not in scores


def test_bayes_classifier_writes_its_figures_and_logistic_regression_meets_the_generative_line(tmp_path):
    metrics = bayes_classifier.main(["--quick", "--out", str(tmp_path)])
    for name in ("shared_covariance.png", "quadratic_boundaries.png", "logistic_vs_generative.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert metrics["parameter_gap_relative"] < 0.1  # 2,000 points: both estimates are within a few percent
    assert abs(metrics["logistic_test_accuracy"] - metrics["shared_test_accuracy"]) < 0.01
    assert metrics["quadratic_test_accuracy_3_classes"] > metrics["linear_test_accuracy_3_classes"]
