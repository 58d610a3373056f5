"""GPU speed: minigen on CUDA against minigen on the CPU and PyTorch on CUDA, side by side.

    python benchmarks/bench_gpu.py [--device cuda] [--quick] [--json PATH]

Cases (float32; the same code builds the nets in both libraries, as in bench_layers.py):
- Conv2d / ConvTranspose2d forward + backward at the DCGAN shapes (batch 64);
- one DCGAN training step at batch 64 and one VAE training step at batch 128;
- CategoricalHMM.score of one sequence of 100,000 steps (16 states, 16 symbols, float64).
Each contender is timed after a synchronisation of its device, round-robin over the
repeats; the fastest repeat is reported. Without a GPU it says so and stops; without
PyTorch (or without its CUDA build) only minigen's two columns are printed.
"""
import argparse
import json
import os
import sys

import numpy as np

import minigen
from minigen import backend
from minigen.models.hmm import CategoricalHMM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_layers import Lib, best_time, conv_case, dcgan_case, vae_case  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is an optional peer
    torch = None


def synchronized(step, lib, device):
    """``step`` followed by a wait for the device, so the timer sees the work, not its launch."""
    if lib.module is minigen:
        return lambda: (step(), backend.synchronize(device))
    return lambda: (step(), torch.cuda.synchronize())


def hmm_score_case(device):
    rng = np.random.default_rng(0)
    model = CategoricalHMM(16, n_features=16, device=device)
    model.startprob_ = np.full(16, 1 / 16)
    model.transmat_ = rng.dirichlet(np.ones(16), 16)
    model.emissionprob_ = rng.dirichlet(np.ones(16), 16)
    X = rng.integers(0, 16, size=(100_000, 1))
    return lambda: model.score(X)


def contenders(device):
    """{column: Lib} for the layer cases: minigen on the device and on the CPU, torch on CUDA."""
    libs = {f"minigen {device}": Lib(minigen, device), "minigen cpu": Lib(minigen, "cpu")}
    if torch is not None and torch.cuda.is_available():
        libs["torch cuda"] = Lib(torch, "cuda")
    return libs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="the CUDA device to time (default cuda)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if not minigen.cuda_is_available():
        print("no CUDA device: CuPy is not installed or finds no GPU; nothing to time")
        return
    device, repeats = backend.canonical_device(args.device), 2 if args.quick else 7
    libs = contenders(device)
    print(f"{device}: {backend.device_name(device)}; NumPy {np.__version__}, minigen {minigen.__version__}"
          + (f", PyTorch {torch.__version__}" if torch else ""))
    cases = {f"{'ConvT' if t else 'Conv'} {ci}->{co} {s}": (lambda lib, t=t, ci=ci, co=co, s=s: conv_case(lib, t, ci, co, s))
             for t, ci, co, s in [(False, 1, 64, 28), (False, 64, 128, 14), (True, 128, 64, 7), (True, 64, 1, 14)]}
    cases["DCGAN step (batch 64)"] = dcgan_case
    cases["VAE step (batch 128)"] = vae_case
    results = {}
    print(f"{'case':24s} " + " ".join(f"{name:>13s}" for name in libs) + f" {'cpu/gpu':>8s}")
    for name, make in cases.items():
        steps = {column: synchronized(make(lib), lib, lib.device) for column, lib in libs.items()}
        results[name] = _timed(steps, repeats)
        _report(name, results[name], device)
    steps = {f"minigen {device}": synchronized(hmm_score_case(device), libs[f"minigen {device}"], device),
             "minigen cpu": hmm_score_case("cpu")}
    results["HMM score 100k steps"] = _timed(steps, repeats)
    _report("HMM score 100k steps", results["HMM score 100k steps"], device)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"device": device, "name": backend.device_name(device), "seconds": results}, out, indent=2)


def _timed(steps, repeats):
    times = {column: [] for column in steps}
    for _ in range(repeats):  # round-robin, so background load hits all alike
        for column, step in steps.items():
            times[column].append(best_time(step, 1))
    return {column: min(t) for column, t in times.items()}


def _report(name, best, device):
    speedup = best["minigen cpu"] / best[f"minigen {device}"]
    print(f"{name:24s} " + " ".join(f"{seconds * 1e3:11.2f}ms" for seconds in best.values()) + f" {speedup:7.1f}x")


if __name__ == "__main__":
    main()
