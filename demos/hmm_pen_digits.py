"""A left-to-right HMM of handwritten '2's (Bishop PRML 13.2, fig. 13.11): pen strokes in, new '2's out.

    python demos/hmm_pen_digits.py [--device cpu|cuda] [--iterations 25] [--digits 45]
                                   [--out out/hmm_pen_digits] [--seed 0] [--quick]

Each '2' of the embedded MNIST subset that thins to one stroke becomes a walk of segments
1.5 pixels long, each pointing in one of 16 directions (minigen.data.pen). The HMM has
K = 16 states in a row: state k may only stay or move on to k + 1, and the walk starts in
state 0, so EM learns which directions each part of a '2' is written in. Figures:
real and generated '2's, a Viterbi segmentation into states, the EM log-likelihood, and
the learnt parameters. A '2' written backwards should be far less likely than forwards.
"""
import json

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, output_folder, positive_int
from minigen.data.pen import directions, pen_trajectories, unit_steps
from minigen.models.hmm import CategoricalHMM
from minigen.viz import curves, plt

STATES, ANGLES, STEP = 16, 16, 1.5  # K hidden states, 16 directions, segment length in pixels
FLOOR = 1e-3  # emission probability mixed in for every direction after EM (see below)


def left_to_right(n_states, stay=0.5):
    """transmat (K, K) of a left-to-right chain: stay with ``stay``, else advance by one; the last state stays."""
    transmat = np.eye(n_states) * stay + np.eye(n_states, k=1) * (1 - stay)
    transmat[-1, -1] = 1.0
    return transmat


def as_X(sequences):
    """hmmlearn's layout: symbols of all sequences concatenated (N, 1) and their lengths."""
    return np.concatenate(sequences)[:, None], [len(s) for s in sequences]


def backwards(points):
    """The symbols of the same stroke written from its other end."""
    return directions(points[::-1], ANGLES)


def draw_strokes(ax, points, colors=None):
    """A pen path (M + 1, 2) on an axis with y pointing down, one colour per segment if given."""
    if colors is None:
        ax.plot(points[:, 0], points[:, 1], "k-", lw=2)
    else:
        for (x0, y0), (x1, y1), color in zip(points[:-1], points[1:], colors):
            ax.plot([x0, x1], [y0, y1], "-", color=color, lw=3, solid_capstyle="round")
    ax.plot(*points[0], "o", color="tab:green", ms=4)  # where the pen starts
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.axis("off")


