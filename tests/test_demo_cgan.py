"""The conditional DCGAN demo in quick mode, on a few digits so that it takes seconds: its 10 x 10
grid (a row per digit asked for, a fixed z per column), the judge's accuracy, classifier score and
Frechet distance, --resume; and (slow) the 30-epoch run's accuracy bound."""
import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import cgan_mnist  # noqa: E402
from minigen.data import load_mnist  # noqa: E402
from minigen.models import judge  # noqa: E402


def reads_a_3(model, images):
    """A stand-in judge: logit 1 for the digit 3, and the image's mean brightness (< 1) as the logit
    of 0, so that the Frechet distance of two sets is that of their mean brightnesses."""
    logits = np.tile(np.eye(10)[3], (len(images), 1))
    logits[:, 0] = np.asarray(images, dtype=np.float64).reshape(len(images), -1).mean(axis=1)
    return logits


@pytest.fixture
def small_run(monkeypatch):
    """128 of the quick run's digits (2 rounds of 64; 128 test digits, the quick run scores every
    fifth), and a judge that reads every digit as a 3."""
    digits = cgan_mnist.mnist_digits
    monkeypatch.setattr(cgan_mnist, "mnist_digits", lambda args: tuple(a[:128] for a in digits(args)))
    monkeypatch.setattr(cgan_mnist, "load_judge", lambda: None)
    monkeypatch.setattr(judge, "predict_logits", reads_a_3)
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
    assert metrics["label_histogram"] == [0, 0, 0, 200, 0, 0, 0, 0, 0, 0]
    assert 1 <= metrics["classifier_score"] < 1.01  # one label for all: exp(KL) ~ 1
    samples = np.load(tmp_path / "samples.npy")  # the scored digits: 20 of each label, asked in order
    assert samples.shape == (200, 28, 28) and samples.dtype == np.float32 and metrics["real_digits"] == 26
    brightness = samples.reshape(200, -1).mean(axis=1), load_mnist("test")[0][:128:5].reshape(26, -1).mean(axis=1) / 255
    (m_s, m_r), (s_s, s_r) = (b.mean() for b in brightness), (b.std(ddof=1) for b in brightness)
    assert metrics["frechet_distance"] == pytest.approx((m_s - m_r) ** 2 + (s_s - s_r) ** 2, rel=1e-4)

    assert cgan_mnist.main(["--quick", "--out", str(tmp_path), "--resume"])["resumed"]  # nothing left to train
    np.testing.assert_array_equal(np.load(tmp_path / "samples_by_label.npy"), images)


def test_resume_without_a_checkpoint_stops_with_a_message(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at .*checkpoint.npz; run without --resume first"):
        cgan_mnist.main(["--resume", "--out", str(tmp_path)])


@pytest.mark.slow
def test_thirty_epochs_draw_the_digit_asked_for(tmp_path):
    """The issue's run (default options, about 5 minutes): the judge must read the digit asked for
    in at least 90% of 1,000 samples, 100 per label."""
    metrics = cgan_mnist.main(["--out", str(tmp_path)])
    assert metrics["epochs"] == 30 and metrics["scored_per_label"] == 100 and metrics["real_digits"] == 1000
    assert metrics["judge_accuracy"] >= 0.90, metrics["judge_accuracy_per_label"]
