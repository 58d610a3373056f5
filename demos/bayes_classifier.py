"""Generative classifiers with Gaussian class-conditionals, and logistic regression beside them (PRML 4.2-4.3).

    python demos/bayes_classifier.py [--device cpu|cuda] [--out out/bayes_classifier] [--seed 0] [--quick]

Figure 1 (PRML fig. 4.10): two classes sharing one covariance: the class-conditional
densities and the posterior p(C_1 | x), a logistic sigmoid of a linear function of x.
Figure 2 (fig. 4.11): three classes, each with its own covariance: quadratic boundaries.
Figure 3: logistic regression trained with minigen's autograd (minimizing -sum ln p(C_k(i) | x_i))
beside the generative shared-covariance solution: on Gaussian data both estimate the same line.
"""
import json
import time

import numpy as np

# common first: from then on Ctrl-C and a missing optional package end the demo with one line
from common import demo_parser, output_folder, positive_int
import minigen
from minigen import backend, optim
from minigen.models.gaussian import GaussianClassifier
from minigen.nn import functional as F
from minigen.viz import plt

TWO_CLASSES = dict(means=[[-1.0, -0.25], [0.75, 1.0]], covariances=[[[1.0, 0.5], [0.5, 1.0]]] * 2, priors=[0.4, 0.6])
THREE_CLASSES = dict(means=[[-1.5, -1.0], [1.5, -1.0], [0.0, 1.5]],
                     covariances=[[[0.4, 0.0], [0.0, 1.5]], [[1.5, 0.7], [0.7, 0.6]], [[0.3, 0.0], [0.0, 0.3]]],
                     priors=[0.35, 0.35, 0.3])
COLORS = ["tab:red", "tab:blue", "tab:green"]


def make_data(n, means, covariances, priors, rng):
    """n points: labels y ~ priors, x ~ N(means[y], covariances[y]). Returns X (n, 2), y (n,) on the host."""
    y = rng.choice(len(priors), size=n, p=priors)
    chol = np.linalg.cholesky(np.asarray(covariances))
    X = np.asarray(means)[y] + np.einsum("nij,nj->ni", chol[y], rng.standard_normal((n, 2)))
    return X, y


