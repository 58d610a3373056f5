"""The pix2pix demo in quick mode, on a few training digits so that it takes seconds: the
completions figure (input, L1 only, pix2pix, target), the scores in metrics.json, --resume."""
import json
import pathlib
import sys

import numpy as np
import pytest

from minigen.models import pix2pix

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import pix2pix_mnist  # noqa: E402
import tour  # noqa: E402


@pytest.fixture
def small_run(monkeypatch):
    """128 training digits (2 rounds of 64), the quick run's 200 test digits, and a judge that
    reads every digit as a 3."""
    digits = pix2pix_mnist.mnist_digits
    monkeypatch.setattr(pix2pix_mnist, "mnist_digits",
                        lambda args: tuple(a[:128] if k < 2 else a for k, a in enumerate(digits(args))))
    monkeypatch.setattr(pix2pix_mnist, "load_judge", lambda: None)
    monkeypatch.setattr(pix2pix.judge, "predict_logits", lambda model, images: np.tile(np.eye(10)[3], (len(images), 1)))
    grids = []
    real_grid = pix2pix_mnist.image_grid

    def recording_grid(images, path, **options):
        grids.append((np.asarray(images), options))
        return real_grid(images, path, **options)
    monkeypatch.setattr(pix2pix_mnist, "image_grid", recording_grid)
    return grids


def test_quick_run_shows_input_l1_pix2pix_and_target_then_resumes(tmp_path, small_run):
    metrics = pix2pix_mnist.main(["--quick", "--out", str(tmp_path)])
    images, options = small_run[0]
    assert images.shape == (80, 28, 28) and options["columns"] == 8 and options["titles"][:4] == pix2pix_mnist.COLUMNS
    assert options["row_labels"] == [str(d) for d in range(10)]
    for name in ("completions.png", "pixel_values.png", "losses.png", "checkpoint.npz"):
        assert (tmp_path / name).stat().st_size > 0, name
    quads = images.reshape(20, 4, 28, 28)  # (test digit, column)
    np.testing.assert_array_equal(quads[:, 0, pix2pix.HALF:], 0)  # the input: its lower half blank (paper)
    np.testing.assert_allclose(quads[:, 0, :pix2pix.HALF], quads[:, 3, :pix2pix.HALF], atol=1e-6)  # the given half
    assert np.abs(quads[:, 1] - quads[:, 2]).max() > 1e-3  # two nets: L1 only and pix2pix
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == metrics and metrics["epochs"] == 1 and metrics["test_digits"] == 200
    assert metrics["batch_size"] == 64  # --quick's; 16 without it
    scores = metrics["scores"]
    assert scores["target"]["l1_lower_half"] == 0 and scores["input"]["edge_strength"] == 0
    assert scores["input"]["decided_share"] == 1.0  # a blank lower half is all paper
    assert all(row["judge_accuracy"] == pytest.approx(0.1, abs=0.02) for row in scores.values())  # the judge reads 3s
    assert len(metrics["l1_per_epoch"]) == 1 and metrics["dropout_change_lower_half"] > 0

    assert f"edge strength {scores['pix2pix']['edge_strength']:.3f} pix2pix" in tour.pix2pix_line(metrics)

    resumed = pix2pix_mnist.main(["--quick", "--out", str(tmp_path), "--resume"])  # nothing left to train
    assert resumed["resumed"] and resumed["scores"] == metrics["scores"]


def test_resume_without_a_checkpoint_stops_with_a_message(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at .*checkpoint.npz; run without --resume first"):
        pix2pix_mnist.main(["--resume", "--out", str(tmp_path)])


@pytest.mark.slow
def test_pix2pix_completes_digits_more_sharply_than_l1_alone(tmp_path):
    """The issue's claim, on the demo's default run (all 1,000 test digits): pix2pix's lower halves
    have steeper edges (the sharpness measure, pix2pix.edge_strength) than the L1-only U-Net's."""
    scores = pix2pix_mnist.main(["--out", str(tmp_path)])["scores"]
    assert scores["pix2pix"]["edge_strength"] > scores["L1 only"]["edge_strength"]
