"""Train a class-conditional DCGAN on MNIST digits: ask for a digit, get that digit.

    python demos/cgan_mnist.py [--epochs 30] [--batch-size 64] [--device cpu|cuda] [--data 5k|full]
                               [--out out/cgan_mnist] [--seed 0] [--resume] [--quick]

G(z, y) gets the label concatenated to its noise, D(x, y) scores the pair by projection
(minigen/models/cgan.py, docs/gan.md "Conditioning"); both train through the DCGAN's
GANTrainer with its recipe (Adam 2e-4, betas (0.5, 0.999), the non-saturating loss).
At the end: samples_by_label.png, a 10 x 10 grid whose row d asks for digit d and whose
column keeps one fixed noise vector z, so the label changes the digit while z holds its
style; 100 generated digits per label (20 with --quick), samples.npy (float32 [1000, 28, 28]
in [0, 1], labels 0..9 in blocks of 100), scored by the judge in metrics.json: its accuracy
(does it read the digit asked for?), and their classifier score and Frechet distance against
the 1,000 real test digits (200 with --quick), as the DCGAN demo scores its samples; the
loss curves. A checkpoint is written every epoch and on Ctrl-C; --resume continues from it.
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import checkpoint_on_interrupt, demo_parser, gan_run_metrics, mnist_digits, output_folder, positive_int
import minigen
from minigen.models.cgan import ConditionalGenerator, ProjectionDiscriminator, evaluate_conditional_samples
from minigen.models.gan import GANTrainer, to_gan_range
from minigen.models.judge import cache_path, load_judge
from minigen.serialization import CheckpointError
from minigen.viz import curves, image_grid

EVAL_SEED = 12345  # the noise of the scored samples and of the grid's columns


def parse(argv):
    parser = demo_parser(__doc__, "cgan_mnist", "1 epoch on the 4,000 embedded digits, 20 digits a label scored")
    parser.add_argument("--epochs", type=positive_int, help="default 30; 1 with --quick")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.npz")
    return parser, parser.parse_args(argv)


def label_grid(trainer, path, columns=10):
    """Row d: G(z_j, d) for the same columns fixed codes z_j; returns the images (10 * columns, 28, 28)."""
    z = np.random.default_rng(EVAL_SEED).standard_normal((columns, trainer.generator.latent_dim))
    images = trainer.decode(np.tile(z, (10, 1)), labels=np.repeat(np.arange(10), columns))
    image_grid(images, path, columns=columns, row_labels=[str(d) for d in range(10)],
               title="row d: G(z, d); each column one fixed z")
    return images


def main(argv=None):
    parser, args = parse(argv)
    out = output_folder(parser, args)
    if args.resume and not (out / "checkpoint.npz").exists():
        raise SystemExit(f"cgan_mnist: --resume: no checkpoint at {out / 'checkpoint.npz'}; run without --resume first")
    train_images, train_labels, test_images, _ = mnist_digits(args)
    epochs, per_label = args.epochs or (1 if args.quick else 30), 20 if args.quick else 100
    real = (test_images[::5] if args.quick else test_images).astype(np.float32) / 255  # 200 of all ten kinds
    if args.batch_size > len(train_images):
        parser.error(f"--batch-size {args.batch_size} is more than the {len(train_images)} training digits")
    if not cache_path().exists():
        print(f"training the judge that reads the samples, once (about a minute; cached in {cache_path().parent}/)",
              flush=True)
    model = load_judge()  # before seeding the trainer

    minigen.manual_seed(args.seed)
    trainer = GANTrainer(ConditionalGenerator(), ProjectionDiscriminator(), seed=args.seed, device=args.device)
    start = time.perf_counter()
    try:
        with checkpoint_on_interrupt(trainer, out / "checkpoint.npz", "cgan_mnist", argv):
            trainer.fit(to_gan_range(train_images), epochs=epochs, batch_size=args.batch_size,
                        labels=train_labels, checkpoint_path=out / "checkpoint.npz",
                        checkpoint_every=len(train_images) // args.batch_size, resume=args.resume)
    except CheckpointError as error:  # --resume with other options than the checkpoint's run, or another file
        raise SystemExit(f"cgan_mnist: --resume: {error}") from None
    seconds = time.perf_counter() - start

    grid = label_grid(trainer, out / "samples_by_label.png")
    np.save(out / "samples_by_label.npy", grid)
    curves({"discriminator": trainer.history_["loss_d"], "generator": trainer.history_["loss_g"]},
           out / "losses.png", xlabel="round", title="losses (non-saturating, conditional)")
    labels = np.repeat(np.arange(10), per_label)
    samples = trainer.generate(labels=labels, seed=EVAL_SEED)
    scores = evaluate_conditional_samples(samples, labels, real, model)
    np.save(out / "samples.npy", samples)
    metrics = {**gan_run_metrics(args, epochs, len(train_images)), "training_seconds": round(seconds, 1),
               "scored_per_label": per_label, "real_digits": len(real), **scores}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"cgan: the judge reads the digit asked for in {scores['judge_accuracy']:.1%} of {len(samples)} samples, "
          f"classifier score {scores['classifier_score']:.2f}, Frechet distance {scores['frechet_distance']:.1f} "
          f"after {epochs} epoch(s) ({seconds:.0f} s training); figures, samples.npy and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
