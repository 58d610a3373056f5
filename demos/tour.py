"""Run every demo in quick mode, one line each: the headline number and where the figures went.

    python demos/tour.py [--device cpu|cuda] [--out out/tour] [--seed 0] [--only NAME ...]

About 90 s on two idle CPU cores, most of it in the DCGAN (the first run also trains
the judge that scores its samples, about a minute, and says so). Each demo writes its
figures and metrics.json to <out>/<demo>/ and its own printout to <out>/<demo>/log.txt,
line by line as it runs; on a terminal its progress bars are redrawn on the demo's line.
The full runs are the demos themselves, without --quick.
"""
import argparse
import contextlib
import pathlib
import shutil
import sys
import time

from common import available_device, non_negative_int  # first: it makes Ctrl-C and a missing extra one line
import autoencoder_mnist
import autograd_tour
import bayes_classifier
import cgan_mnist
import dcgan_mnist
import generative_ladder
import hmm_pen_digits
import markov_weather
import mnist_classifier
import pix2pix_mnist
import vae_mnist
from minigen.models.judge import cache_path


def autograd_line(m):
    return f"a line fitted by gradient descent: y = {m['w']:.3f} x {m['w0']:+.3f} (true: 3 x - 1)"


def markov_line(m):
    weather = {name: scores["accuracy"] for name, scores in m["next_state"]["weather (sampled)"].items()}
    return (f"p(Sun Sun Cloud Cloud Rain | Sun) = {m['slide_example_probability']:.4f}; A refit from "
            f"{m['days']} sampled days is off by at most {m['refit_max_abs_error']:.2f}; next day: "
            f"frequencies {weather['i.i.d. frequencies']:.1%}, order 1 {weather['order 1']:.1%}")


def bayes_line(m):
    return (f"shared covariance {m['shared_test_accuracy']:.1%} = logistic regression "
            f"{m['logistic_test_accuracy']:.1%}; 3 classes: quadratic {m['quadratic_test_accuracy_3_classes']:.1%} "
            f"vs linear {m['linear_test_accuracy_3_classes']:.1%}")


def hmm_line(m):
    return (f"held-out '2's: ln p {m['test_forwards_mean']:.1f} written forwards vs "
            f"{m['test_backwards_mean']:.1f} backwards ({m['test_forwards_wins']}/{m['test_digits']})")


def classifier_line(m):
    return f"test accuracy {m['test_accuracy']:.1%} after {m['epochs']} epochs on {m['train_digits']} digits"


def autoencoder_line(m):
    psnr = m["denoising_psnr_db"]["gaussian"]
    return (f"test MSE {m['test_mse_per_pixel']['dense_32']:.4f} (32-d code); denoising "
            f"{psnr['psnr_noisy']:.1f} -> {psnr['psnr_denoised']:.1f} dB; noise outlier AUROC "
            f"{m['outlier_auroc']['uniform_noise']:.2f}")


def vae_line(m):
    return f"test loss {m['vae']['test_loss']:.1f} nats per digit, IWAE -ln p(x) {m['vae']['test_iwae_nll']:.1f}"


def dcgan_line(m):
    return (f"judge's classifier score {m['classifier_score']:.2f} after {m['epochs']} epochs "
            f"(30 epochs: 6.3, docs/results.md)")


def cgan_line(m):
    return (f"the judge reads the digit asked for in {m['judge_accuracy']:.0%} of the samples after "
            f"{m['epochs']} epoch(s) (30 epochs: 99.2%, docs/results.md)")


def pix2pix_line(m):
    p2p, l1, real = (m["scores"][name] for name in ("pix2pix", "L1 only", "target"))
    return (f"lower halves completed: edge strength {p2p['edge_strength']:.3f} pix2pix vs {l1['edge_strength']:.3f} "
            f"L1 only (real {real['edge_strength']:.3f}), judge {p2p['judge_accuracy']:.0%} vs "
            f"{l1['judge_accuracy']:.0%} after {m['epochs']} epoch(s) (docs/results.md)")


def ladder_line(m):
    scores = ", ".join(f"{name} {row['classifier_score']:.2f}" for name, row in m["models"].items())
    return f"the judge's classifier score of each one's samples: {scores}"


