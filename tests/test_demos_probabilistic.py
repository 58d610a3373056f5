"""The Markov-chain and Bayes-classifier demos in quick mode: files written, key numbers right."""
import json
import pathlib
import sys

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
    for name in ("sampled_weather.png", "transition_tables.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics


def test_bayes_classifier_writes_its_figures_and_logistic_regression_meets_the_generative_line(tmp_path):
    metrics = bayes_classifier.main(["--quick", "--out", str(tmp_path)])
    for name in ("shared_covariance.png", "quadratic_boundaries.png", "logistic_vs_generative.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert metrics["parameter_gap_relative"] < 0.1  # 2,000 points: both estimates are within a few percent
    assert abs(metrics["logistic_test_accuracy"] - metrics["shared_test_accuracy"]) < 0.01
    assert metrics["quadratic_test_accuracy_3_classes"] > metrics["linear_test_accuracy_3_classes"]
