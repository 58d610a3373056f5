"""The generative ladder: four models of the same 4,000 training digits, side by side.

    python demos/generative_ladder.py [--device cpu|cuda] [--components 20] [--vae-epochs 20]
                                      [--gan-epochs 10] [--dcgan-checkpoint PATH]
                                      [--out out/generative_ladder] [--seed 0] [--quick]

Up the ladder: Bernoulli naive Bayes (one per class: each pixel on or off independently given
the class), a Gaussian mixture on the digits' first 50 principal components, the VAE and the
DCGAN. samples.png holds a row of samples from each; the printed table (and metrics.json) says
what each can and cannot do (an exact likelihood, sampling, a latent space), with the judge's
classifier score and Frechet distance (minigen.models.judge) of its samples against the test
digits. The DCGAN comes from the DCGAN demo's checkpoint (out/dcgan_mnist/checkpoint.npz) when
there is one; otherwise it is trained here, as the VAE always is (its demo saves no weights).
"""
import json
import pathlib

import numpy as np

import minigen
from minigen import backend
from minigen.data import load_mnist
from minigen.models.gan import Discriminator, GANTrainer, Generator, evaluate_samples, to_gan_range
from minigen.models.judge import load_judge
from minigen.models.mixture import GaussianMixture
from minigen.models.naive_bayes import BernoulliNB
from minigen.models.vae import as_pixels, train_vae
from minigen.viz import image_grid
from common import demo_parser, output_folder, positive_int

PCA_DIMS = 50
QUICK_DIGITS = 640  # --quick trains the DCGAN (without a checkpoint) on these many digits only
# what each rung can do: exact ln p(x), sampling, a latent space
CAN = {"training digits": ("-", "-", "-"),
       "naive Bayes": ("yes, of the binarized pixels", "yes: a class, then each pixel", "no: only the class"),
       "Gaussian mixture": (f"yes, of the {PCA_DIMS} PCA coordinates", "yes: a component, then a Gaussian",
                            "discrete: the component"),
       "VAE": ("no: a lower bound (ELBO, IWAE)", "yes: z ~ N(0, I), decoded", "yes: continuous, with an encoder"),
       "DCGAN": ("no", "yes: z ~ N(0, I), G(z)", "yes: continuous, no encoder")}


