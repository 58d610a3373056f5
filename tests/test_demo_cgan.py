"""The conditional DCGAN demo in quick mode, on a few digits so that it takes seconds: its 10 x 10
grid (a row per digit asked for, a fixed z per column), the judge's accuracy, --resume."""
import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import cgan_mnist  # noqa: E402


@pytest.fixture
def small_run(monkeypatch):
    """128 of the quick run's digits (2 rounds of 64), and a judge that reads every digit as a 3."""
    digits = cgan_mnist.mnist_digits
    monkeypatch.setattr(cgan_mnist, "mnist_digits", lambda args: tuple(a[:128] for a in digits(args)))
    monkeypatch.setattr(cgan_mnist, "load_judge", lambda: None)
    monkeypatch.setattr(cgan_mnist, "predict_logits", lambda model, images: np.tile(np.eye(10)[3], (len(images), 1)))
    grids = []
    real_grid = cgan_mnist.image_grid

    def recording_grid(images, path, **options):
        grids.append((np.asarray(images), options))
        return real_grid(images, path, **options)
    monkeypatch.setattr(cgan_mnist, "image_grid", recording_grid)
    return grids


def test_quick_run_draws_a_row_per_label_and_the_label_changes_the_digit_then_resumes(tmp_path, small_run):
    metrics = cgan_mnist.main(["--quick", "--out", str(tmp_path)])
    images, options = small_run[0]
    assert images.shape == (100, 28, 28) and options["columns"] == 10
    assert options["row_labels"] == [str(d) for d in range(10)]
    assert (tmp_path / "samples_by_label.png").stat().st_size > 0 and (tmp_path / "losses.png").exists()
    grid = images.reshape(10, 10, 28, 28)  # (label, column)
    for column in range(10):  # one z per column: each other label must change the digit
        change = np.abs(grid[1:, column] - grid[0, column]).mean(axis=(1, 2))
        assert change.min() > 1e-4, (column, change)  # 0 for a generator that ignores y; ~1e-3 here
    np.testing.assert_array_equal(np.load(tmp_path / "samples_by_label.npy"), images)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == metrics and metrics["epochs"] == 1 and metrics["scored_per_label"] == 20
    assert metrics["judge_accuracy"] == pytest.approx(0.1)  # the judge reads 3s only
    assert metrics["judge_accuracy_per_label"] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]

    assert cgan_mnist.main(["--quick", "--out", str(tmp_path), "--resume"])["resumed"]  # nothing left to train
    np.testing.assert_array_equal(np.load(tmp_path / "samples_by_label.npy"), images)


def test_resume_without_a_checkpoint_stops_with_a_message(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at .*checkpoint.npz; run without --resume first"):
        cgan_mnist.main(["--resume", "--out", str(tmp_path)])
