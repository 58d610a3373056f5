"""The demos' figures say what they show: a grid's row labels are drawn."""
import numpy as np

from minigen import viz


def test_an_image_grid_draws_a_label_left_of_each_row(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(viz, "_save", lambda fig, path: figures.append(fig))
    viz.image_grid(np.ones((20, 28, 28)), tmp_path / "grid.png", row_labels=["0", "1"])
    (fig,) = figures
    rows = [[text.get_text() for text in ax.texts] for ax in fig.axes[::10]]
    assert rows == [["0"], ["1"]] and not any(ax.texts for k, ax in enumerate(fig.axes) if k % 10)


def test_histograms_draw_each_series_share_per_bin(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(viz, "_save", lambda fig, path: figures.append(fig))
    viz.histograms({"ink or paper": np.array([0.0, 0.0, 1.0, 1.0]), "grey": np.full(8, 0.5)}, tmp_path / "h.png",
                   bins=4)
    (fig,) = figures
    (ax,) = fig.axes
    shares = {line.get_label(): line.get_ydata().tolist() for line in ax.lines}
    assert shares == {"ink or paper": [0.5, 0, 0, 0.5], "grey": [0, 0, 1, 0]}
