"""Checks of the Gaussian mixture's exercises: the E step and the M step of EM (PRML 9.23-9.27),
against sums written out by hand with loops, det and inv. Each takes the candidate and raises
CheckFailure.
"""
import math

import numpy as np

from minigen.exercises.checking import case, compare, fail
from minigen.models.mixture import e_step as reference_e_step
from minigen.models.mixture import precision_cholesky


def _rng():
    return np.random.default_rng(0)


def _mixture(rng, K=3, D=2, N=8, covariance_type="full"):
    """X (N, D), pi (K,), mu (K, D), Sigma (compact) and U (its precision's Cholesky factor)."""
    X = rng.standard_normal((N, D)) * 2
    pi, mu = rng.dirichlet(np.ones(K) * 3), rng.standard_normal((K, D)) * 2
    A = rng.standard_normal((K, D, D)) * 0.5
    Sigma = {"full": A @ A.transpose(0, 2, 1) + np.eye(D), "diag": rng.uniform(0.5, 2, (K, D))}[covariance_type]
    return X, pi, mu, Sigma, precision_cholesky(Sigma, covariance_type, 0)


def _full(Sigma, covariance_type):
    return Sigma if covariance_type == "full" else np.stack([np.diag(v) for v in Sigma])


def _joint_by_hand(X, pi, mu, Sigma):
    """pi_k N(x_n | mu_k, Sigma_k) (N, K) by loops, with det and inv."""
    joint = np.zeros((len(X), len(pi)))
    for n, x in enumerate(X):
        for k in range(len(pi)):
            d = x - mu[k]
            norm = math.sqrt((2 * math.pi) ** len(x) * np.linalg.det(Sigma[k]))
            joint[n, k] = pi[k] * math.exp(-0.5 * d @ np.linalg.inv(Sigma[k]) @ d) / norm
    return joint


# ------------------------------------------------------------------ the E step
def gmm_e_step_by_hand(candidate):
    """ln p(x_n) and ln gamma(z_nk) against the sums by hand (full and diagonal covariances)"""
    for covariance_type in ("full", "diag"):
        with case(f'covariance_type="{covariance_type}"'):
            X, pi, mu, Sigma, U = _mixture(_rng(), covariance_type=covariance_type)
            log_px, log_gamma = candidate(X, pi, mu, U, covariance_type)
            joint = _joint_by_hand(X, pi, mu, _full(Sigma, covariance_type))
            compare("ln p(x_n)", log_px, np.log(joint.sum(axis=1)),
                    hint="p(x_n) = sum_k pi_k N(x_n | mu_k, Sigma_k): did you add ln pi_k to log_gaussian?")
            compare("ln gamma(z_nk)", log_gamma, np.log(joint / joint.sum(axis=1, keepdims=True)),
                    hint="return ln gamma (log space), ln pi_k N(x_n | ...) - ln p(x_n): rows of exp(ln gamma) "
                         "sum to 1")


def gmm_e_step_far_away(candidate):
    """finite responsibilities summing to 1 for points where every density underflows to 0"""
    X, pi, mu, Sigma, U = _mixture(_rng())
    far = np.array([[300.0, -200.0], [1e3, 1e3], [-40.0, 50.0]])
    with np.errstate(all="ignore"):
        log_px, log_gamma = candidate(far, pi, mu, U, "full")
    expected_px, expected_gamma = reference_e_step(far, pi, mu, U, "full")
    if not (np.isfinite(np.asarray(log_px)).all() and np.isfinite(np.asarray(log_gamma)).all()):
        fail(f"far from every component you got ln p(x) = {np.asarray(log_px)} and ln gamma with nan or -inf; "
             "exp(ln pi_k N(...)) underflows to 0 there\n  hint: log-sum-exp: subtract the largest "
             "ln pi_k N(x_n | ...) of each row before exp, and add it back after the log")
    compare("ln p(x_n) far away", log_px, expected_px)
    compare("ln gamma(z_nk) far away", log_gamma, expected_gamma)


