"""The autoencoder demo: a quick run writes its figures and a metrics.json with sane numbers."""
import json
import sys
import pathlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import autoencoder_mnist  # noqa: E402

FIGURES = ("reconstructions_32d.png", "reconstructions_2d.png", "codes_2d.png", "loss.png", "denoising.png",
           "roc.png", "outliers.png")


def test_quick_run_writes_figures_and_metrics(tmp_path):
    metrics = autoencoder_mnist.main(["--quick", "--out", str(tmp_path)])
    for name in FIGURES + ("metrics.json",):
        assert (tmp_path / name).stat().st_size > 0, name
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["outlier_auroc"] == metrics["outlier_auroc"]
    assert set(written["outlier_auroc"]) == {"nines", "uniform_noise", "upside_down"}
    assert all(0 <= area <= 1 for area in written["outlier_auroc"].values())
    assert set(written["test_mse_per_pixel"]) == {"dense_32", "conv_32", "dense_2", "conv_2"}
    assert all(0 < mse < 0.25 for mse in written["test_mse_per_pixel"].values())
    for psnrs in written["denoising_psnr_db"].values():
        assert psnrs["psnr_denoised"] > psnrs["psnr_noisy"]  # even 2 epochs clean up some noise
