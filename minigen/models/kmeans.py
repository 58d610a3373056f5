"""k-means for starting EM: k-means++ seeds (Arthur and Vassilvitskii, 2007), then Lloyd's iterations.

Both work on NumPy or CuPy arrays (the device of X), batched over points and centres: the only
Python loops run over the k seeds and over Lloyd's iterations. Random numbers come from a host
NumPy Generator; the seeding's probabilities go to the host explicitly to be drawn from.
"""
import numpy as np

from minigen import backend


def squared_distances(X, centres):
    """||x_n - c_j||^2 = ||x_n||^2 - 2 x_n^T c_j + ||c_j||^2, (N, k), clipped at 0 (rounding)."""
    xp = backend.array_module(X)
    d2 = (X * X).sum(axis=1)[:, None] - 2 * X @ centres.T + (centres * centres).sum(axis=1)[None, :]
    return xp.maximum(d2, 0)


def kmeans_plusplus(X, k, rng):
    """k rows of X (N, D) as seeds: the first uniformly at random, each next one drawn with probability
    D(x)^2 / sum_x D(x)^2, D(x) the distance from x to its nearest seed so far. Returns (k, D).

    Greedy, as scikit-learn's: each step draws 2 + ln k candidates and keeps the one that lowers
    sum_x D(x)^2 the most (fewer bad starts than a single draw).
    """
    xp = backend.array_module(X)
    N, n_trials = len(X), 2 + int(np.log(k))
    chosen = [int(rng.integers(N))]
    nearest = squared_distances(X, X[chosen[0]:chosen[0] + 1])[:, 0]
    for _ in range(1, k):
        p = backend.to_host(nearest)
        total = p.sum()
        trials = rng.choice(N, size=n_trials, p=p / total) if total > 0 else rng.integers(N, size=n_trials)
        candidates = xp.minimum(nearest[:, None], squared_distances(X, X[xp.asarray(trials)]))  # (N, trials)
        best = int(backend.to_host(candidates.sum(axis=0)).argmin())
        chosen.append(int(trials[best]))
        nearest = candidates[:, best]
    return X[xp.asarray(np.array(chosen))]


def nearest_centre(X, centres):
    """The index of the nearest centre of each row of X, (N,)."""
    return squared_distances(X, centres).argmin(axis=1)


def kmeans(X, centres, max_iter=100):
    """Lloyd's iterations from ``centres`` (k, D) until no label changes (at most max_iter times).

    Each centre moves to the mean of its points; a centre without points stays where it is.
    Returns the labels (N,) of the last assignment.
    """
    xp = backend.array_module(X)
    labels = nearest_centre(X, centres)
    for _ in range(max_iter):
        one_hot = (labels[:, None] == xp.arange(len(centres))[None, :]).astype(X.dtype)  # (N, k)
        counts = one_hot.sum(axis=0)
        sums = one_hot.T @ X
        centres = xp.where(counts[:, None] > 0, sums / xp.maximum(counts, 1)[:, None], centres)
        new = nearest_centre(X, centres)
        if not bool((new != labels).any()):
            break
        labels = new
    return labels
