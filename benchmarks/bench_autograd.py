"""Autograd speed: minigen against raw NumPy and PyTorch CPU, side by side, in float32.

    python benchmarks/bench_autograd.py                  # full run (about a minute)
    python benchmarks/bench_autograd.py --quick          # smoke test (a few seconds)
    python benchmarks/bench_autograd.py --json out.json  # also write the numbers as JSON

Two cases, each with a target:

* tiny graph: ``(a*a + a).sum().backward()`` on a 4x4 tensor measures the per-op
  overhead of the engine; target: at most 1.5x PyTorch CPU. The NumPy reference
  is the forward plus the hand-written gradient 2a + 1.
* matmul 512: ``(a @ b).backward(g)`` on 512x512 matrices measures what the engine
  adds around the BLAS calls; target: within 1.05x of the three NumPy products
  it needs, ``a @ b``, ``g @ b.T`` and ``a.T @ g``.

Each contender is timed with timeit; the contenders take turns (round-robin) over
the repeats so that background load hits them all alike, and the fastest repeat
(per iteration) is reported. PyTorch is optional: without it the tiny-graph target
is skipped and everything else still runs.
"""
import argparse
import json
import os
import platform
import timeit

import numpy as np

import minigen as mg

try:
    import torch
except ImportError:
    torch = None

TINY_TARGET = ("torch", 1.5)    # tiny graph: minigen / torch at most 1.5
MATMUL_TARGET = ("numpy", 1.05)  # matmul 512: minigen / numpy at most 1.05


# ------------------------------------------------------------------ the cases
def tiny_graph(a0):
    """Contenders for (a*a + a).sum() and its gradient on ``a0``."""
    a = mg.tensor(a0, requires_grad=True)

    def minigen_step():
        a.grad = None
        (a * a + a).sum().backward()

    def numpy_step():
        (a0 * a0 + a0).sum()
        2 * a0 + 1

    contenders = {"minigen": minigen_step, "numpy": numpy_step}
    if torch is not None:
        t = torch.from_numpy(a0.copy()).requires_grad_()

        def torch_step():
            t.grad = None
            (t * t + t).sum().backward()

        contenders["torch"] = torch_step
    return contenders, lambda: np.testing.assert_allclose(a.grad.numpy(), 2 * a0 + 1, rtol=1e-6)


def matmul(a0, b0, g0):
    """Contenders for c = a @ b and c.backward(g) on 2-D arrays."""
    a, b, g = mg.tensor(a0, requires_grad=True), mg.tensor(b0, requires_grad=True), mg.tensor(g0)

    def minigen_step():
        a.grad = b.grad = None
        (a @ b).backward(g)

    def numpy_step():
        a0 @ b0
        g0 @ b0.T
        a0.T @ g0

    contenders = {"minigen": minigen_step, "numpy": numpy_step}
    if torch is not None:
        ta, tb = (torch.from_numpy(x.copy()).requires_grad_() for x in (a0, b0))
        tg = torch.from_numpy(g0.copy())

        def torch_step():
            ta.grad = tb.grad = None
            (ta @ tb).backward(tg)

        contenders["torch"] = torch_step

    def check():
        np.testing.assert_allclose(a.grad.numpy(), g0 @ b0.T, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(b.grad.numpy(), a0.T @ g0, rtol=1e-4, atol=1e-3)

    return contenders, check


def make_cases():
    """(name, contenders, check, target) for each case, on seeded float32 data."""
    rng = np.random.default_rng(0)

    def randn(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    return [("tiny graph", *tiny_graph(randn(4, 4)), TINY_TARGET),
            ("matmul 512", *matmul(randn(512, 512), randn(512, 512), randn(512, 512)), MATMUL_TARGET)]


# ------------------------------------------------------------------ timing
def best_times(contenders, repeats):
    """Fastest seconds per iteration of each contender, taking turns over ``repeats`` rounds.

    ``Timer.autorange`` picks each contender's iteration count (at least 0.2 s a round)
    and warms it up.
    """
    timers = {name: timeit.Timer(step) for name, step in contenders.items()}
    numbers = {name: timer.autorange()[0] for name, timer in timers.items()}
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best


def run_case(name, contenders, check, target, repeats):
    """Time one case, check minigen's gradient, and judge it against its target."""
    seconds = best_times(contenders, repeats)
    check()
    ratios = {peer: seconds["minigen"] / seconds[peer] for peer in ("numpy", "torch") if peer in seconds}
    peer, limit = target
    verdict = ("PASS" if ratios[peer] <= limit else "MISS") if peer in ratios else "SKIP"
    return {"case": name, "seconds": seconds, "ratios": ratios,
            "target": {"peer": peer, "max_ratio": limit}, "result": verdict}


# ------------------------------------------------------------------ report
def machine():
    return {"cpu_count": os.cpu_count(), "arch": platform.machine(), "load_avg_1min": os.getloadavg()[0],
            "python": platform.python_version(), "numpy": np.__version__,
            "numpy_blas": np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"],
            "torch": torch.__version__ if torch is not None else None,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "minigen": mg.__version__}


def fmt_time(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(ratio):
    return "-" if ratio is None else f"{ratio:.2f}x"


def print_report(info, results, repeats):
    print(f"machine: {info['cpu_count']} CPUs ({info['arch']}), load average {info['load_avg_1min']:.2f} "
          "before the run")
    print(f"Python {info['python']}, NumPy {info['numpy']} ({info['numpy_blas']}), minigen {info['minigen']}, "
          + (f"PyTorch {info['torch']} ({info['torch_threads']} threads)" if info["torch"] else "PyTorch skipped"))
    print(f"float32; best of {repeats} round-robin repeats, time per iteration (forward + backward)\n")
    row = "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}  {:<16} {}"
    print(row.format("case", "minigen", "numpy", "torch", "mg/numpy", "mg/torch", "target", "result"))
    for r in results:
        s, q, t = r["seconds"], r["ratios"], r["target"]
        print(row.format(r["case"], fmt_time(s["minigen"]), fmt_time(s["numpy"]), fmt_time(s.get("torch")),
                         fmt_ratio(q["numpy"]), fmt_ratio(q.get("torch")),
                         f"<= {t['max_ratio']}x {t['peer']}", r["result"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args()
    if torch is None:
        print("PyTorch not installed: its column and the tiny-graph target are skipped")
    else:
        torch.set_num_threads(os.cpu_count())
    repeats = 3 if args.quick else 15
    info = machine()
    results = [run_case(*case, repeats) for case in make_cases()]
    print_report(info, results, repeats)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "repeats": repeats, "results": results}, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
