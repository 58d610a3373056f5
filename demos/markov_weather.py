"""The lecture's weather Markov chain: probability of a week, a sampled year, the table learnt back.

    python demos/markov_weather.py [--days 365] [--out out/markov_weather] [--seed 0] [--quick]

Prints p(Sun, Sun, Sun, Cloud, Cloud, Rain | first day Sun) = 0.8 * 0.8 * 0.15 * 0.5 * 0.3
= 0.0144, samples a year of weather, refits the transition table by counting transitions,
and prints both tables and the stationary distribution. Figures: the sampled weather as a
coloured strip, and the true and refit tables as heatmaps.
"""
import json

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, output_folder, positive_int
from minigen.models.markov import MarkovChain
from minigen.viz import plt

STATES = ["Sun", "Rain", "Cloud"]
COLORS = ["gold", "tab:blue", "silver"]
# transmat[i, j] = p(tomorrow = j | today = i): rows are today's weather (the lecture's A is its transpose)
TRANSMAT = np.array([[0.8, 0.05, 0.15],
                     [0.2, 0.6, 0.2],
                     [0.2, 0.3, 0.5]])
SLIDE_EXAMPLE = ["Sun", "Sun", "Sun", "Cloud", "Cloud", "Rain"]


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
    parser = demo_parser(__doc__, "markov_weather", "the same year (the demo is fast already)", device=False)
    parser.add_argument("--days", type=positive_int, default=365)
    args = parser.parse_args(argv)
    out = output_folder(parser, args)

    chain = MarkovChain(TRANSMAT, startprob=[1.0, 0.0, 0.0], states=STATES)  # the year starts sunny
    example = chain.prob(SLIDE_EXAMPLE, given_first=True)
    days = chain.sample(args.days, random_state=args.seed)
    refit = MarkovChain(states=STATES).fit([days])
    pi = chain.stationary_distribution()
    frequencies = np.bincount(days, minlength=len(STATES)) / len(days)

    print(f"p({', '.join(SLIDE_EXAMPLE)} | first day Sun) = 0.8 * 0.8 * 0.15 * 0.5 * 0.3 = {example:.4f}")
    print("true table:\n" + table(TRANSMAT))
    print(f"refit from {args.days} sampled days:\n" + table(refit.transmat_))
    print("stationary distribution: " + ", ".join(f"{s} {p:.3f}" for s, p in zip(STATES, pi)) +
          "; frequencies in the sample: " + ", ".join(f"{s} {p:.3f}" for s, p in zip(STATES, frequencies)))
    strip_figure(days, out / "sampled_weather.png")
    tables_figure({"true transmat": TRANSMAT, f"refit from {args.days} days": refit.transmat_},
                  out / "transition_tables.png")
    metrics = {"slide_example_probability": example, "days": args.days, "seed": args.seed,
               "true_transmat": TRANSMAT.tolist(), "refit_transmat": refit.transmat_.tolist(),
               "refit_max_abs_error": float(np.abs(refit.transmat_ - TRANSMAT).max()),
               "stationary_distribution": pi.tolist(), "sample_frequencies": frequencies.tolist()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
