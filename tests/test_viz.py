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
