"""Autoencoders on MNIST: bottlenecks of 32 and 2, denoising, and outlier detection.

    python demos/autoencoder_mnist.py [--device cpu|cuda] [--epochs 20] [--data 5k|full]
                                      [--out out/autoencoder_mnist] [--seed 0] [--quick]

1. Dense and convolutional autoencoders with 32- and 2-dimensional codes: reconstructions,
   per-pixel test MSE, and the 2-d codes of the test digits coloured by label.
2. Denoising: Gaussian (std 0.5) and salt-and-pepper (20% of pixels) noise in, clean digits
   out; PSNR of the noisy and of the denoised test digits. With --quick the denoisers take
   batches of 32 and Adam's lr 3e-3 (with 3 epochs of the full run's 64 and 1e-3 they put
   out one average digit for every input).
3. Outliers: trained on the digits 0-8, the reconstruction error scores held-out 9s,
   uniform noise and upside-down test digits 0-8 against the test digits 0-8: ROC and AUROC.
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, mnist_digits, output_folder, positive_int
import minigen
import minigen.viz  # noqa: F401  (chooses matplotlib's Agg backend before pyplot is imported)
import matplotlib.pyplot as plt
from minigen.models.autoencoder import (
    ConvAutoencoder, DenseAutoencoder, auroc, gaussian_noise, psnr, roc_curve, salt_and_pepper, train_autoencoder)
from minigen.models.classifier import as_input
from minigen.viz import curves, image_grid

NOISES = {"gaussian": gaussian_noise(0.5), "salt_and_pepper": salt_and_pepper(0.2)}
NETS = {"dense": lambda bottleneck: DenseAutoencoder(hidden=(256,), bottleneck=bottleneck),
        "conv": lambda bottleneck: ConvAutoencoder(bottleneck=bottleneck)}


@minigen.no_grad()
def reconstruct(model, x, device, batch_size=500):
    """f(x) as a NumPy array of x's shape (N, 1, 28, 28), in eval mode."""
    model.eval()
    return np.concatenate([model.reconstruct(minigen.tensor(x[i:i + batch_size], device=device)).numpy()
                           for i in range(0, len(x), batch_size)])


@minigen.no_grad()
def encode(model, x, device):
    model.eval()
    return model.encode(minigen.tensor(x, device=device)).numpy()


def scatter_codes(codes, labels, path):
    """One panel per net: the 2-d codes of the test digits, coloured by label."""
    fig, axes = plt.subplots(1, len(codes), figsize=(5 * len(codes), 4.5))
    for ax, (name, z) in zip(np.atleast_1d(axes), codes.items()):
        points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
        ax.set(title=f"{name} autoencoder", xlabel="z1", ylabel="z2")
    fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
    fig.suptitle("2-d codes of the test digits")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def plot_roc(rocs, path):
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (fpr, tpr, area) in rocs.items():
        ax.plot(fpr, tpr, label=f"{name} (AUROC {area:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="false positive rate (digits 0-8 flagged)", ylabel="true positive rate (outliers flagged)",
           title="reconstruction error as an outlier score")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = demo_parser(__doc__, "autoencoder_mnist", "3 epochs per net; the denoisers: batches of 32, lr 3e-3")
    parser.add_argument("--epochs", type=positive_int, help="default 20; 3 with --quick")
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    train_x, train_y, test_x, test_y = mnist_digits(args)
    epochs = args.epochs or (3 if args.quick else 20)  # an explicit --epochs wins
    test = as_input(test_x)
    shown = np.random.default_rng(args.seed).permutation(len(test))[:10]
    start = time.perf_counter()

    def train(model, images, **kwargs):
        minigen.manual_seed(args.seed)
        return train_autoencoder(model, images, epochs=epochs, seed=args.seed, device=args.device, **kwargs)

    # 1. bottlenecks: the per-pixel test MSE of f(x) against x, for each net and code size
    mse, losses, codes = {}, {}, {}
    for bottleneck in (32, 2):
        rows = [test[shown]]
        for net, make in NETS.items():
            model = make(bottleneck)
            losses[f"{net}, {bottleneck}-d code"] = train(model, train_x)
            recon = reconstruct(model, test, args.device)
            mse[f"{net}_{bottleneck}"] = float(np.mean((recon - test) ** 2))
            rows.append(recon[shown])
            if bottleneck == 2:
                codes[net] = encode(model, test, args.device)
        image_grid(np.concatenate(rows), out / f"reconstructions_{bottleneck}d.png",
                   title=f"{bottleneck}-d code: test digits, dense and conv reconstructions")
    scatter_codes(codes, test_y, out / "codes_2d.png")
    curves(losses, out / "loss.png", ylabel="per-pixel MSE (training)")

    # 2. denoising: train on corrupted inputs with clean targets, then clean the test digits
    denoising, rows = {}, [test[shown]]
    denoiser = {"batch_size": 32, "lr": 3e-3} if args.quick else {"batch_size": 64, "lr": 1e-3}  # quick: more steps
    for name, noise in NOISES.items():
        model = ConvAutoencoder(bottleneck=32)
        train(model, train_x, noise=noise, **denoiser)
        noisy = noise(test, np.random.default_rng(args.seed + 1))
        cleaned = reconstruct(model, noisy, args.device)
        denoising[name] = {"psnr_noisy": psnr(test, noisy), "psnr_denoised": psnr(test, cleaned)}
        rows += [noisy[shown], cleaned[shown]]
    image_grid(np.concatenate(rows), out / "denoising.png",
               title="clean; Gaussian noisy, denoised; salt-and-pepper noisy, denoised")

    # 3. outliers: trained on 0-8, negatives are the test digits 0-8
    model = ConvAutoencoder(bottleneck=32)
    train(model, train_x[train_y != 9])
    inliers = test[test_y != 9]
    outliers = {"nines": test[test_y == 9],
                "uniform_noise": np.random.default_rng(args.seed + 2).random(
                    (len(inliers), 1, 28, 28)).astype(np.float32),
                "upside_down": inliers[:, :, ::-1, :].copy()}
    inlier_scores = model.anomaly_score(inliers)
    rocs, aurocs = {}, {}
    for name, x in outliers.items():
        scores = np.r_[model.anomaly_score(x), inlier_scores]
        labels = np.r_[np.ones(len(x)), np.zeros(len(inliers))]
        aurocs[name] = auroc(scores, labels)
        rocs[name] = (*roc_curve(scores, labels), aurocs[name])
    plot_roc(rocs, out / "roc.png")
    image_grid(np.concatenate([x[:10] for x in outliers.values()]), out / "outliers.png",
               title="outliers scored: held-out 9s, uniform noise, upside-down digits")
    seconds = time.perf_counter() - start

    metrics = {"test_mse_per_pixel": mse, "denoising_psnr_db": denoising, "denoiser_training": denoiser,
               "outlier_auroc": aurocs,
               "epochs": epochs, "train_digits": len(train_y), "test_digits": len(test_y),
               "seconds": round(seconds, 1), "loss_per_epoch": losses, "device": args.device, "data": args.data,
               "seed": args.seed}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print("autoencoders: per-pixel test MSE " + ", ".join(f"{k} {v:.4f}" for k, v in mse.items()))
    print("denoising PSNR (noisy -> denoised): " + ", ".join(
        f"{k} {v['psnr_noisy']:.1f} -> {v['psnr_denoised']:.1f} dB" for k, v in denoising.items()))
    print("outlier AUROC: " + ", ".join(f"{k} {v:.3f}" for k, v in aurocs.items()))
    print(f"{epochs} epochs per net, {seconds:.0f} s; figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
