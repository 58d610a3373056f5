"""Figures for the demos (matplotlib, Agg backend). Never imported by the core."""
import pathlib

try:
    import matplotlib
except ModuleNotFoundError:
    raise ModuleNotFoundError('the demos draw their figures with matplotlib, which is not installed: '
                              'pip install -e ".[demos]" (or pip install matplotlib)', name="matplotlib") from None

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402


def _save(fig, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def image_grid(images, path, titles=None, columns=10, title=None, row_labels=None):
    """Digits (N, 28, 28) in a grid, optionally one small title each and a label left of
    each row (row_labels: one per row); returns the path."""
    images = np.asarray(images).reshape(len(images), 28, 28)
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * (1.05 if titles else 0.9)), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray_r")
            if titles:
                ax.set_title(titles[k], fontsize=7)
    for ax, label in zip(axes[:, 0], row_labels or []):
        ax.text(-0.15, 0.5, label, transform=ax.transAxes, ha="right", va="center", fontsize=12)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix_plot(matrix, path, title="confusion matrix"):
    """A (K, K) count matrix: rows are true labels, columns predictions."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, int(count), ha="center", va="center", fontsize=7,
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title, xticks=range(len(matrix)), yticks=range(len(matrix)))
    return _save(fig, path)


def curves(series, path, xlabel="epoch", ylabel="loss", title=None):
    """Line plot of named sequences: series = {"train loss": [...], ...}."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, values in series.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return _save(fig, path)


def histograms(series, path, bins=20, value_range=(0, 1), xlabel="value", title=None):
    """The share of values in each of ``bins`` equal bins over value_range, one line per named
    array: series = {"real": pixels, ...}."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    edges = np.linspace(*value_range, bins + 1)
    for name, values in series.items():
        counts, _ = np.histogram(np.ravel(values), bins=edges)
        ax.plot((edges[:-1] + edges[1:]) / 2, counts / max(1, counts.sum()), marker=".", label=name)
    ax.set(xlabel=xlabel, ylabel="share", yscale="log", title=title)
    ax.legend()
    return _save(fig, path)
