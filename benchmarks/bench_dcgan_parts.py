"""Where the DCGAN step's time goes: matrix products against everything else.

    python benchmarks/bench_dcgan_parts.py [--repeats 15]

Runs bench_layers' DCGAN step (batch 64) in minigen with a clock around every matrix
product, and prints, for the fastest of ``--repeats`` steps, the products' time, their
GFLOP and rate, and the time left for everything else (im2col, col2im, BatchNorm,
activations, losses, Adam, Python); beside it PyTorch's whole step when PyTorch is
installed. When the products alone take longer than 1.5x PyTorch's step, no work outside
them can bring the step under that target. The run repeats itself in a child process with
the other OpenBLAS kernel (as bench_layers), so both figures come out of one command.
"""
import argparse
import os
import time

import numpy as np

import minigen
from minigen.ops import linalg

from bench_layers import TARGET, Lib, best_time, blas_kernel, dcgan_case, gemm_rate, run_with_other_kernel, torch


class ProductClock:
    """Wraps MatMul.forward to add up the seconds and flops of every product while active."""

    def __init__(self):
        self.seconds, self.flops, self.calls = 0.0, 0, 0
        self.forward = linalg.MatMul.forward

    def __enter__(self):
        clock, forward = self, self.forward

        def timed(fn, a, b):
            start = time.perf_counter()
            out = forward(fn, a, b)
            clock.seconds += time.perf_counter() - start
            clock.flops += 2 * a.size * b.shape[-1]  # (..., m, k) @ (k, p): 2 m k p
            clock.calls += 1
            return out
        linalg.MatMul.forward = timed
        return self

    def __exit__(self, *exc):
        linalg.MatMul.forward = self.forward

    def reset(self):
        self.seconds, self.flops, self.calls = 0.0, 0, 0


def fastest_step(step, repeats):
    """(step seconds, product seconds, product flops, product calls) of the fastest step."""
    for _ in range(3):
        step()  # warm up: Adam's state, malloc's pool
    best = None
    with ProductClock() as clock:
        for _ in range(repeats):
            clock.reset()
            start = time.perf_counter()
            step()
            seconds = time.perf_counter() - start
            if best is None or seconds < best[0]:
                best = (seconds, clock.seconds, clock.flops, clock.calls)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="steps timed; the fastest is reported")
    parser.add_argument("--one-kernel", action="store_true", help="skip the child run with the other BLAS kernel")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    rate = gemm_rate(args.repeats)
    step_s, products_s, flops, calls = fastest_step(dcgan_case(Lib(minigen)), args.repeats)
    print(f"NumPy {np.__version__}, {blas_kernel()}, raw GEMM rate (float32, 1024^3): {rate:.0f} GFLOP/s")
    print(f"minigen DCGAN step (batch 64):  {step_s * 1e3:6.1f} ms")
    print(f"  matrix products:             {products_s * 1e3:6.1f} ms  ({calls} calls, {flops / 1e9:.1f} GFLOP, "
          f"{flops / products_s / 1e9:.0f} GFLOP/s)")
    print(f"  everything else:             {(step_s - products_s) * 1e3:6.1f} ms")
    if torch is None:
        print("PyTorch not installed: pip install torch==2.13.0 to compare")
    else:
        compare_with_torch(step_s, products_s, args.repeats)
    if not args.one_kernel:
        run_with_other_kernel(__file__, ["--repeats", str(args.repeats)])


def compare_with_torch(step_s, products_s, repeats):
    torch.set_num_threads(os.cpu_count())  # as bench_layers
    torch_s = best_time(dcgan_case(Lib(torch)), repeats, min_seconds=0.5)
    budget = TARGET * torch_s
    print(f"PyTorch DCGAN step:             {torch_s * 1e3:6.1f} ms  (ratio {step_s / torch_s:.2f}x)")
    print(f"  {TARGET}x of PyTorch's step:       {budget * 1e3:6.1f} ms; the products alone are "
          f"{products_s / torch_s:.2f}x, leaving {(budget - products_s) * 1e3:.1f} ms for everything else")


if __name__ == "__main__":
    main()
