"""HMM speed: minigen's CategoricalHMM against hmmlearn's, side by side, in float64.

    python benchmarks/bench_hmm.py                  # full run
    python benchmarks/bench_hmm.py --quick          # smoke test
    python benchmarks/bench_hmm.py --json out.json  # also write the numbers as JSON

Cases (K = 16 states, 16 symbols), each for implementation="scaling" and "log":

* EM: 10 Baum-Welch iterations on 200 sequences of 100 steps (tol=-inf, so all 10 run);
  target: at most 1.0x hmmlearn.
* score / Viterbi: one sequence of 100,000 steps; target: at most 3x hmmlearn. Both go by
  chunks in minigen (minigen.models.hmm_scan: log_likelihood_scan, viterbi_scan), as CategoricalHMM.score / decode do
  for long sequences. Viterbi is also timed with K = 4 states.

The contenders take turns (round-robin) over the repeats, and the fastest repeat is
reported. hmmlearn is optional (``pip install hmmlearn``): without it only minigen's
times are printed and the targets are skipped.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

import minigen as mg
from minigen.models.hmm import CategoricalHMM

try:
    from hmmlearn import hmm as hmmlearn_hmm
except ImportError:
    hmmlearn_hmm = None

K, SYMBOLS = 16, 16
TARGETS = {"EM 10 iterations": 1.0, "score 100k steps": 3.0, "Viterbi 100k steps": 3.0,
           "Viterbi 100k, K=4": 3.0}


def fitted_parameters(rng, k=K):
    def stochastic(*shape):
        p = rng.random(shape)
        return p / p.sum(axis=-1, keepdims=True)
    return stochastic(k), stochastic(k, k), stochastic(k, SYMBOLS)


def make_models(implementation, parameters):
    """{name: model} with the same parameters set (K from their shape), for scoring and decoding."""
    k = len(parameters[0])
    models = {"minigen": CategoricalHMM(k, n_features=SYMBOLS, implementation=implementation)}
    if hmmlearn_hmm is not None:
        models["hmmlearn"] = hmmlearn_hmm.CategoricalHMM(k, n_features=SYMBOLS, implementation=implementation)
    for model in models.values():
        model.startprob_, model.transmat_, model.emissionprob_ = parameters
    return models


def cases(implementation, rng):
    """(case name, {contender: step}) for one implementation."""
    parameters = fitted_parameters(rng)
    X = rng.integers(0, SYMBOLS, size=(200 * 100, 1))
    lengths = [100] * 200
    long_X = rng.integers(0, SYMBOLS, size=(100_000, 1))
    fitters = {"minigen": lambda: CategoricalHMM(K, n_features=SYMBOLS, n_iter=10, tol=-np.inf,
                                                 implementation=implementation, random_state=0)}
    if hmmlearn_hmm is not None:
        fitters["hmmlearn"] = lambda: hmmlearn_hmm.CategoricalHMM(K, n_features=SYMBOLS, n_iter=10, tol=-np.inf,
                                                                  implementation=implementation, random_state=0)
    models = make_models(implementation, parameters)
    small = make_models(implementation, fitted_parameters(rng, 4))
    return [("EM 10 iterations", {name: (lambda f=f: f().fit(X, lengths)) for name, f in fitters.items()}),
            ("score 100k steps", {name: (lambda m=m: m.score(long_X)) for name, m in models.items()}),
            ("Viterbi 100k steps", {name: (lambda m=m: m.decode(long_X)) for name, m in models.items()}),
            ("Viterbi 100k, K=4", {name: (lambda m=m: m.decode(long_X)) for name, m in small.items()})]


def best_times(contenders, repeats):
    """Fastest seconds of one call of each contender, taking turns over ``repeats`` rounds (after a warm-up)."""
    best = dict.fromkeys(contenders, float("inf"))
    for step in contenders.values():
        step()
    for _ in range(repeats):
        for name, step in contenders.items():
            start = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    if hmmlearn_hmm is None:
        print("hmmlearn not installed (pip install hmmlearn): its column and the targets are skipped")
    print(f"machine: {os.cpu_count()} CPUs ({platform.machine()}), load average {os.getloadavg()[0]:.2f}; "
          f"NumPy {np.__version__}, minigen {mg.__version__}; best of {repeats} round-robin repeats\n")
    row = "{:<20} {:<8} {:>10} {:>10} {:>8}  {:<8} {}"
    print(row.format("case", "impl", "minigen", "hmmlearn", "ratio", "target", "result"))
    results, rng = [], np.random.default_rng(0)
    for implementation in ("scaling", "log"):
        for name, contenders in cases(implementation, rng):
            seconds = best_times(contenders, repeats)
            ratio = seconds["minigen"] / seconds["hmmlearn"] if "hmmlearn" in seconds else None
            verdict = "SKIP" if ratio is None else ("PASS" if ratio <= TARGETS[name] else "MISS")
            results.append({"case": name, "implementation": implementation, "seconds": seconds, "ratio": ratio,
                            "max_ratio": TARGETS[name], "result": verdict})
            print(row.format(name, implementation, f"{seconds['minigen'] * 1e3:.1f} ms",
                             f"{seconds['hmmlearn'] * 1e3:.1f} ms" if ratio else "-",
                             f"{ratio:.2f}x" if ratio else "-", f"<= {TARGETS[name]}x", verdict))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"repeats": repeats, "results": results}, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
