"""The generative ladder in quick mode: one figure, and a table row per model with the judge's numbers."""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import generative_ladder  # noqa: E402

MODELS = ["training digits", "naive Bayes", "Gaussian mixture", "VAE", "DCGAN"]


def test_quick_run_writes_the_figure_and_judges_every_model(tmp_path, capsys):
    metrics = generative_ladder.main(["--quick", "--out", str(tmp_path), "--dcgan-checkpoint",
                                      str(tmp_path / "none.npz")])
    assert (tmp_path / "samples.png").stat().st_size > 0
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert list(metrics["models"]) == MODELS and metrics["dcgan"] == "trained here, 1 epoch"
    for row in metrics["models"].values():
        assert 1.0 <= row["classifier_score"] <= 10.0 and row["frechet_distance"] >= 0
    real, naive_bayes = metrics["models"]["training digits"], metrics["models"]["naive Bayes"]
    assert real["classifier_score"] > 8 and real["frechet_distance"] < naive_bayes["frechet_distance"]
    printed = capsys.readouterr().out
    assert all(name in printed for name in MODELS)
