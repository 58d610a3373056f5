"""A whole DCGAN training run, minigen against PyTorch CPU, side by side in one process.

    python benchmarks/bench_dcgan_run.py [--epochs 3] [--loss non_saturating|minimax] [--skip-minigen]

Both train the same nets (minigen.models.gan's Generator and Discriminator, rebuilt in
torch) with the same recipe as GANTrainer: DCGAN init, Adam(2e-4, (0.5, 0.999)), batch
64 from the 4,000 embedded training digits (last partial batch dropped), per round one
discriminator step on a real batch and fresh noise, then one generator step on fresh
noise. Prints the training time of each (no evaluation inside), their ratio, and the
judge's classifier score and Frechet distance of 1,000 samples of each, so the two runs'
quality can be compared too. The issue's full run is --epochs 30.
"""
import argparse
import os
import time

import numpy as np

import minigen
from bench_layers import Lib, dcgan_nets
from minigen.data import load_mnist
from minigen.models.gan import Discriminator, GANTrainer, Generator, evaluate_samples, to_gan_range, to_unit_range
from minigen.models.judge import load_judge

try:
    import torch
except ImportError:
    torch = None

EVAL_SEED = 12345


def init_dcgan_torch_(*modules):
    """minigen.models.gan.init_dcgan_weights_ in torch, in place: conv and linear weights
    ~ N(0, 0.02^2), biases 0; BatchNorm weights ~ N(1, 0.02^2), biases 0."""
    nn = torch.nn
    for m in (m for module in modules for m in module.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def torch_nets():
    """bench_layers' DCGAN nets in torch, started as init_dcgan_weights_ starts minigen's."""
    generator, discriminator = dcgan_nets(Lib(torch))
    init_dcgan_torch_(generator, discriminator)
    return generator, discriminator


def torch_run(images, epochs, loss, batch_size=64, seed=0, nets=torch_nets, labels=None):
    """Train nets() in torch as GANTrainer does; returns (seconds, generator). labels (N,), for
    a conditional GAN: each real batch's go to D with it, and to G (then D) with its fakes."""
    torch.manual_seed(seed)
    generator, discriminator = nets()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    softplus = torch.nn.functional.softplus
    start = time.perf_counter()
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(len(images))
        for b in range(len(images) // batch_size):
            chosen = order[b * batch_size:(b + 1) * batch_size]
            real = torch.from_numpy(images[chosen])
            y = () if labels is None else (torch.from_numpy(labels[chosen]),)  # the batch's labels, if any
            fake = generator(torch.randn(batch_size, 64), *y).detach()
            loss_d = softplus(-discriminator(real, *y)).mean() + softplus(discriminator(fake, *y)).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            fake_logits = discriminator(generator(torch.randn(batch_size, 64), *y), *y)
            loss_g = -softplus(fake_logits).mean() if loss == "minimax" else softplus(-fake_logits).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
    return time.perf_counter() - start, generator


def torch_samples(generator, labels=None):
    """1,000 digits of the torch generator (with labels (n,): n digits, those asked), from the
    codes GANTrainer.generate draws with seed EVAL_SEED: float32 (n, 28, 28) in [0, 1]."""
    n = 1000 if labels is None else len(labels)
    z = np.random.default_rng(EVAL_SEED).standard_normal((n, 64)).astype(np.float32)
    y = () if labels is None else (torch.from_numpy(labels),)
    generator.eval()
    with torch.no_grad():
        return to_unit_range(generator(torch.from_numpy(z), *y).numpy())


def minigen_run(images, epochs, loss, seed=0, nets=lambda: (Generator(), Discriminator()), labels=None):
    """GANTrainer's run of nets() (labels: as fit's); returns (seconds, trainer)."""
    minigen.manual_seed(seed)
    trainer = GANTrainer(*nets(), loss=loss, seed=seed)
    start = time.perf_counter()
    trainer.fit(images, epochs=epochs, batch_size=64, show_progress=False, labels=labels)
    return time.perf_counter() - start, trainer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--loss", choices=["non_saturating", "minimax"], default="non_saturating")
    parser.add_argument("--skip-minigen", action="store_true", help="the PyTorch run alone")
    args = parser.parse_args()
    images = to_gan_range(load_mnist("train")[0])
    judge, real = load_judge(), load_mnist("test")[0].astype(np.float32) / 255
    print(f"DCGAN, {args.loss}, {args.epochs} epochs on {len(images)} digits, batch 64; {os.cpu_count()} CPUs")
    seconds = {}
    if torch is not None:
        torch.set_num_threads(os.cpu_count())
        seconds["torch"], generator = torch_run(images, args.epochs, args.loss)
        scores = evaluate_samples(torch_samples(generator), real, judge)
        print(f"PyTorch {torch.__version__}: {seconds['torch']:7.1f} s, classifier score "
              f"{scores['classifier_score']:.2f}, Frechet distance {scores['frechet_distance']:.1f}")
    else:
        print("PyTorch not installed: pip install torch==2.13.0 to compare")
    if not args.skip_minigen:
        seconds["minigen"], trainer = minigen_run(images, args.epochs, args.loss)
        scores = evaluate_samples(trainer.generate(1000, seed=EVAL_SEED), real, judge)
        print(f"minigen {minigen.__version__}: {seconds['minigen']:7.1f} s, classifier score "
              f"{scores['classifier_score']:.2f}, Frechet distance {scores['frechet_distance']:.1f}")
    if len(seconds) == 2:
        print(f"minigen / PyTorch: {seconds['minigen'] / seconds['torch']:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
