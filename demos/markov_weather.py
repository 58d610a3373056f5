"""The lecture's weather Markov chain: probability of a week, a sampled year, the table learnt back,
and next-day prediction with the i.i.d. frequencies against chains of order 1 and 2.

    python demos/markov_weather.py [--days 365] [--out out/markov_weather] [--seed 0] [--quick]

Prints p(Sun, Sun, Sun, Cloud, Cloud, Rain | first day Sun) = 0.8 * 0.8 * 0.15 * 0.5 * 0.3
= 0.0144, samples a year of weather, refits the transition table by counting transitions,
and prints both tables and the stationary distribution. Then it predicts each next state
from the ones before, on three sequences: weather sampled from the chain (learnt from the
year, tested on ten more), Google's daily moves 2004-2008 (matplotlib's sample data
goog.npz: up, down or within 1%; learnt on the first two thirds, tested on the rest), and
the pen directions of handwritten '2's (16 angles, traced from the embedded MNIST digits;
--quick: 45 of them). Figures: the sampled weather as a coloured strip, the true and refit
tables as heatmaps, and the accuracies of the predictors as bars.
"""
import json

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, output_folder, positive_int
from minigen.data.pen import pen_trajectories
from minigen.models.markov import MarkovChain
from minigen.viz import plt

STATES = ["Sun", "Rain", "Cloud"]
COLORS = ["gold", "tab:blue", "silver"]
# transmat[i, j] = p(tomorrow = j | today = i): rows are today's weather (the lecture's A is its transpose)
TRANSMAT = np.array([[0.8, 0.05, 0.15],
                     [0.2, 0.6, 0.2],
                     [0.2, 0.3, 0.5]])
SLIDE_EXAMPLE = ["Sun", "Sun", "Sun", "Cloud", "Cloud", "Rain"]
MOVES = ["Up", "Down", "Flat"]  # a day's close against the day before's: up or down by more than 1%, or within
PEN_ANGLES = 16


# ---------------------------------------------------------------- next-state prediction
def next_state_probabilities(transmat, sequences, order, first=2):
    """p(z_n | z_{n-k}, ..., z_{n-1}) = transmat[context] (steps, K) for every step n > ``first`` of the sequences."""
    contexts = np.concatenate([sliding_window_view(z, order)[first - order:-1] for z in sequences])
    return transmat[tuple(contexts.T)]


def next_state_scores(train, test, K, true_chain=None, pseudocount=1):
    """Accuracy of argmax_j p(z_n = j | the past) and mean ln p(z_n | the past) on the test sequences.

    The i.i.d. predictor has only the relative frequencies p(z_n = j) of the training states; the
    chains of order k use p(z_n | z_{n-k}, ..., z_{n-1}), counted on the training sequences. All are
    scored on the same steps (from the third state of each sequence); counts get ``pseudocount``.
    """
    test = [z for z in test if len(z) > 2]
    target = np.concatenate([z[2:] for z in test])
    counts = np.bincount(np.concatenate(train), minlength=K) + pseudocount
    probabilities = {"i.i.d. frequencies": np.tile(counts / counts.sum(), (len(target), 1))}
    for k in (1, 2):
        chain = MarkovChain(order=k, states=list(range(K))).fit(train, pseudocount=pseudocount)
        probabilities[f"order {k}"] = next_state_probabilities(chain.transmat_, test, k)
    if true_chain is not None:
        probabilities["the true chain"] = next_state_probabilities(true_chain.transmat_, test, 1)
    return {name: {"accuracy": float(np.mean(p.argmax(axis=1) == target)),
                   "mean_log_prob": float(np.log(p[np.arange(len(target)), target]).mean()), "steps": len(target)}
            for name, p in probabilities.items()}


def daily_moves(threshold=0.01):
    """Google's 1,046 daily moves (2004-08-20 to 2008-10-14) as indices into MOVES."""
    path = plt.matplotlib.cbook.get_sample_data("goog.npz", asfileobj=False)  # ships with matplotlib
    close = np.load(path)["price_data"]["adj_close"]
    change = np.diff(np.log(close))
    return np.where(change > threshold, 0, np.where(change < -threshold, 1, 2))


def next_state_comparison(chain, year, seed, quick):
    """{sequence: next_state_scores} for the sampled weather, Google's moves and the pen directions of '2's."""
    moves = daily_moves()
    split = 2 * len(moves) // 3
    pens = [symbols for symbols, _ in pen_trajectories(2, n=45 if quick else None, n_angles=PEN_ANGLES)]
    train_pens = 2 * len(pens) // 3
    return {"weather (sampled)": next_state_scores([year], [chain.sample(3650, random_state=seed + 1)],
                                                   len(STATES), true_chain=chain),
            "Google daily moves": next_state_scores([moves[:split]], [moves[split:]], len(MOVES)),
            "pen directions of '2's": next_state_scores(pens[:train_pens], pens[train_pens:], PEN_ANGLES)}


