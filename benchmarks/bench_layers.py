"""Layers and training steps: minigen against PyTorch CPU, side by side in one run.

    python benchmarks/bench_layers.py [--quick] [--json PATH]

Cases (float32, 2 threads for both):
- Conv2d / ConvTranspose2d forward + backward at the DCGAN shapes (batch 64, kernel 4,
  stride 2, padding 1), with GFLOP/s against the raw GEMM rate of NumPy's BLAS;
- one DCGAN training step at batch 64 (one discriminator and one generator step, Adam,
  BCE with logits) with the nets of the issue;
- one VAE training step at batch 128 (784-400-20, Adam 1e-3).
The same code builds and runs the nets in both libraries (minigen mirrors PyTorch's names).
Targets: DCGAN step and VAE step at most 1.5x PyTorch, with the kernel OpenBLAS picks for the
CPU (what users get). The run repeats itself in a child process with the other kernel
(OPENBLAS_CORETYPE removed if it is set here, pinned to Haswell if not), so both figures
come out of one command; --one-kernel skips that.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import minigen

try:
    import torch
except ImportError:  # PyTorch is an optional peer
    torch = None

TARGET = 1.5
BLAS_VARIABLE, PINNED_KERNEL = "OPENBLAS_CORETYPE", "Haswell"


# ------------------------------------------------------------------ the two OpenBLAS kernels
def blas_kernel():
    """The OpenBLAS kernel this process runs: pinned by the variable, or OpenBLAS's own pick."""
    pinned = os.environ.get(BLAS_VARIABLE)
    return f"{BLAS_VARIABLE}={pinned}" if pinned else "OpenBLAS's own kernel"


def run_with_other_kernel(script, arguments):
    """Run ``script`` again in a child process with the other kernel: the variable must be set
    before NumPy loads OpenBLAS, hence a process of its own."""
    env = dict(os.environ)
    if env.pop(BLAS_VARIABLE, None) is None:
        env[BLAS_VARIABLE] = PINNED_KERNEL
    print(f"\n--- the same run with {BLAS_VARIABLE}={env.get(BLAS_VARIABLE, '(unset)')}, in a child process ---",
          flush=True)
    subprocess.run([sys.executable, script, *arguments, "--one-kernel"], env=env, check=True)


def other_kernel_report(arguments):
    """This benchmark's numbers with the other kernel, from a child run's --json."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "report.json")
        run_with_other_kernel(__file__, [*arguments, "--json", path])
        with open(path) as report:
            return json.load(report)


def step_summary(reports):
    """The step ratios under both kernels; the target is judged with OpenBLAS's own kernel."""
    print(f"\nstep ratios against PyTorch CPU (target <= {TARGET}x with OpenBLAS's own kernel, what users get):")
    for name in ("DCGAN step (batch 64)", "VAE step (batch 128)"):
        figures = []
        for report in reports:
            ratio = report["cases"][name]["ratio"]
            own = report["blas"] == "OpenBLAS's own kernel"
            figures.append(f"{ratio:.2f}x with {report['blas']}" + (f" ({verdict(ratio)})" if own else ""))
        print(f"  {name:24s} " + ", ".join(figures))


def verdict(ratio):
    return "PASS" if ratio <= TARGET else "MISS"


# ------------------------------------------------------------------ timing
def best_time(fn, repeats, min_seconds=0.2):
    """Best seconds per call over ``repeats`` rounds of enough calls to last ``min_seconds``."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - start >= min_seconds / 4 or calls >= 64:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def gemm_rate(repeats):
    """NumPy's float32 GEMM rate in GFLOP/s on a 1024 x 1024 x 1024 product."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    return 2 * 1024 ** 3 / best_time(lambda: a @ a, repeats) / 1e9


# ------------------------------------------------------------------ the cases, for either library
class Lib:
    """The names a case needs, from minigen or from torch, on one device."""

    def __init__(self, module, device="cpu"):
        self.module, self.nn, self.optim, self.device = module, module.nn, module.optim, device
        self.F = module.nn.functional

    def tensor(self, array, requires_grad=False):
        return self.module.tensor(array, device=self.device, requires_grad=requires_grad)

    def place(self, *modules):
        return [module.to(self.device) for module in modules]


def conv_case(lib, transposed, c_in, c_out, size):
    layer, = lib.place((lib.nn.ConvTranspose2d if transposed else lib.nn.Conv2d)(c_in, c_out, 4, 2, 1))
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, c_in, size, size)).astype(np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal(tuple(layer(x).shape)).astype(np.float32))

    def step():
        x.grad = None
        layer.zero_grad()
        layer(x).backward(g)
    return step


def conv_flops(transposed, c_in, c_out, size):
    """Multiply-adds of forward + both gradients, counted as 2 flops each."""
    out = size * 2 if transposed else size // 2
    positions = 64 * (size if transposed else out) ** 2
    return 3 * 2 * positions * c_in * c_out * 16


