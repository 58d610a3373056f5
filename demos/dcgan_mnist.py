"""Train a DCGAN on MNIST digits: sample grids, loss curves, the judge's scores, latent paths.

    python demos/dcgan_mnist.py [--loss non_saturating|minimax|wgan-gp] [--k-d 1] [--k-g 1]
                                [--epochs 30] [--batch-size 64] [--device cpu|cuda] [--data 5k|full]
                                [--out out/dcgan_mnist] [--seed 0] [--resume] [--quick]

--k-d is the number of discriminator steps per round; for wgan-gp it is the critic's
n_critic, 5 unless given. Each epoch: a grid of G(z) for 64 fixed codes (grids/epoch_NNN.png), and the judge's
classifier score and Frechet distance of 1,000 generated digits against the 1,000 real
test digits (metrics.json). At the end: samples.npy (float32 [1000, 28, 28] in [0, 1]),
samples.png, samples_by_label.png (for each digit, the ten samples the judge finds likeliest), the loss
and D-output curves, linear and spherical interpolations, and a walk
along the latent direction from the generated 1s to the generated 0s. A checkpoint is
written every epoch, and when Ctrl-C stops the training (it prints the --resume
command); --resume continues from it, with the very numbers of an uninterrupted run when
the checkpoint is an epoch's.
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import (checkpoint_on_interrupt, demo_parser, gan_run_metrics, mnist_digits, output_folder,
                    positive_int, resumable_checkpoint)
import minigen
from minigen.models.gan import LOSSES, Discriminator, GANTrainer, Generator, evaluate_samples, to_gan_range
from minigen.models.latent import latent_walk, lerp, slerp
from minigen.models.classifier import predict_logits
from minigen.models.judge import cache_path, load_judge, softmax
from minigen.serialization import CheckpointError
from minigen.viz import curves, image_grid

N_EVAL = 1000          # generated digits scored each epoch, as many as the real test digits
EVAL_SEED = 12345      # the codes of the evaluation samples: the same every epoch


def parse(argv):
    parser = demo_parser(__doc__, "dcgan_mnist", "5 epochs, 200 digits scored")
    parser.add_argument("--loss", choices=LOSSES, default="non_saturating")
    parser.add_argument("--k-d", type=positive_int, help="discriminator (critic) steps per round: default 1, wgan-gp 5")
    parser.add_argument("--k-g", type=positive_int, default=1, help="generator steps per round")
    parser.add_argument("--epochs", type=positive_int, help="default 30; 5 with --quick")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.npz")
    return parser, parser.parse_args(argv)


def epoch_hook(out, real, model, n_eval):
    """What happens at the end of each epoch: the fixed-noise grid and the judge's scores.
    The hook adds its time to its ``seconds``, which is kept out of the training time."""
    def on_epoch_end(trainer, epoch):
        start = time.perf_counter()
        image_grid(trainer.samples().reshape(-1, 28, 28) / 2 + 0.5, out / "grids" / f"epoch_{epoch:03d}.png",
                   columns=8, title=f"G(z) for fixed z, epoch {epoch}")
        scores = evaluate_samples(trainer.generate(n_eval, seed=EVAL_SEED), real, model)
        print(f"  epoch {epoch}: classifier score {scores['classifier_score']:.2f}, "
              f"Frechet distance {scores['frechet_distance']:.1f}")
        on_epoch_end.seconds += time.perf_counter() - start
        return scores
    on_epoch_end.seconds = 0.0
    return on_epoch_end


def latent_figures(trainer, out, model, seed):
    """Linear and spherical interpolations between random codes, and a walk from 1s to 0s."""
    rng = np.random.default_rng(seed)
    latent = trainer.generator.latent_dim
    z0, z1 = rng.standard_normal((2, 8, latent))
    for name, path in (("linear", lerp), ("slerp", slerp)):
        codes = np.concatenate([path(a, b, 10) for a, b in zip(z0, z1)])
        image_grid(trainer.decode(codes), out / f"interpolation_{name}.png",
                   title=f"{name} interpolation between random codes (one row each)")
    z = np.random.default_rng(EVAL_SEED).standard_normal((N_EVAL, latent))
    labels = predict_logits(model, trainer.decode(z)).argmax(axis=1)
    if np.any(labels == 0) and np.any(labels == 1):
        direction, what = z[labels == 0].mean(axis=0) - z[labels == 1].mean(axis=0), "mean z of 0s - mean z of 1s"
    else:
        direction, what = np.eye(latent)[0], "the first latent axis"
    codes = np.concatenate([latent_walk(start, direction, span=3.0, steps=10) for start in z0])
    image_grid(trainer.decode(codes), out / "latent_walk.png", title=f"walk along {what}, -3 to +3")


def by_label(samples, model, per_label=10):
    """Row d (0..9): the per_label samples the judge finds likeliest to be d, p(d|x) highest
    first, whatever it finds likeliest for them: every row is full, and a low p(d|x) shows
    a digit the generator rarely makes. Returns the images (10 * per_label, 28, 28) and
    their p(d|x) as titles."""
    p = softmax(predict_logits(model, samples))
    best = np.argsort(-p, axis=0, kind="stable")[:per_label].T  # (10, per_label): the indices of row d
    return samples[best.ravel()], [f"{p[i, digit]:.2f}" for digit, row in enumerate(best) for i in row]


def main(argv=None):
    parser, args = parse(argv)
    out = output_folder(parser, args)
    checkpoint = resumable_checkpoint(args, out, "dcgan_mnist")
    train_images, _, test_images, _ = mnist_digits(args)
    epochs, n_eval = args.epochs or (5 if args.quick else 30), N_EVAL  # an explicit --epochs wins
    if args.quick:
        n_eval = 200
        test_images = test_images[::5]  # 200 digits, all ten kinds
    if not cache_path().exists():
        print(f"training the judge that scores the samples, once (about a minute; cached in {cache_path().parent}/)",
              flush=True)
    model = load_judge()  # before seeding the trainer
    real = test_images.astype(np.float32) / 255

    minigen.manual_seed(args.seed)
    critic = args.loss == "wgan-gp"  # --k-d is WGAN's n_critic there
    trainer = GANTrainer(Generator(), Discriminator(batch_norm=not critic), loss=args.loss, k_d=args.k_d,
                         k_g=args.k_g, seed=args.seed, device=args.device)
    if epochs * (len(train_images) // args.batch_size) < trainer.k_d:
        parser.error(f"--epochs {epochs} of {len(train_images)} digits in batches of --batch-size {args.batch_size} "
                     f"make no round of {trainer.k_d} discriminator steps")
    per_epoch = len(train_images) // args.batch_size // trainer.k_d
    hook = epoch_hook(out, real, model, n_eval)
    start = time.perf_counter()
    try:
        with checkpoint_on_interrupt(trainer, checkpoint, "dcgan_mnist", argv):
            trainer.fit(to_gan_range(train_images), epochs=epochs, batch_size=args.batch_size,
                        checkpoint_path=checkpoint, checkpoint_every=max(1, per_epoch),
                        resume=args.resume, on_epoch_end=hook)
    except CheckpointError as error:  # --resume with other options than the checkpoint's run, or another file
        raise SystemExit(f"dcgan_mnist: --resume: {error}") from None
    seconds = time.perf_counter() - start - hook.seconds

    samples = trainer.generate(n_eval, seed=EVAL_SEED)
    np.save(out / "samples.npy", samples)
    image_grid(trainer.samples().reshape(-1, 28, 28) / 2 + 0.5, out / "samples.png", columns=8,
               title=f"DCGAN ({args.loss}) after {epochs} epochs: G(z), fixed z")
    history = trainer.history_
    curves({"discriminator": history["loss_d"], "generator": history["loss_g"]}, out / "losses.png",
           xlabel="round", title=f"losses ({args.loss})")
    curves({"D(x)": history["d_real"], "D(G(z))": history["d_fake"]}, out / "d_outputs.png", xlabel="round",
           ylabel="mean sigma(D)", title="the discriminator's outputs")
    images, p = by_label(samples, model)
    image_grid(images, out / "samples_by_label.png", titles=p, row_labels=[str(digit) for digit in range(10)],
               title="row d: the samples the judge finds likeliest to be d, with p(d | x)")
    latent_figures(trainer, out, model, args.seed)

    final = trainer.evaluations_[-1]
    metrics = {"loss": args.loss, "k_d": trainer.k_d, "k_g": args.k_g,
               **gan_run_metrics(args, epochs, len(train_images)), "scored_digits": n_eval,
               "training_seconds": round(seconds, 1), "evaluation_seconds": round(hook.seconds, 1),
               "classifier_score": final["classifier_score"], "frechet_distance": final["frechet_distance"],
               "label_histogram": final["label_histogram"], "per_epoch": trainer.evaluations_}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"dcgan ({args.loss}): classifier score {final['classifier_score']:.2f}, Frechet distance "
          f"{final['frechet_distance']:.1f} after {epochs} epochs ({seconds:.0f} s training); "
          f"figures, samples.npy and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