def train_logistic_regression(X, y, n_classes, steps=400, lr=0.1, device="cpu"):
    """Softmax regression p(C_k | x) = softmax(W x + b)_k by full-batch Adam on the mean cross-entropy
    -1/N sum_i ln p(C_{y_i} | x_i), in float64 with minigen's autograd. Returns W (K, D), b (K,) on the host
    and the loss of each step."""
    x = minigen.tensor(X, dtype=minigen.float64, device=device)
    t = minigen.tensor(np.asarray(y, dtype=np.int64), device=device)
    W = minigen.zeros(n_classes, X.shape[1], dtype=minigen.float64, device=device, requires_grad=True)
    b = minigen.zeros(n_classes, dtype=minigen.float64, device=device, requires_grad=True)
    opt = optim.Adam([W, b], lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(x @ W.T + b, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return W.numpy(), b.numpy(), losses


def grid(X, steps=200, margin=1.0):
    """A (steps, steps) mesh covering X, and its points (steps^2, 2)."""
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def class_densities(ax, model, X, y, xx, yy, points, device):
    """Contours of each p(x | C_k) with the data on top."""
    log_density = backend.to_host(model.log_joint(backend.to_device(points, device))) - \
        np.log(backend.to_host(model.priors_))
    for k in range(log_density.shape[1]):
        ax.scatter(*X[y == k][:300].T, s=3, color=COLORS[k], alpha=0.4)
        ax.contour(xx, yy, np.exp(log_density[:, k]).reshape(xx.shape), levels=5, colors=COLORS[k], linewidths=1.5)
    ax.set_title("class-conditional densities p(x | C_k)", fontsize=9)
    ax.set_aspect("equal")


def shared_figure(model, X, y, path, device):
    xx, yy, points = grid(X)
    posterior = backend.to_host(model.predict_proba(backend.to_device(points, device)))[:, 1].reshape(xx.shape)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    class_densities(axes[0], model, X, y, xx, yy, points, device)
    image = axes[1].pcolormesh(xx, yy, posterior, cmap="RdBu", vmin=0, vmax=1, shading="auto")
    axes[1].contour(xx, yy, posterior, levels=[0.5], colors="k")
    axes[1].set_title("p(C_1 | x) = sigma(w^T x + w0)\nshared covariance: linear boundary", fontsize=9)
    axes[1].set_aspect("equal")
    fig.colorbar(image, ax=axes[1])
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def quadratic_figure(model, X, y, path, device):
    xx, yy, points = grid(X)
    posterior = backend.to_host(model.predict_proba(backend.to_device(points, device)))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    class_densities(axes[0], model, X, y, xx, yy, points, device)
    rgb = posterior @ np.array([plt.matplotlib.colors.to_rgb(c) for c in COLORS])  # mix the colours by p(C_k|x)
    axes[1].imshow(rgb.reshape(xx.shape + (3,)), origin="lower", extent=(xx.min(), xx.max(), yy.min(), yy.max()))
    axes[1].contour(xx, yy, posterior.argmax(axis=1).reshape(xx.shape), levels=[0.5, 1.5], colors="k")
    axes[1].set_title("p(C_k | x) as a mix of the class colours\none covariance per class: quadratic boundaries",
                      fontsize=9)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def boundaries_figure(X, y, lines, path):
    """The data and each named line w^T x + w0 = 0 (lines = {name: (w, w0, style)})."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k in (0, 1):
        ax.scatter(*X[y == k][:1000].T, s=3, color=COLORS[k], alpha=0.3)
    x0 = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    for name, (w, w0, style) in lines.items():
        ax.plot(x0, -(w[0] * x0 + w0) / w[1], style, lw=2, label=name)  # w0 + w1 x0 + w2 x1 = 0
    ax.set(title="decision boundary p(C_1 | x) = 1/2", ylim=(X[:, 1].min(), X[:, 1].max()))
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def accuracy(model, X, y, device):
    return float((backend.to_host(model.predict(backend.to_device(X, device))) == y).mean())


def main(argv=None):
    parser = demo_parser(__doc__, "bayes_classifier", "2,000 points and 200 steps")
    parser.add_argument("--samples", type=positive_int, help="training points per data set (default 20,000; 2,000 "
                        "with --quick)")
    parser.add_argument("--steps", type=positive_int, help="Adam steps of the logistic regression (default 400; 200 "
                        "with --quick)")
    args = parser.parse_args(argv)
    out = output_folder(parser, args)
    device = backend.canonical_device(args.device)
    n = args.samples or (2000 if args.quick else 20000)  # an explicit value wins over --quick
    steps = args.steps or (200 if args.quick else 400)
    rng = np.random.default_rng(args.seed)
    minigen.manual_seed(args.seed)

    X2, y2 = make_data(n, **TWO_CLASSES, rng=rng)
    test_X2, test_y2 = make_data(n, **TWO_CLASSES, rng=rng)
    shared = GaussianClassifier("shared").fit(backend.to_device(X2, device), backend.to_device(y2, device))
    shared_figure(shared, X2, y2, out / "shared_covariance.png", device)

    X3, y3 = make_data(n, **THREE_CLASSES, rng=rng)
    test_X3, test_y3 = make_data(n, **THREE_CLASSES, rng=rng)
    full = GaussianClassifier("full").fit(backend.to_device(X3, device), backend.to_device(y3, device))
    linear3 = GaussianClassifier("shared").fit(backend.to_device(X3, device), backend.to_device(y3, device))
    quadratic_figure(full, X3, y3, out / "quadratic_boundaries.png", device)

    start = time.perf_counter()
    W, b, losses = train_logistic_regression(X2, y2, 2, steps=steps, device=device)
    seconds = time.perf_counter() - start
    w_log, w0_log = W[1] - W[0], float(b[1] - b[0])
    w_gen, w0_gen = shared.linear_params_binary()
    w_gen = backend.to_host(w_gen)
    theta_log, theta_gen = np.append(w_log, w0_log), np.append(w_gen, w0_gen)
    logistic_accuracy = float((((test_X2 @ w_log + w0_log) > 0) == test_y2).mean())
    boundaries_figure(X2, y2, {"generative (shared covariance)": (w_gen, w0_gen, "k-"),
                               "logistic regression (autograd)": (w_log, w0_log, "y--")},
                      out / "logistic_vs_generative.png")

    metrics = {
        "shared_test_accuracy": accuracy(shared, test_X2, test_y2, device),
        "logistic_test_accuracy": logistic_accuracy,
        "quadratic_test_accuracy_3_classes": accuracy(full, test_X3, test_y3, device),
        "linear_test_accuracy_3_classes": accuracy(linear3, test_X3, test_y3, device),
        "generative_w_w0": theta_gen.tolist(), "logistic_w_w0": theta_log.tolist(),
        "parameter_gap_max_abs": float(np.abs(theta_log - theta_gen).max()),
        "parameter_gap_relative": float(np.linalg.norm(theta_log - theta_gen) / np.linalg.norm(theta_gen)),
        "logistic_final_loss": losses[-1], "logistic_steps": steps, "logistic_seconds": round(seconds, 2),
        "training_points": n, "device": device, "seed": args.seed}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"bayes classifier: shared covariance {metrics['shared_test_accuracy']:.1%}, logistic regression "
          f"{logistic_accuracy:.1%} on {n} test points; (w, w0) generative {np.round(theta_gen, 3).tolist()} vs "
          f"logistic {np.round(theta_log, 3).tolist()} (relative gap {metrics['parameter_gap_relative']:.3f}); "
          f"3 classes: quadratic {metrics['quadratic_test_accuracy_3_classes']:.1%} vs linear "
          f"{metrics['linear_test_accuracy_3_classes']:.1%}; figures and metrics.json in {out}/")
    return metrics


if __name__ == "__main__":
    main()
