"""Train a small CNN on MNIST digits: test accuracy, misclassified digits, confusion matrix.

    python demos/mnist_classifier.py [--device cpu|cuda] [--epochs 15] [--data 5k|full]
                                     [--out out/mnist_classifier] [--seed 0] [--quick]
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, mnist_digits, output_folder, positive_int
from minigen.models.classifier import predict_logits, train_classifier
from minigen.viz import confusion_matrix_plot, curves, image_grid


def main(argv=None):
    parser = demo_parser(__doc__, "mnist_classifier", "3 epochs")
    parser.add_argument("--epochs", type=positive_int, help="default 15; 3 with --quick")
    parser.add_argument("--data", choices=["5k", "full"], default="5k")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    train_x, train_y, test_x, test_y = mnist_digits(args)
    epochs = args.epochs or (3 if args.quick else 15)  # an explicit --epochs wins

    start = time.perf_counter()
    model, losses = train_classifier(train_x, train_y, epochs=epochs, seed=args.seed, device=args.device)
    seconds = time.perf_counter() - start
    predictions = predict_logits(model, test_x, device=args.device).argmax(axis=1)
    accuracy = float((predictions == test_y).mean())

    wrong = np.flatnonzero(predictions != test_y)[:30]
    image_grid(test_x[wrong], out / "misclassified.png", titles=[f"{t} as {p}" for t, p in
                                                                  zip(test_y[wrong], predictions[wrong])],
               title="misclassified test digits (true as predicted)")
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (test_y, predictions), 1)
    confusion_matrix_plot(confusion, out / "confusion_matrix.png")
    curves({"training loss": losses}, out / "loss.png", title="cross-entropy")
    metrics = {"test_accuracy": accuracy, "epochs": epochs, "train_digits": len(train_y), "test_digits": len(test_y),
               "training_seconds": round(seconds, 1), "loss_per_epoch": losses, "device": args.device,
               "data": args.data, "seed": args.seed}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"mnist classifier: test accuracy {accuracy:.2%} on {len(test_y)} digits after {epochs} epochs "
          f"({seconds:.0f} s); figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