ALL = {"device", "quick", "out"}
# name, module, its headline, the tour's options it takes
DEMOS = [("autograd_tour", autograd_tour, autograd_line, {"device"}),
         ("markov_weather", markov_weather, markov_line, {"quick", "out"}),
         ("bayes_classifier", bayes_classifier, bayes_line, ALL),
         ("hmm_pen_digits", hmm_pen_digits, hmm_line, ALL),
         ("mnist_classifier", mnist_classifier, classifier_line, ALL),
         ("autoencoder_mnist", autoencoder_mnist, autoencoder_line, ALL),
         ("vae_mnist", vae_mnist, vae_line, ALL),
         ("dcgan_mnist", dcgan_mnist, dcgan_line, ALL),
         ("cgan_mnist", cgan_mnist, cgan_line, ALL),
         ("pix2pix_mnist", pix2pix_mnist, pix2pix_line, ALL),
         ("generative_ladder", generative_ladder, ladder_line, ALL | {"checkpoint"})]  # the DCGAN's, just written
NAMES = [name for name, *_ in DEMOS]


class StatusLine:
    """A demo's stderr during the tour: its progress bars (text that starts with a carriage
    return) are redrawn on one line of ``terminal`` after the demo's name; other text goes to
    ``log``. It is a terminal when ``terminal`` is one, so the bars draw only then."""

    def __init__(self, name, terminal, log):
        self.name, self.terminal, self.log, self.width = name, terminal, log, 0

    def isatty(self):
        return hasattr(self.terminal, "isatty") and self.terminal.isatty()

    def write(self, text):
        if not text.startswith("\r"):
            return self.log.write(text)
        columns = shutil.get_terminal_size().columns - 1  # a wrapped line could not be redrawn
        bar = text.split("\r")[-1].rstrip()
        line = f"{self.name:18s} {bar}"[:columns]
        self.terminal.write("\r" + line.ljust(self.width))
        self.terminal.flush()
        self.width = len(line)
        return len(text)

    def flush(self):
        self.log.flush()

    def clear(self):
        """Wipe the bar, so that the next line starts on a clean one."""
        if self.width:
            self.terminal.write("\r" + " " * self.width + "\r")
            self.terminal.flush()
            self.width = 0


def run_quietly(name, module, argv, log_path):
    """module.main(argv) with its printout sent to log_path, a line at a time, and its progress
    bars to the terminal (see StatusLine); returns its metrics."""
    with open(log_path, "w", buffering=1) as log:
        status = StatusLine(name, sys.stderr, log)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(status):
                return module.main(argv)
        finally:
            status.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", type=available_device, default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", default="out/tour", help="one folder per demo goes here")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--only", nargs="+", choices=NAMES, help="run these demos only")
    args = parser.parse_args(argv)
    results, start = {}, time.perf_counter()
    for name, module, headline, takes in DEMOS:
        if args.only and name not in args.only:
            continue
        out = pathlib.Path(args.out) / name
        out.mkdir(parents=True, exist_ok=True)
        options = {"quick": ["--quick"], "out": ["--out", str(out)], "device": ["--device", args.device],
                   "checkpoint": ["--dcgan-checkpoint", str(pathlib.Path(args.out) / "dcgan_mnist" / "checkpoint.npz")]}
        demo_argv = ["--seed", str(args.seed)] + [word for option in sorted(takes) for word in options[option]]
        if name in ("dcgan_mnist", "cgan_mnist", "pix2pix_mnist") and not cache_path().exists():
            print(f"{name:18s} first trains the judge that scores its samples, once (about a minute; "
                  f"cached in {cache_path().parent}/)", flush=True)
        demo_start = time.perf_counter()
        try:
            results[name] = run_quietly(name, module, demo_argv, out / "log.txt")
        except KeyboardInterrupt as interrupt:
            stopped = f"tour: stopped in {name} ({out / 'log.txt'})"
            raise KeyboardInterrupt(f"{stopped}: {str(interrupt) or 'Ctrl-C'}") from None
        where = f"{out}/" if "out" in takes else f"printout in {out / 'log.txt'}"
        print(f"{name:18s} {headline(results[name])}  [{time.perf_counter() - demo_start:.0f} s, {where}]", flush=True)
    print(f"tour done in {time.perf_counter() - start:.0f} s on {args.device}; each demo without --quick "
          f"gives the full results (docs/results.md)")
    return results


if __name__ == "__main__":
    main()
