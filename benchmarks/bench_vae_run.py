"""Whole VAE training runs, minigen against PyTorch CPU, over several seeds, in one process.

    python benchmarks/bench_vae_run.py [--epochs 10] [--seeds 0 1 2 3 4] [--skip-minigen]

Issue 5's recipe in both libraries: the MLP VAE 784-400-20 of PyTorch's example (Bernoulli
likelihood on pixel intensities, BCE with logits), Adam 1e-3, batch 128, shuffled every
epoch, the last partial batch kept, on the 4,000 embedded training digits. The test loss is
reconstruction + KL per digit with one sample of z, on the 1,000 test digits, as
minigen.models.vae.train_vae reports it. minigen runs train_vae itself; the PyTorch side is
PyTorch's example network and loss (summed over the batch, as the example does; Adam makes
the sum and minigen's per-digit mean the same update up to its eps). Prints each seed's
test loss and training time, then the mean and spread of each library, so the issue's
targets (10 epochs <= 140, 50 epochs <= 117) can be read against the peer's own spread.
"""
import argparse
import os
import time

import numpy as np

from minigen.data import load_mnist
from minigen.models.vae import as_pixels, train_vae

try:
    import torch
except ImportError:  # PyTorch is an optional peer
    torch = None


def torch_run(train, test, epochs, seed, batch_size=128):
    """PyTorch's VAE example on these digits; returns (seconds, test loss per digit)."""
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(seed)
    fc1, fc21, fc22, fc3, fc4 = (nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20),
                                 nn.Linear(20, 400), nn.Linear(400, 784))
    params = [p for m in (fc1, fc21, fc22, fc3, fc4) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)

    def loss(x):  # reconstruction + KL, summed over the batch
        h = F.relu(fc1(x))
        mu, logvar = fc21(h), fc22(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = fc4(F.relu(fc3(z)))
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        return reconstruction - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    train_t, test_t = torch.from_numpy(train), torch.from_numpy(test)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(train_t))
        for b in range(0, len(train_t), batch_size):
            opt.zero_grad()
            loss(train_t[order[b:b + batch_size]]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        return seconds, loss(test_t).item() / len(test_t)


def minigen_run(train, test, epochs, seed):
    """minigen's train_vae, as the demo runs it; returns (seconds, including its per-epoch
    test evaluation, and the test loss per digit after the last epoch)."""
    start = time.perf_counter()
    _, history = train_vae(train, test, epochs=epochs, seed=seed, show_progress=False)
    return time.perf_counter() - start, history["test_loss"][-1]


def summary(losses):
    return f"mean {np.mean(losses):.1f}, min {np.min(losses):.1f}, max {np.max(losses):.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--skip-minigen", action="store_true", help="the PyTorch runs alone")
    args = parser.parse_args()
    train, test = as_pixels(load_mnist("train")[0]), as_pixels(load_mnist("test")[0])
    print(f"VAE 784-400-20, {args.epochs} epochs on {len(train)} digits, batch 128, Adam 1e-3; "
          f"test loss per digit on {len(test)} digits; {os.cpu_count()} CPUs")
    runs = {}
    if torch is not None:
        torch.set_num_threads(os.cpu_count())
        runs[f"PyTorch {torch.__version__}"] = [torch_run(train, test, args.epochs, seed) for seed in args.seeds]
    else:
        print("PyTorch not installed: pip install torch==2.13.0 to compare")
    if not args.skip_minigen:
        runs["minigen"] = [minigen_run(train, test, args.epochs, seed) for seed in args.seeds]
    for name, results in runs.items():
        seconds, losses = zip(*results)
        per_seed = ", ".join(f"{loss:.1f}" for loss in losses)
        print(f"{name:>22}: test loss {per_seed} (seeds {args.seeds}); {summary(losses)}; "
              f"{np.mean(seconds):.1f} s per run")


if __name__ == "__main__":
    main()
