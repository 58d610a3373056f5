"""The VAE demo: quick mode in the default run, the issue's quality numbers as `slow`."""
import json
import pathlib
import sys

import numpy as np
import pytest

from minigen.data import load_mnist
from minigen.models.vae import as_pixels, train_vae

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import vae_mnist  # noqa: E402

FIGURES = ("vae_loss.png", "vae_2d_loss.png", "samples.png", "interpolations.png", "manifold.png", "metrics.json")


def test_quick_run_writes_figures_and_metrics(tmp_path):
    metrics = vae_mnist.main(["--quick", "--out", str(tmp_path)])
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 0, name
    written = json.loads((tmp_path / "metrics.json").read_text())
    for name in ("vae", "vae_2d"):
        assert written[name]["test_loss"] == metrics[name]["test_loss"]
        assert written[name]["test_iwae_nll"] <= -written[name]["test_elbo"] + 5  # IWAE is the tighter bound
        assert metrics[name]["test_loss"] < 300  # 5 epochs: far below the ~540 of a fresh net


# The most PyTorch gave with the same recipe on the same digits (benchmarks/bench_vae_run.py,
# docs/results.md): seeds 0-7 at 10 epochs gave 140.5-143.2; seeds 0-1 at 50 epochs 116.5, 116.4.
PYTORCH_BAND = {10: 143.2, 50: 117.0}
SEEDS = (0, 1, 2)


@pytest.mark.slow
def test_mean_test_loss_over_three_seeds_lies_in_pytorchs_band():
    """Epoch 10 of a 50-epoch run is the 10-epoch run (same seed, batches and noise)."""
    train, test = as_pixels(load_mnist("train")[0]), as_pixels(load_mnist("test")[0])
    losses = [train_vae(train, test, epochs=50, seed=seed, show_progress=False)[1]["test_loss"] for seed in SEEDS]
    for epochs, bound in PYTORCH_BAND.items():
        mean = np.mean([loss[epochs - 1] for loss in losses])
        assert mean <= bound, (epochs, [loss[epochs - 1] for loss in losses])
