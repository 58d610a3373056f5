"""The speed tricks kept out of the teaching forwards, each against the plain formula it computes.

    python benchmarks/bench_tricks.py           # full run (a few seconds)
    python benchmarks/bench_tricks.py --quick   # smoke test

Each row times minigen's helper (ops/elementwise.py, ops/linalg.py, ops/conv.py,
models/hmm_scan.py) and the formula its docstring gives, on the same NumPy input, round-robin,
and prints the fastest repeat of each and their ratio (plain / trick: above 1, the trick pays).
It also checks that both give the same numbers (to rounding), so a row never compares
two different computations. The figures are in docs/performance.md.
"""
import argparse
import timeit

import numpy as np

from minigen.models.hmm_scan import _row_sums
from minigen.ops.conv import _batch_innermost
from minigen.ops.activation import _leaky_slopes, _sigmoid, _softplus
from minigen.ops.linalg import _matmul


def cases(rng):
    """(name, trick, plain formula) with their inputs bound."""
    x = rng.standard_normal((128, 784)).astype(np.float32)
    a, b = rng.standard_normal((64, 512, 1)).astype(np.float32), rng.standard_normal((64, 1, 512)).astype(np.float32)
    image = rng.standard_normal((64, 64, 16, 16)).astype(np.float32)  # C-contiguous: the batch outermost
    P = rng.random((256, 16, 16))

    def plain_sigmoid():
        return np.where(x >= 0, 1, np.exp(x)) / (1 + np.exp(-np.abs(x)))

    return [
        ("sigmoid, 128 x 784 float32", lambda: _sigmoid(x), plain_sigmoid),
        ("leaky_relu slopes, 128 x 784 float32", lambda: _leaky_slopes(x, 0.2),
         lambda: np.where(x > 0, np.float32(1), np.float32(0.2))),
        ("softplus, 128 x 784 float32", lambda: _softplus(x), lambda: np.logaddexp(x, np.float32(0))),
        ("outer product, (64, 512, 1) @ (64, 1, 512)", lambda: _matmul(a, b), lambda: np.matmul(a, b)),
        ("im2col gather, (64, 64, 16, 16), k 4, s 2", lambda: _gather(_batch_innermost(image)),
         lambda: _gather(image)),
        ("HMM scan row sums, (256, 16, 16) float64", lambda: _row_sums(P), lambda: P.sum(axis=-1)),
    ]


def _gather(x, k=4, s=2):
    """Im2Col's strided view and its one copy, for a k x k kernel of stride s."""
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    s_n, s_c, s_h, s_w = x.strides
    view = np.lib.stride_tricks.as_strided(x, shape=(c, k, k, ho, wo, n),
                                           strides=(s_c, s_h, s_w, s_h * s, s_w * s, s_n))
    return view.reshape(c * k * k, ho * wo * n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    print(f"{'case':44s} {'trick':>10s} {'plain':>10s}  plain/trick")
    for name, trick, plain in cases(np.random.default_rng(0)):
        np.testing.assert_allclose(trick(), plain(), rtol=1e-6, atol=1e-7, err_msg=name)
        number = max(1, int(0.02 / max(timeit.timeit(trick, number=1), 1e-6)))
        best = {"trick": np.inf, "plain": np.inf}
        for _ in range(repeats):  # round-robin: background load hits both alike
            for label, fn in (("trick", trick), ("plain", plain)):
                best[label] = min(best[label], timeit.timeit(fn, number=number) / number)
        print(f"{name:44s} {best['trick'] * 1e6:8.1f}us {best['plain'] * 1e6:8.1f}us  {best['plain'] / best['trick']:6.1f}x")


if __name__ == "__main__":
    main()
