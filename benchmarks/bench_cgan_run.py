"""A whole conditional DCGAN run, minigen against PyTorch CPU, side by side in one process.

    python benchmarks/bench_cgan_run.py [--epochs 3] [--seeds 0 1 2] [--skip-minigen]

Both train the same nets (minigen.models.cgan's ConditionalGenerator, fed [z, one_hot(y)],
and ProjectionDiscriminator, D(x, y) = psi(phi(x)) + e_y . phi(x), rebuilt in torch) with
GANTrainer's recipe, as benchmarks/bench_dcgan_run.py does for the DCGAN: DCGAN init (the
label embedding's too, N(0, 0.02^2)), Adam(2e-4, (0.5, 0.999)), batch 64 from the 4,000
embedded training digits with their labels in the order of default_rng(seed + epoch), per
round one discriminator step on a real batch and fakes drawn for its labels, then one
generator step on fresh noise with those labels; the non-saturating loss. For each library
and seed: the training time (no evaluation inside), and the judge on 1,000 samples, 100 per
label, from the demo's codes: its accuracy on the label asked for, the classifier score and
the Frechet distance against the 1,000 real test digits. Then each library's mean and range
over the seeds, and the time ratio (Ctrl-C: of the seeds done). The issue's run is --epochs 30.
"""
import argparse
import os

import numpy as np

import minigen
from bench_dcgan_run import EVAL_SEED, init_dcgan_torch_, minigen_run, torch, torch_run, torch_samples
from bench_layers import Lib, dcgan_nets
from minigen.data import load_mnist
from minigen.models.cgan import N_CLASSES, ConditionalGenerator, ProjectionDiscriminator, evaluate_conditional_samples
from minigen.models.gan import to_gan_range
from minigen.models.judge import load_judge

MEASURES = ("seconds", "judge_accuracy", "classifier_score", "frechet_distance")


def torch_cgan_nets():
    """ConditionalGenerator and ProjectionDiscriminator in torch: bench_layers' DCGAN layers, the
    generator's first layer widened to [z, one_hot(y)], the discriminator's last one as psi."""
    nn, F = torch.nn, torch.nn.functional
    g_layers, d_layers = dcgan_nets(Lib(torch), inputs=64 + N_CLASSES)

    class TorchConditionalGenerator(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = g_layers

        def forward(self, z, labels):
            return self.layers(torch.cat([z, F.one_hot(labels, N_CLASSES).to(z.dtype)], dim=1))  # G(z, y)

    class TorchProjectionDiscriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.phi, self.psi = d_layers[:-1], d_layers[-1]
            self.embed = nn.Embedding(N_CLASSES, 128 * 7 * 7)

        def forward(self, x, labels):
            features = self.phi(x)
            return self.psi(features) + (self.embed(labels) * features).sum(dim=1, keepdim=True)  # psi + e_y.phi

    generator, discriminator = TorchConditionalGenerator(), TorchProjectionDiscriminator()
    init_dcgan_torch_(generator, discriminator)
    nn.init.normal_(discriminator.embed.weight, 0.0, 0.02)  # as ProjectionDiscriminator's
    return generator, discriminator


def run_seed(library, seed, data, epochs):
    """One training run of library ("PyTorch" or "minigen") with seed, judged: the dict of MEASURES."""
    images, labels, real, judge = data
    asked = np.repeat(np.arange(N_CLASSES), 100)  # 100 digits of each label, as the demo scores
    if library == "PyTorch":
        seconds, generator = torch_run(images, epochs, "non_saturating", seed=seed, nets=torch_cgan_nets,
                                       labels=labels)
        samples = torch_samples(generator, asked)
    else:
        seconds, trainer = minigen_run(images, epochs, "non_saturating", seed=seed, labels=labels,
                                       nets=lambda: (ConditionalGenerator(), ProjectionDiscriminator()))
        samples = trainer.generate(labels=asked, seed=EVAL_SEED)
    scores = evaluate_conditional_samples(samples, asked, real, judge)
    print(f"{library:8s} seed {seed}: {seconds:7.1f} s, judge's accuracy {scores['judge_accuracy']:.1%}, "
          f"classifier score {scores['classifier_score']:.2f}, Frechet distance {scores['frechet_distance']:.1f}",
          flush=True)
    return {"seconds": seconds, **{name: scores[name] for name in MEASURES[1:]}}


def summary(library, runs):
    """A line of the mean and min..max over the seeds' runs of each measure."""
    def spread(name, form):
        values = [run[name] for run in runs]
        return f"{format(np.mean(values), form)} ({format(min(values), form)}..{format(max(values), form)})"
    return (f"{library:8s} mean (min..max) over {len(runs)} seed(s): {spread('seconds', '.1f')} s, accuracy "
            f"{spread('judge_accuracy', '.1%')}, classifier score {spread('classifier_score', '.2f')}, "
            f"Frechet distance {spread('frechet_distance', '.1f')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--skip-minigen", action="store_true", help="the PyTorch runs alone")
    args = parser.parse_args()
    train_images, train_labels = load_mnist("train")
    data = (to_gan_range(train_images), train_labels.astype(np.int64), load_mnist("test")[0].astype(np.float32) / 255,
            load_judge())
    print(f"conditional DCGAN, non-saturating, {args.epochs} epochs on {len(train_images)} digits, batch 64, seeds "
          f"{args.seeds}; minigen {minigen.__version__}" + (f", PyTorch {torch.__version__}" if torch else "")
          + f"; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    libraries = [] if args.skip_minigen else ["minigen"]
    if torch is not None:
        torch.set_num_threads(os.cpu_count())
        libraries.insert(0, "PyTorch")
    else:
        print("PyTorch not installed: pip install torch==2.13.0 to compare")
    runs = {library: [] for library in libraries}
    try:
        for seed in args.seeds:  # seed by seed, so that a run stopped early still pairs the two libraries
            for library in libraries:
                runs[library].append(run_seed(library, seed, data, args.epochs))
    except KeyboardInterrupt:
        print("interrupted: the seeds done so far")
    for library in libraries:
        if runs[library]:
            print(summary(library, runs[library]))
    if len(runs) == 2 and len(runs["minigen"]) == len(runs["PyTorch"]) > 0:
        ratio = np.mean([r["seconds"] for r in runs["minigen"]]) / np.mean([r["seconds"] for r in runs["PyTorch"]])
        print(f"minigen / PyTorch (mean training seconds): {ratio:.2f}x")


if __name__ == "__main__":
    main()