def comparison_table(comparison):
    """Accuracy (mean ln p) per sequence and predictor, as aligned text."""
    names = ["i.i.d. frequencies", "order 1", "order 2", "the true chain"]
    lines = [f"{'next state':>24} " + "".join(f"{name:>21}" for name in names)]
    for sequence, scores in comparison.items():
        cells = [f"{scores[n]['accuracy']:.3f} ({scores[n]['mean_log_prob']:.3f})" if n in scores else "-"
                 for n in names]
        lines.append(f"{sequence:>24} " + "".join(f"{cell:>21}" for cell in cells))
    return "\n".join(lines)


def accuracy_figure(comparison, path):
    """Grouped bars: the accuracy of each predictor on each sequence."""
    names = ["i.i.d. frequencies", "order 1", "order 2"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, name in enumerate(names):
        ax.bar(np.arange(len(comparison)) + 0.27 * (i - 1), [s[name]["accuracy"] for s in comparison.values()],
               width=0.27, label=name)
    ax.set(xticks=range(len(comparison)), xticklabels=list(comparison), ylabel="next-state accuracy", ylim=(0, 1),
           title="predicting the next state: relative frequencies against Markov chains")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def table(matrix):
    """transmat as aligned text, rows 'today', columns 'tomorrow'."""
    lines = ["today \\ tomorrow " + "".join(f"{name:>8}" for name in STATES)]
    lines += [f"{name:>16} " + "".join(f"{p:8.3f}" for p in row) for name, row in zip(STATES, matrix)]
    return "\n".join(lines)


def strip_figure(days, path, per_row=73):
    """One coloured square per day, per_row days a row."""
    rows = -(-len(days) // per_row)
    grid = np.full(rows * per_row, np.nan)
    grid[:len(days)] = days
    cmap = plt.matplotlib.colors.ListedColormap(COLORS)
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.3 * rows))
    ax.imshow(grid.reshape(rows, per_row), cmap=cmap, vmin=-0.5, vmax=len(STATES) - 0.5)
    ax.set(title=f"{len(days)} days sampled from the chain", xlabel="day of the row", yticks=[])
    handles = [plt.matplotlib.patches.Patch(color=c, label=s) for s, c in zip(STATES, COLORS)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def tables_figure(matrices, path):
    """Heatmaps of named (K, K) transition tables with their entries written in."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.6 * len(matrices), 3.6))
    for ax, (title, matrix) in zip(axes, matrices.items()):
        ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
        for (i, j), p in np.ndenumerate(matrix):
            ax.text(j, i, f"{p:.2f}", ha="center", va="center", color="white" if p > 0.5 else "black")
        ax.set(title=title, xticks=range(3), yticks=range(3), xticklabels=STATES, yticklabels=STATES,
               xlabel="tomorrow", ylabel="today")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = demo_parser(__doc__, "markov_weather", "the same year; 45 pen strokes instead of all", device=False)
    parser.add_argument("--days", type=positive_int, default=365)
    args = parser.parse_args(argv)
    out = output_folder(parser, args)

    chain = MarkovChain(TRANSMAT, startprob=[1.0, 0.0, 0.0], states=STATES)  # the year starts sunny
    example = chain.prob(SLIDE_EXAMPLE, given_first=True)
    days = chain.sample(args.days, random_state=args.seed)
    refit = MarkovChain(states=STATES).fit([days])
    pi = chain.stationary_distribution()
    frequencies = np.bincount(days, minlength=len(STATES)) / len(days)
    comparison = next_state_comparison(chain, days, args.seed, args.quick)

    print(f"p({', '.join(SLIDE_EXAMPLE)} | first day Sun) = 0.8 * 0.8 * 0.15 * 0.5 * 0.3 = {example:.4f}")
    print("true table:\n" + table(TRANSMAT))
    print(f"refit from {args.days} sampled days:\n" + table(refit.transmat_))
    print("stationary distribution: " + ", ".join(f"{s} {p:.3f}" for s, p in zip(STATES, pi)) +
          "; frequencies in the sample: " + ", ".join(f"{s} {p:.3f}" for s, p in zip(STATES, frequencies)))
    print("next-state accuracy (mean ln p per step) on held-out steps:\n" + comparison_table(comparison))
    strip_figure(days, out / "sampled_weather.png")
    tables_figure({"true transmat": TRANSMAT, f"refit from {args.days} days": refit.transmat_},
                  out / "transition_tables.png")
    accuracy_figure(comparison, out / "next_state_accuracy.png")
    metrics = {"slide_example_probability": example, "days": args.days, "seed": args.seed,
               "true_transmat": TRANSMAT.tolist(), "refit_transmat": refit.transmat_.tolist(),
               "refit_max_abs_error": float(np.abs(refit.transmat_ - TRANSMAT).max()),
               "stationary_distribution": pi.tolist(), "sample_frequencies": frequencies.tolist(),
               "next_state": comparison}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
