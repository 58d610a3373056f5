"""The autoencoder demo: a quick run writes its figures and a metrics.json with sane numbers."""
import json
import sys
import pathlib

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import autoencoder_mnist  # noqa: E402

FIGURES = ("reconstructions_32d.png", "reconstructions_2d.png", "codes_2d.png", "loss.png", "denoising.png",
           "roc.png", "outliers.png")


def test_quick_run_writes_figures_and_metrics(tmp_path, monkeypatch):
    drawn = {}

    def image_grid(images, path, **options):
        drawn[path.name] = np.asarray(images).reshape(-1, 28 * 28)
        return draw(images, path, **options)
    draw = autoencoder_mnist.image_grid
    monkeypatch.setattr(autoencoder_mnist, "image_grid", image_grid)
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
        assert psnrs["psnr_denoised"] >= psnrs["psnr_noisy"] + 5, psnrs  # the quick denoisers visibly denoise
    clean, *noisy_and_denoised = np.split(drawn["denoising.png"], 5)  # rows of the figure: ten digits each
    for denoised in noisy_and_denoised[1::2]:
        distances = ((denoised[:, None, :] - clean[None, :, :]) ** 2).sum(axis=2)
        assert (distances.argmin(axis=1) == np.arange(10)).sum() >= 9  # each output is its digit, not an average