def dcgan_nets(lib, inputs=64):
    """The DCGAN's generator and discriminator as Sequentials of lib's layers; the generator takes
    ``inputs`` numbers a digit (the 64-d z, or [z, one_hot(y)] for the conditional one)."""
    nn = lib.nn
    generator = nn.Sequential(
        nn.Linear(inputs, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(6272, 1))
    return generator, discriminator


def dcgan_case(lib):
    generator, discriminator = lib.place(*dcgan_nets(lib))
    opt_g = lib.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = lib.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(0)
    real = lib.tensor(rng.uniform(-1, 1, (64, 1, 28, 28)).astype(np.float32))
    z = lib.tensor(rng.standard_normal((64, 64)).astype(np.float32))
    ones, zeros = lib.tensor(np.ones((64, 1), np.float32)), lib.tensor(np.zeros((64, 1), np.float32))
    bce = lib.F.binary_cross_entropy_with_logits

    def step():
        fake = generator(z)
        loss_d = bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(discriminator(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return step


def vae_case(lib):
    nn, F = lib.nn, lib.F
    encoder, mu_head, logvar_head, decoder = lib.place(
        nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20),
        nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784)))
    parameters = [p for m in (encoder, mu_head, logvar_head, decoder) for p in m.parameters()]
    opt = lib.optim.Adam(parameters, lr=1e-3)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.uniform(0, 1, (128, 784)).astype(np.float32))
    eps = lib.tensor(rng.standard_normal((128, 20)).astype(np.float32))

    def step():
        h = F.relu(encoder(x))
        mu, logvar = mu_head(h), logvar_head(h)
        z = mu + (logvar * 0.5).exp() * eps
        reconstruction = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
        opt.zero_grad()
        (reconstruction + kl).backward()
        opt.step()
    return step


# ------------------------------------------------------------------ the report
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--one-kernel", action="store_true", help="skip the child run with the other BLAS kernel")
    args = parser.parse_args()
    repeats = 2 if args.quick else 7
    libs = {"minigen": Lib(minigen)}
    if torch is not None:
        torch.set_num_threads(os.cpu_count())
        libs["torch"] = Lib(torch)
    else:
        print("PyTorch not installed: pip install torch==2.13.0 to compare (minigen alone below)")
    rate = gemm_rate(repeats)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; NumPy {np.__version__}, "
          f"minigen {minigen.__version__}" + (f", PyTorch {torch.__version__}" if torch else ""))
    print(f"raw GEMM rate (NumPy, float32, 1024^3, {blas_kernel()}): {rate:.0f} GFLOP/s\n")
    cases = {f"{'ConvT' if t else 'Conv'} {ci}->{co} {s}->{s * 2 if t else s // 2}": (
        (lambda lib, t=t, ci=ci, co=co, s=s: conv_case(lib, t, ci, co, s)), conv_flops(t, ci, co, s))
        for t, ci, co, s in [(False, 1, 64, 28), (False, 64, 128, 14), (True, 128, 64, 7), (True, 64, 1, 14)]}
    cases["DCGAN step (batch 64)"] = (dcgan_case, None)
    cases["VAE step (batch 128)"] = (vae_case, None)
    results = {}
    print(f"{'case':24s} {'minigen':>10s} {'torch':>10s} {'ratio':>7s} {'GFLOP/s':>8s} {'of GEMM':>8s}  result")
    for name, (make, flops) in cases.items():
        steps = {lib_name: make(lib) for lib_name, lib in libs.items()}
        times = {lib_name: [] for lib_name in steps}
        for _ in range(repeats):  # round-robin, so background load hits both alike
            for lib_name, step in steps.items():
                times[lib_name].append(best_time(step, 1))
        best = {lib_name: min(t) for lib_name, t in times.items()}
        ratio = best["minigen"] / best["torch"] if "torch" in best else None
        gflops = flops / best["minigen"] / 1e9 if flops else None
        judged = ratio is not None and not flops and BLAS_VARIABLE not in os.environ
        result = verdict(ratio) if judged else "-"
        results[name] = {"seconds": best, "ratio": ratio, "gflops": gflops}
        print(f"{name:24s} {best['minigen'] * 1e3:8.2f}ms "
              + (f"{best['torch'] * 1e3:8.2f}ms {ratio:6.2f}x " if ratio else f"{'-':>10s} {'-':>7s} ")
              + (f"{gflops:8.0f} {gflops / rate:7.0%}" if gflops else f"{'':8s} {'':8s}") + f"  {result}")
    report = {"blas": blas_kernel(), "gemm_gflops": rate, "cases": results}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    if not args.one_kernel and "torch" in libs:
        step_summary([report, other_kernel_report(["--quick"] if args.quick else [])])

if __name__ == "__main__":
    main()