def digits_figure(real, generated, path):
    columns = len(real)
    fig, axes = plt.subplots(2, columns, figsize=(1.3 * columns, 3))
    for ax, points in zip(axes[0], real):
        draw_strokes(ax, points)
    for ax, points in zip(axes[1], generated):
        draw_strokes(ax, points)
    axes[0, 0].set_title("real '2's (traced)", loc="left", fontsize=9)
    axes[1, 0].set_title("sampled from the HMM", loc="left", fontsize=9)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def viterbi_figure(points, states, path):
    cmap, norm = plt.get_cmap("tab20", STATES), plt.Normalize(-0.5, STATES - 0.5)  # one colour per state
    fig, ax = plt.subplots(figsize=(4, 3.5))
    draw_strokes(ax, points, cmap(norm(states)))
    fig.colorbar(plt.cm.ScalarMappable(norm, cmap), ax=ax, label="Viterbi state", ticks=range(STATES))
    ax.set_title("a real '2' cut into the HMM's states", fontsize=9)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def parameters_figure(model, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.imshow(model.transmat_, cmap="Blues", vmin=0, vmax=1)
    left.set(title="transmat_[i, j] = p(j | i)", xlabel="next state j", ylabel="state i",
             xticks=range(0, STATES, 3), yticks=range(0, STATES, 3))
    right.imshow(model.emissionprob_, cmap="Blues", vmin=0)
    right.set(title="emissionprob_: direction per state", xlabel="direction (0 right, 4 up, 8 left, 12 down)",
              ylabel="state", xticks=range(0, ANGLES, 4), yticks=range(0, STATES, 3))
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = demo_parser(__doc__, "hmm_pen_digits", "10 EM iterations on 20 '2's")
    parser.add_argument("--iterations", type=positive_int, help="EM iterations (default 25; 10 with --quick)")
    parser.add_argument("--digits", type=positive_int, help="training '2's (default 45; 20 with --quick)")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    n_digits = args.digits or (20 if args.quick else 45)  # an explicit value wins over --quick
    n_iter = args.iterations or (10 if args.quick else 25)

    train = pen_trajectories(digit=2, n=n_digits, step=STEP, n_angles=ANGLES)
    X, lengths = as_X([symbols for symbols, _ in train])
    model = CategoricalHMM(STATES, n_features=ANGLES, n_iter=n_iter, tol=0.0, init_params="e",
                           random_state=args.seed, device=args.device)
    model.startprob_ = np.eye(STATES)[0]  # every '2' starts in state 0
    model.transmat_ = left_to_right(STATES)  # its zeros stay zeros through EM
    model.fit(X, lengths)
    history = [float(v) for v in model.monitor_.history]

    # EM gives probability 0 to a direction a state never emitted in training; one odd segment
    # would then make a new '2' impossible (ln p = -inf). Mixing in FLOOR of every direction
    # keeps such '2's merely unlikely.
    model.emissionprob_ = (1 - FLOOR) * model.emissionprob_ + FLOOR / ANGLES
    log_likelihood = model.score(X, lengths)  # of the final, floored model

    mean_length = int(round(np.mean(lengths)))
    generated = [unit_steps(model.sample(mean_length, random_state=args.seed + k)[0][:, 0], ANGLES, STEP)
                 for k in range(10)]
    digits_figure([points for _, points in train[:10]], generated, out / "digits.png")
    symbols, points = train[0]
    _, states = model.decode(symbols[:, None])
    viterbi_figure(points, states, out / "viterbi.png")
    curves({"ln p(X) of the training '2's": history}, out / "em.png", xlabel="EM iteration",
           ylabel="log-likelihood", title="Baum-Welch")
    parameters_figure(model, out / "parameters.png")

    forwards_one, backwards_one = model.score(symbols[:, None]), model.score(backwards(points)[:, None])
    test = pen_trajectories(digit=2, n=None, step=STEP, n_angles=ANGLES, split="test")
    forwards_test = [model.score(s[:, None]) for s, _ in test]
    backwards_test = [model.score(backwards(p)[:, None]) for _, p in test]
    metrics = {
        "log_likelihood": log_likelihood, "log_likelihood_per_digit": log_likelihood / len(train),
        "em_history": history, "em_iterations": len(history), "train_digits": len(train),
        "mean_length": float(np.mean(lengths)), "floor": FLOOR,
        "first_digit": {"forwards": forwards_one, "backwards": backwards_one},
        "test_digits": len(test), "test_forwards_mean": float(np.mean(forwards_test)),
        "test_backwards_mean": float(np.mean(backwards_test)),
        "test_forwards_wins": int(np.sum(np.array(forwards_test) > np.array(backwards_test))),
        "states_of_first_digit": states.tolist(), "device": args.device, "seed": args.seed,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"hmm pen digits: {len(train)} '2's ({np.mean(lengths):.1f} segments on average), {len(history)} EM "
          f"iterations, ln p = {log_likelihood:.1f} ({log_likelihood / len(train):.1f} per '2')\n"
          f"  first '2': ln p forwards {forwards_one:.1f}, backwards {backwards_one:.1f}\n"
          f"  {len(test)} held-out '2's: mean ln p forwards {metrics['test_forwards_mean']:.1f}, "
          f"backwards {metrics['test_backwards_mean']:.1f} (forwards higher for "
          f"{metrics['test_forwards_wins']}/{len(test)}); figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
