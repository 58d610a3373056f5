"""Complete a digit from its upper half: pix2pix against the same U-Net trained on L1 alone.

    python demos/pix2pix_mnist.py [--epochs 5] [--batch-size 16] [--l1-lambda 100] [--device cpu|cuda]
                                  [--data 5k|full] [--out out/pix2pix_mnist] [--seed 0] [--resume] [--quick]

The input is a digit's upper half (rows 0..13), the target the whole digit. pix2pix
(minigen/models/pix2pix.py: a U-Net G, a PatchGAN D, the loss L_cGAN + lam L1 through the
DCGAN's GANTrainer) is trained first, then the L1 baseline, the same U-Net on lam L1
alone. Both complete the 1,000 test digits (200 with --quick), scored in metrics.json:
the per-pixel L1 error of the lower halves, their sharpness (edge strength: the mean
gradient magnitude) and the share of pixels within 0.1 of ink or paper, against the real
digits', and the judge's accuracy on the completed digits. Figures: completions.png (input, L1 only,
pix2pix, target, two test digits of each kind), pixel_values.png (the lower halves'
histograms: a blur is grey), losses.png. pix2pix writes a checkpoint every epoch and on
Ctrl-C; --resume continues it (the L1 baseline, which has none, trains again to the same
weights). Batches are 16 digits, not the DCGAN's 64: in batches of 64, 10 epochs are 620
rounds, and after them pix2pix was hardly sharper than L1 alone (docs/results.md).
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import (checkpoint_on_interrupt, demo_parser, gan_run_metrics, mnist_digits, output_folder,
                    positive_int, resumable_checkpoint)
import minigen
from minigen.models.gan import GANTrainer, to_gan_range, to_unit_range
from minigen.models.gan_sampling import translate
from minigen.models.judge import cache_path, load_judge
from minigen.models.pix2pix import HALF, L1_LAMBDA, PatchDiscriminator, UNet, completion_scores, fit_l1, upper_half
from minigen.serialization import CheckpointError
from minigen.viz import curves, histograms, image_grid

EVAL_SEED = 12345  # the dropout masks of the scored completions
COLUMNS = ["input", "L1 only", "pix2pix", "target"]


def parse(argv):
    parser = demo_parser(__doc__, "pix2pix_mnist",
                         "1 epoch on the 4,000 embedded digits in batches of 64, 200 test digits scored")
    parser.add_argument("--epochs", type=positive_int, help="default 5; 1 with --quick")
    parser.add_argument("--batch-size", type=positive_int,
                        help="default 16 (250 rounds an epoch: the paper's batches are 1 to 10); 64 with --quick")
    parser.add_argument("--l1-lambda", type=float, default=L1_LAMBDA, help="lam in L_cGAN + lam L1 (the paper's 100)")
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    parser.add_argument("--resume", action="store_true", help="continue pix2pix from <out>/checkpoint.npz")
    return parser, parser.parse_args(argv)


def train_pix2pix(args, checkpoint, argv, targets, inputs, epochs):
    """pix2pix through GANTrainer, checkpointed every epoch; returns the trainer."""
    minigen.manual_seed(args.seed)
    trainer = GANTrainer(UNet(), PatchDiscriminator(), l1_lambda=args.l1_lambda, seed=args.seed, device=args.device)
    try:
        with checkpoint_on_interrupt(trainer, checkpoint, "pix2pix_mnist", argv):
            trainer.fit(targets, epochs=epochs, batch_size=args.batch_size, inputs=inputs, checkpoint_path=checkpoint,
                        checkpoint_every=len(targets) // args.batch_size, resume=args.resume)
    except CheckpointError as error:  # --resume with other options than the checkpoint's run, or another file
        raise SystemExit(f"pix2pix_mnist: --resume: {error}") from None
    return trainer


def figures(out, completed, labels, trainer):
    """completions.png (two test digits of each kind), pixel_values.png and losses.png."""
    rows = np.concatenate([np.flatnonzero(labels == digit)[:2] for digit in range(10)])
    images = np.stack([completed[name][rows] for name in COLUMNS], axis=1)  # (20, 4, 28, 28): row d, 2 digits
    image_grid(images.reshape(-1, 28, 28), out / "completions.png", columns=8, titles=COLUMNS * 2 + [""] * 72,
               row_labels=[str(digit) for digit in range(10)],
               title="completing the lower half: input, L1 only, pix2pix, target")
    histograms({name: completed[name][:, HALF:] for name in ("target", "L1 only", "pix2pix")},
               out / "pixel_values.png", xlabel="pixel value (0 paper, 1 ink)",
               title="the lower halves' pixels: a blur is grey")
    curves({"G: L_cGAN + lam L1": trainer.history_["loss_g"], "D": trainer.history_["loss_d"]}, out / "losses.png",
           xlabel="round", title="pix2pix's losses")


def main(argv=None):
    parser, args = parse(argv)
    out = output_folder(parser, args)
    checkpoint = resumable_checkpoint(args, out, "pix2pix_mnist")
    train_images, _, test_images, test_labels = mnist_digits(args)
    epochs = args.epochs or (1 if args.quick else 5)
    args.batch_size = args.batch_size or (64 if args.quick else 16)  # an explicit --batch-size wins
    if args.batch_size > len(train_images):
        parser.error(f"--batch-size {args.batch_size} is more than the {len(train_images)} training digits")
    if args.quick:
        test_images, test_labels = test_images[::5], test_labels[::5]  # 200 digits, all ten kinds
    if not cache_path().exists():
        print(f"training the judge that reads the completions, once (about a minute; cached in "
              f"{cache_path().parent}/)", flush=True)
    model = load_judge()  # before seeding the nets
    targets = to_gan_range(train_images)
    inputs = upper_half(targets)

    start = time.perf_counter()
    trainer = train_pix2pix(args, checkpoint, argv, targets, inputs, epochs)
    pix2pix_seconds, start = time.perf_counter() - start, time.perf_counter()
    baseline = UNet()
    l1_losses = fit_l1(baseline, inputs, targets, epochs, args.batch_size, seed=args.seed, device=args.device)
    l1_seconds = time.perf_counter() - start

    test_inputs = upper_half(to_gan_range(test_images))
    completed = {"input": to_unit_range(test_inputs), "target": test_images.astype(np.float32) / 255,
                 "L1 only": translate(baseline, test_inputs, EVAL_SEED, device=args.device),
                 "pix2pix": trainer.translate(test_inputs, EVAL_SEED)}
    scores = {name: completion_scores(completed[name], completed["target"], test_labels, model)
              for name in ("input", "L1 only", "pix2pix", "target")}
    again = trainer.translate(test_inputs, EVAL_SEED + 1)  # other dropout masks: how much does G's noise change?
    figures(out, completed, test_labels, trainer)
    metrics = {**gan_run_metrics(args, epochs, len(train_images)), "l1_lambda": args.l1_lambda,
               "test_digits": len(test_images),
               "training_seconds": {"pix2pix": round(pix2pix_seconds, 1), "L1 only": round(l1_seconds, 1)},
               "scores": scores, "l1_per_epoch": l1_losses,
               "dropout_change_lower_half": float(np.abs(again - completed["pix2pix"])[:, HALF:].mean())}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    p2p, l1 = scores["pix2pix"], scores["L1 only"]
    print(f"pix2pix: edge strength {p2p['edge_strength']:.3f} vs L1 only {l1['edge_strength']:.3f} (real "
          f"{scores['target']['edge_strength']:.3f}), L1 error {p2p['l1_lower_half']:.3f} vs "
          f"{l1['l1_lower_half']:.3f}, judge {p2p['judge_accuracy']:.1%} vs {l1['judge_accuracy']:.1%} after {epochs} "
          f"epoch(s); figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