# ------------------------------------------------------------------ the M step
def _m_step_by_hand(X, gamma, reg_covar):
    """N_k, mu_k, Sigma_k (full) by loops over n, as in PRML 9.24-9.27."""
    N_k = gamma.sum(axis=0)
    mu = np.array([sum(gamma[n, k] * X[n] for n in range(len(X))) / N_k[k] for k in range(len(N_k))])
    Sigma = np.array([sum(gamma[n, k] * np.outer(X[n] - mu[k], X[n] - mu[k]) for n in range(len(X))) / N_k[k]
                      + reg_covar * np.eye(X.shape[1]) for k in range(len(N_k))])
    return N_k, mu, Sigma


def gmm_m_step_full(candidate):
    """pi_k = N_k / N, mu_k and full Sigma_k (plus reg_covar) against the weighted sums by hand"""
    rng = _rng()
    X, gamma = rng.standard_normal((9, 3)), rng.dirichlet(np.ones(2), size=9)
    pi, mu, Sigma = candidate(X, gamma, "full", 0.01)
    N_k, expected_mu, expected_Sigma = _m_step_by_hand(X, gamma, 0.01)
    compare("pi", pi, N_k / len(X), hint="pi_k = N_k / N with N_k = sum_n gamma(z_nk)")
    compare("mu", mu, expected_mu, hint="mu_k = sum_n gamma(z_nk) x_n / N_k: divide by N_k, not by N")
    compare("Sigma", Sigma, expected_Sigma,
            hint="Sigma_k = sum_n gamma(z_nk) (x_n - mu_k)(x_n - mu_k)^T / N_k around the NEW mu_k, weighted "
                 "by gamma, plus reg_covar on the diagonal")


def gmm_m_step_other_types(candidate):
    """tied (D, D), diag (K, D) and spherical (K,) covariances from the full ones"""
    rng = _rng()
    X, gamma = rng.standard_normal((9, 3)), rng.dirichlet(np.ones(2), size=9)
    N_k, _, full = _m_step_by_hand(X, gamma, 0.0)
    diagonal = np.diagonal(full, axis1=1, axis2=2)
    expected = {"tied": (N_k[:, None, None] * full).sum(axis=0) / len(X) + 0.01 * np.eye(3),
                "diag": diagonal + 0.01, "spherical": diagonal.mean(axis=1) + 0.01}
    hints = {"tied": "one Sigma = sum_k N_k Sigma_k / N for all components",
             "diag": "the diagonal of each Sigma_k, shape (K, D), plus reg_covar",
             "spherical": "one variance per component: the mean of the diagonal of Sigma_k, shape (K,)"}
    for covariance_type, value in expected.items():
        with case(f'covariance_type="{covariance_type}"'):
            compare("Sigma", candidate(X, gamma, covariance_type, 0.01)[2], value, hint=hints[covariance_type])


def gmm_m_step_em_increases_likelihood(candidate):
    """ten EM iterations (minigen's E step, your M step) never lower ln p(X)"""
    rng = _rng()
    X = np.r_[rng.standard_normal((30, 2)), rng.standard_normal((20, 2)) * 0.5 + 3]
    gamma = rng.dirichlet(np.ones(3), size=len(X))
    previous = -np.inf
    for iteration in range(10):
        pi, mu, Sigma = candidate(X, gamma, "full", 1e-6)
        log_px, log_gamma = reference_e_step(X, np.asarray(pi), np.asarray(mu),
                                             precision_cholesky(np.asarray(Sigma), "full", 1e-6), "full")
        total = float(np.sum(log_px))
        if total < previous - 1e-9:
            fail(f"iteration {iteration}: ln p(X) fell from {previous:.6g} to {total:.6g}; EM never lowers it")
        previous, gamma = total, np.exp(log_gamma)
