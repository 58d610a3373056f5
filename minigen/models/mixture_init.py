"""GaussianMixture's engineering: checking its arguments and input, and where EM starts.

EM starts from responsibilities (k-means labels as one-hot rows, or random ones) turned into
parameters by one M step; weights_init, means_init and precisions_init then replace what they give.
"""
import numpy as np

from minigen import backend
from minigen.checks import check_int, check_nonnegative
from minigen.models import kmeans
from minigen.models.gaussian import check_features

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_PARAMS = ("kmeans", "k-means++", "random")


# ---------------------------------------------------------------- the responsibilities EM starts from
def initial_responsibilities(X, K, init_params, rng):
    """gamma (N, K) to start from: one-hot rows of k-means labels, or random rows summing to 1.

    "kmeans": k-means++ seeds, then Lloyd's iterations; "k-means++": each point to its nearest
    k-means++ seed; "random": uniform numbers, each row normalized (drawn on the host).
    """
    xp = backend.array_module(X)
    if init_params == "random":
        gamma = rng.uniform(size=(len(X), K))
        return xp.asarray(gamma / gamma.sum(axis=1, keepdims=True))
    seeds = kmeans.kmeans_plusplus(X, K, rng)
    labels = kmeans.kmeans(X, seeds) if init_params == "kmeans" else kmeans.nearest_centre(X, seeds)
    return (labels[:, None] == xp.arange(K)[None, :]).astype(X.dtype)


def given_parameters(model, X, pi, mu, U):
    """(pi, mu, U) with model.weights_init, means_init and precisions_init (when given) in their place."""
    K, D, kind = model.n_components, X.shape[1], model.covariance_type
    xp = backend.array_module(X)
    if model.weights_init is not None:
        pi = xp.asarray(_check_weights(model.weights_init, K))
    if model.means_init is not None:
        mu = xp.asarray(_check_array("means_init", model.means_init, (K, D)))
    if model.precisions_init is not None:
        shape = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[kind]
        P = _check_array("precisions_init", model.precisions_init, shape)
        if kind in ("full", "tied"):
            if not np.allclose(P, np.swapaxes(P, -1, -2)) or (np.linalg.eigvalsh(P) <= 0).any():
                raise ValueError("precisions_init must hold symmetric positive definite matrices")
            U = xp.asarray(np.linalg.cholesky(P))   # P = U U^T with U lower triangular
        else:
            if (P <= 0).any():
                raise ValueError(f"precisions_init must be positive, got {P.min():.3g}")
            U = xp.asarray(np.sqrt(P))
    return pi, mu, U


def _check_array(name, value, shape):
    value = np.asarray(backend.to_host(value) if backend.is_array(value) else value, dtype=np.float64)
    if value.shape != shape or not np.isfinite(value).all():
        raise ValueError(f"{name} must be finite with shape {shape}, got shape {value.shape}")
    return value


def _check_weights(value, K):
    pi = _check_array("weights_init", value, (K,))
    if (pi < 0).any() or abs(pi.sum() - 1) > 1e-6:
        raise ValueError(f"weights_init must be {K} non-negative numbers summing to 1, got sum {pi.sum():.10g}")
    return pi


# ---------------------------------------------------------------- checks at the door
def check_arguments(model):
    """Raise ValueError (TypeError for a non-number) for a constructor argument out of its range."""
    where = "GaussianMixture"
    check_int(where, "n_components", model.n_components)
    check_int(where, "max_iter", model.max_iter)
    check_int(where, "n_init", model.n_init)
    check_nonnegative(where, "tol", model.tol)
    check_nonnegative(where, "reg_covar", model.reg_covar)
    if model.covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"{where}: covariance_type must be one of {COVARIANCE_TYPES}, got {model.covariance_type!r}")
    if model.init_params not in INIT_PARAMS:
        raise ValueError(f"{where}: init_params must be one of {INIT_PARAMS}, got {model.init_params!r}")


def check_X(model, X, fitting):
    """X as a float64 (N, D) array on its device (gaussian.check_features); ValueError also for fewer points
    than components when fitting."""
    X = check_features(X, None if fitting else model.means_.shape[1], "the mixture")
    if fitting and len(X) < model.n_components:
        raise ValueError(f"fewer points than components: X has {len(X)} rows, n_components={model.n_components}; "
                         "each component needs at least one point")
    return X
