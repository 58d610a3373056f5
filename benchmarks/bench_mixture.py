"""Gaussian mixture speed: minigen's GaussianMixture against scikit-learn's, side by side, in float64.

    python benchmarks/bench_mixture.py                  # full run
    python benchmarks/bench_mixture.py --quick          # smoke test
    python benchmarks/bench_mixture.py --json out.json  # also write the numbers as JSON

Cases: K = 10 components, each covariance type, on
* "2-D": 10,000 points from 10 random Gaussians in the plane;
* "digits 50-D": 2,000 embedded MNIST training digits, projected on their first 50 principal
  components (scaled to [0, 1] first).

What is timed is one EM iteration: both fit from the same random responsibilities
(init_params="random", random_state=0, tol=0), once with max_iter=1 and once with
max_iter=1 + ITERATIONS; the difference divided by ITERATIONS leaves the start out.
Target: at most 1.0x scikit-learn per EM iteration. The contenders take turns over the repeats,
and the fastest repeat is reported. On a busy machine, OpenBLAS's threads wait for each other in
small products (both contenders make many): compare with OPENBLAS_NUM_THREADS=1 set.
scikit-learn is optional: without it only minigen's times are printed and the target is skipped.
"""
import argparse
import json
import os
import platform
import time
import warnings

import numpy as np

import minigen as mg
from minigen.data import load_mnist
from minigen.models.mixture import GaussianMixture

try:
    from sklearn import mixture as sklearn_mixture
    from sklearn.exceptions import ConvergenceWarning
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
except ImportError:
    sklearn_mixture = None

K, ITERATIONS, TARGET = 10, 10, 1.0
TYPES = ("full", "tied", "diag", "spherical")


def datasets(rng):
    """{name: X}: 10,000 points in 2-D from 10 Gaussians, and 2,000 digits in 50-D (PCA)."""
    centres, shapes = rng.uniform(-10, 10, (K, 2)), rng.standard_normal((K, 2, 2))
    z = rng.integers(0, K, 10_000)
    plane = centres[z] + np.einsum("nde,ne->nd", shapes[z], rng.standard_normal((10_000, 2)))
    images, _ = load_mnist("train")
    digits = images[rng.permutation(len(images))[:2000]].reshape(2000, -1) / 255.0
    centred = digits - digits.mean(axis=0)
    components = np.linalg.svd(centred, full_matrices=False)[2][:50]  # the first 50 principal directions
    return {"2-D": plane, "digits 50-D": centred @ components.T}


def per_iteration(fits, repeats):
    """{name: seconds of one EM iteration}: (t(1 + ITERATIONS) - t(1)) / ITERATIONS, each t the fastest of
    ``repeats`` rounds in which the contenders take turns (after a warm-up)."""
    runs = [(name, max_iter) for name in fits for max_iter in (1, 1 + ITERATIONS)]
    best = dict.fromkeys(runs, float("inf"))
    for name, max_iter in runs:
        if fits[name](max_iter).n_iter_ != max_iter:
            raise RuntimeError(f"{name} stopped before max_iter={max_iter}: the timing would not be per iteration")
    for _ in range(repeats):
        for name, max_iter in runs:
            start = time.perf_counter()
            fits[name](max_iter)
            best[name, max_iter] = min(best[name, max_iter], time.perf_counter() - start)
    return {name: (best[name, 1 + ITERATIONS] - best[name, 1]) / ITERATIONS for name in fits}


def contenders(covariance_type, X):
    """{name: fit(max_iter)}."""
    options = dict(covariance_type=covariance_type, tol=0, init_params="random", random_state=0)
    fits = {"minigen": lambda max_iter: GaussianMixture(K, max_iter=max_iter, **options).fit(X)}
    if sklearn_mixture is not None:
        fits["scikit-learn"] = lambda max_iter: sklearn_mixture.GaussianMixture(K, max_iter=max_iter,
                                                                                **options).fit(X)
    return fits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    if sklearn_mixture is None:
        print("scikit-learn not installed (pip install scikit-learn): its column and the target are skipped")
    print(f"machine: {os.cpu_count()} CPUs ({platform.machine()}), load average {os.getloadavg()[0]:.2f}; "
          f"NumPy {np.__version__}, minigen {mg.__version__}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; K = {K}; per EM iteration, "
          f"best of {repeats} repeats\n")
    row = "{:<12} {:<10} {:>11} {:>13} {:>7}  {:<8} {}"
    print(row.format("data", "covariance", "minigen", "scikit-learn", "ratio", "target", "result"))
    results = []
    for data, X in datasets(np.random.default_rng(0)).items():
        for covariance_type in TYPES:
            seconds = per_iteration(contenders(covariance_type, X), repeats)
            ratio = seconds["minigen"] / seconds["scikit-learn"] if "scikit-learn" in seconds else None
            verdict = "SKIP" if ratio is None else ("PASS" if ratio <= TARGET else "MISS")
            results.append({"data": data, "covariance_type": covariance_type, "seconds_per_iteration": seconds,
                            "ratio": ratio, "max_ratio": TARGET, "result": verdict})
            print(row.format(data, covariance_type, f"{seconds['minigen'] * 1e3:.2f} ms",
                             f"{seconds['scikit-learn'] * 1e3:.2f} ms" if ratio else "-",
                             f"{ratio:.2f}x" if ratio else "-", f"<= {TARGET}x", verdict))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"repeats": repeats, "iterations": ITERATIONS, "results": results}, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
