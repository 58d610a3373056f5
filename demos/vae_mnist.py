"""Train a variational autoencoder on MNIST digits: loss curves, samples, interpolations, a 2-d manifold.

    python demos/vae_mnist.py [--device cpu|cuda] [--epochs 50] [--latent 20] [--data 5k|full]
                              [--out out/vae_mnist] [--seed 0] [--quick]

Two models with the same recipe (MLP 784-400-latent, Adam 1e-3, batch 128, Bernoulli
likelihood on pixel intensities, loss summed over pixels and averaged per digit): one with
--latent dims, one with 2, whose latent plane is decoded on a grid of Gaussian quantiles.
metrics.json holds the per-epoch test loss, the test ELBO and the IWAE estimate of -ln p(x).
"""
import json
import statistics
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, mnist_digits, output_folder, positive_int
import minigen
from minigen.models.vae import as_pixels, train_vae
from minigen.viz import curves, image_grid

MANIFOLD_SIDE = 20


@minigen.no_grad()
def test_bounds(model, pixels, n_samples, k, device, batch_size=100):
    """Mean test ELBO (n_samples per digit) and mean IWAE -ln p(x) (k samples per digit), in nats."""
    elbo, nll = [], []
    for start in range(0, len(pixels), batch_size):
        x = minigen.tensor(pixels[start:start + batch_size], device=device)
        elbo.append(model.elbo(x, n_samples=n_samples).numpy())
        nll.append(model.iwae_nll(x, k=k).numpy())
    return float(np.concatenate(elbo).mean()), float(np.concatenate(nll).mean())


@minigen.no_grad()
def manifold(model, side=MANIFOLD_SIDE):
    """Decode a side x side grid of z = (Phi^-1(u), Phi^-1(v)), u, v evenly inside (0, 1): the
    inverse Gaussian CDF spaces the grid as densely as the prior puts its mass."""
    quantiles = [statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, side)]
    z = np.array([(zx, zy) for zy in reversed(quantiles) for zx in quantiles], dtype=np.float32)
    return model.mean(model.decode(minigen.tensor(z, device=model.fc3.weight.device))).numpy()


def main(argv=None):
    parser = demo_parser(__doc__, "vae_mnist", "5 epochs, 200 test digits, IWAE with k = 10")
    parser.add_argument("--epochs", type=positive_int, help="default 50; 5 with --quick")
    parser.add_argument("--latent", type=positive_int, default=20)
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    train_images, _, test_images, test_labels = mnist_digits(args)
    train_pixels, test_pixels = as_pixels(train_images), as_pixels(test_images)
    epochs, n_samples, k = args.epochs or (5 if args.quick else 50), 10, 100  # an explicit --epochs wins
    if args.quick:
        n_samples, k = 2, 10
        test_pixels, test_labels = test_pixels[::5], test_labels[::5]  # 200 digits, all ten kinds

    metrics = {"epochs": epochs, "train_digits": len(train_pixels), "test_digits": len(test_pixels),
               "device": args.device, "data": args.data, "seed": args.seed, "elbo_samples": n_samples, "iwae_k": k}
    models = {}
    for name, latent in (("vae", args.latent), ("vae_2d", 2)):
        start = time.perf_counter()
        model, history = train_vae(train_pixels, test_pixels, epochs=epochs, latent=latent, seed=args.seed,
                                   device=args.device)
        seconds = time.perf_counter() - start
        elbo, nll = test_bounds(model, test_pixels, n_samples, k, args.device)
        metrics[name] = {"latent": latent, "test_loss": history["test_loss"][-1], "test_elbo": elbo,
                         "test_iwae_nll": nll, "training_seconds": round(seconds, 1),
                         **{f"{key}_per_epoch": values for key, values in history.items()}}
        models[name] = model
        curves({"train reconstruction": history["train_reconstruction"], "train KL": history["train_kl"],
                "test reconstruction": history["test_reconstruction"], "test KL": history["test_kl"]},
               out / f"{name}_loss.png", ylabel="nats per digit", title=f"VAE, {latent}-d latent: loss terms")

    model = models["vae"]
    minigen.manual_seed(args.seed)
    image_grid(model.sample(100).numpy(), out / "samples.png", title="samples: z ~ N(0, I), decoded")
    firsts = [int(np.flatnonzero(test_labels == digit)[0]) for digit in range(10)]
    pairs = minigen.tensor(test_pixels[firsts], device=args.device)
    path = model.interpolate(pairs, pairs[np.roll(np.arange(10), -1)], 10).numpy()   # digit d to digit d + 1
    image_grid(path.reshape(-1, 784), out / "interpolations.png", title="latent interpolations (rows: d to d + 1)")
    image_grid(manifold(models["vae_2d"]), out / "manifold.png", columns=MANIFOLD_SIDE,
               title="2-d latent manifold on Gaussian quantiles")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    for name in models:
        m = metrics[name]
        print(f"vae ({m['latent']}-d latent): test loss {m['test_loss']:.1f} per digit after {epochs} epochs, "
              f"ELBO {m['test_elbo']:.1f}, IWAE -ln p(x) {m['test_iwae_nll']:.1f} (k = {k}), "
              f"{m['training_seconds']:.0f} s")
    print(f"figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
