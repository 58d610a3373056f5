"""The MNIST classifier demo: quick mode in the default run, the accuracy target as `slow`."""
import json
import sys
import pathlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import mnist_classifier  # noqa: E402


def test_quick_run_writes_figures_and_metrics(tmp_path):
    metrics = mnist_classifier.main(["--quick", "--out", str(tmp_path)])
    for name in ("misclassified.png", "confusion_matrix.png", "loss.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"]
    assert metrics["test_accuracy"] > 0.5  # 3 epochs: far above chance


@pytest.mark.slow
def test_reaches_97_percent_on_the_embedded_subset_within_15_epochs(tmp_path):
    metrics = mnist_classifier.main(["--epochs", "15", "--out", str(tmp_path)])
    assert metrics["test_accuracy"] >= 0.97, metrics