def naive_bayes_samples(pixels, labels, n, seed, device):
    """n binary digits from BernoulliNB, n / 10 of each class: 0, 1, ..., 9, 0, 1, ..."""
    model = BernoulliNB().fit(backend.to_device(pixels, device), backend.to_device(labels, device))
    rng = np.random.default_rng(seed)
    per_class = np.stack([backend.to_host(model.sample(c, -(-n // 10), random_state=rng))
                          for c in range(10)])                                              # (10, n / 10, 784)
    return per_class.transpose(1, 0, 2).reshape(-1, pixels.shape[1])[:n]


def mixture_samples(pixels, n, components, seed, device):
    """n digits from a Gaussian mixture on the first PCA_DIMS principal components, mapped back to pixels."""
    mean = pixels.mean(axis=0, dtype=np.float64)
    _, vectors = np.linalg.eigh(np.cov(pixels.T))                # the covariance's eigenvectors, ascending
    directions = vectors[:, ::-1][:, :PCA_DIMS].T                # the principal directions, (PCA_DIMS, 784)
    codes = backend.to_device((pixels - mean) @ directions.T, device)   # the PCA coordinates (N, PCA_DIMS)
    gmm = GaussianMixture(components, covariance_type="full", random_state=seed).fit(codes)
    gmm.random_state = seed + 1
    codes = backend.to_host(gmm.sample(n)[0])
    return np.clip(codes @ directions + mean, 0, 1)[np.random.default_rng(seed).permutation(n)]


def vae_samples(pixels, n, epochs, seed, device):
    """n digits from a VAE trained here: the Bernoulli means of p(x | z), z ~ N(0, I)."""
    model, _ = train_vae(pixels, epochs=epochs, seed=seed, device=device, show_progress=False)
    minigen.manual_seed(seed)
    with minigen.no_grad():
        return model.sample(n).numpy()


def dcgan_samples(images, n, epochs, checkpoint, seed, device):
    """n digits G(z) from the DCGAN demo's checkpoint, or from a DCGAN trained here. Returns (samples, source)."""
    trainer = GANTrainer(Generator(), Discriminator(), seed=seed, device=device)
    if checkpoint.exists():
        trainer.generator.load_state_dict(minigen.load(checkpoint, map_location=device)["generator"])
        source = f"weights from {checkpoint}"
    else:
        trainer.fit(to_gan_range(images), epochs=epochs, batch_size=64)
        source = f"trained here, {epochs} epoch{'s' * (epochs != 1)}"
    return trainer.generate(n, seed=seed).reshape(n, -1), source


def main(argv=None):
    parser = demo_parser(__doc__, "generative_ladder", f"5 components, 1 VAE and 1 DCGAN epoch on {QUICK_DIGITS} digits, 200 samples each")
    parser.add_argument("--components", type=positive_int, help="of the Gaussian mixture: 20; 5 with --quick")
    parser.add_argument("--vae-epochs", type=positive_int, help="default 20; 5 with --quick (about a second)")
    parser.add_argument("--gan-epochs", type=positive_int, help="when no checkpoint: 10; 1 with --quick")
    parser.add_argument("--dcgan-checkpoint", default="out/dcgan_mnist/checkpoint.npz",
                        help="the DCGAN demo's checkpoint, used when it exists")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    quick = args.quick
    images, labels = load_mnist("train")
    test_images, _ = load_mnist("test")
    pixels = as_pixels(images)
    n = 200 if quick else 1000
    real = test_images[np.random.default_rng(args.seed).permutation(len(test_images))[:n]].astype(np.float32) / 255
    judge = load_judge()

    few = QUICK_DIGITS if quick else len(images)  # the DCGAN's training digits
    samples = {"training digits": pixels[np.random.default_rng(args.seed + 1).permutation(len(pixels))[:n]],
               "naive Bayes": naive_bayes_samples(pixels, labels, n, args.seed, args.device),
               "Gaussian mixture": mixture_samples(pixels, n, args.components or (5 if quick else 20), args.seed,
                                                   args.device),
               "VAE": vae_samples(pixels, n, args.vae_epochs or (5 if quick else 20), args.seed, args.device)}
    samples["DCGAN"], dcgan_source = dcgan_samples(images[:few], n, args.gan_epochs or (1 if quick else 10),
                                                   pathlib.Path(args.dcgan_checkpoint), args.seed, args.device)

    rows = np.concatenate([s[:10] for s in samples.values()])
    titles = [name if i == 0 else "" for name in samples for i in range(10)]
    image_grid(rows, out / "samples.png", titles=titles, title="the generative ladder: samples of each model")
    metrics = {"train_digits": len(pixels), "samples_per_model": n, "seed": args.seed, "dcgan": dcgan_source,
               "models": {}}
    row = "{:<17} {:<32} {:<34} {:<32} {:>6} {:>8}"
    print(row.format("model", "exact likelihood", "sampling", "latent space", "score", "Frechet"))
    for name, images_of in samples.items():
        judged = evaluate_samples(images_of.reshape(-1, 28, 28), real, judge)
        likelihood, sampling, latent = CAN[name]
        metrics["models"][name] = {"exact_likelihood": likelihood, "sampling": sampling, "latent_space": latent,
                                   "classifier_score": judged["classifier_score"],
                                   "frechet_distance": judged["frechet_distance"]}
        print(row.format(name, likelihood, sampling, latent, f"{judged['classifier_score']:.2f}",
                         f"{judged['frechet_distance']:.1f}"))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"DCGAN: {dcgan_source}; the first row is real digits, for comparison. Figures in {out}/")
    return metrics


if __name__ == "__main__":
    main()
