"""Gaussian mixtures fitted by EM (Bishop PRML 9.2), with scikit-learn's GaussianMixture interface.

    gmm = GaussianMixture(n_components=10, covariance_type="full", random_state=0).fit(X)
    gmm.predict_proba(X)        # the responsibilities gamma(z_nk), (N, K)
    X_new, z = gmm.sample(100)  # z ~ pi, then x ~ N(mu_z, Sigma_z)

The model is p(x) = sum_k pi_k N(x | mu_k, Sigma_k) (PRML 9.7). EM alternates

    E step  gamma(z_nk) = pi_k N(x_n | mu_k, Sigma_k) / sum_j pi_j N(x_n | mu_j, Sigma_j)   (9.23)
    M step  N_k = sum_n gamma(z_nk)                                             (9.27)
            mu_k = 1/N_k sum_n gamma(z_nk) x_n                                  (9.24)
            Sigma_k = 1/N_k sum_n gamma(z_nk) (x_n - mu_k)(x_n - mu_k)^T        (9.25)
            pi_k = N_k / N                                                      (9.26)

and never lowers ln p(X) = sum_n ln sum_k pi_k N(x_n | mu_k, Sigma_k) (9.28).

The arguments' names and shapes follow NOTATION, just below (the mixture exercises show it too).
Everything runs in float64 on the device of X (NumPy or CuPy), batched over the K components,
in log space (responsibilities by log-sum-exp); fitted arrays live on that device.
"""
import math

import numpy as np

from minigen import backend
from minigen.checks import check_int
from minigen.models.gaussian import logsumexp
from minigen.models.hmm import ConvergenceMonitor
from minigen.models.mixture_init import check_arguments, check_X, given_parameters, initial_responsibilities

NOTATION = """Notation (the lecture's; N points, D features, K components)::

    X      (N, D)     the points x_n
    pi     (K,)       the weights pi_k = p(z_k = 1)
    mu     (K, D)     the means mu_k
    gamma  (N, K)     the responsibilities gamma(z_nk) = p(z_k = 1 | x_n); rows sum to 1
    covariance_type   scikit-learn's: "full" (a Sigma_k each), "tied" (one Sigma for all),
                      "diag" (diagonal Sigma_k), "spherical" (sigma_k^2 I)
    Sigma             the covariances in scikit-learn's compact shapes, one per type:
                      full (K, D, D), tied (D, D), diag (K, D) (the diagonals), spherical (K,)
    U                 the precisions' Cholesky factors, Sigma_k^-1 = U_k U_k^T, in the same
                      shapes (scikit-learn's precisions_cholesky_; diag: 1 / sqrt(Sigma))
"""

EPS = np.finfo(np.float64).eps
LOG_TINY = math.log(np.finfo(np.float64).tiny)  # -708.4: below it, exp gives subnormal numbers


# ---------------------------------------------------------------- the lecture: density, E step, M step
def log_gaussian(X, mu, U, covariance_type):
    """ln N(x_n | mu_k, Sigma_k) for X (N, D), mu (K, D), U the precisions' Cholesky factors: (N, K).

    With y_nk = U_k^T (x_n - mu_k):  ln N = -D/2 ln 2 pi + ln |U_k| - 1/2 y_nk^T y_nk,
    since (x - mu)^T Sigma^-1 (x - mu) = |U^T (x - mu)|^2 and -1/2 ln |Sigma| = ln |U|.
    """
    xp = backend.array_module(X)
    (N, D), K = X.shape, len(mu)
    if covariance_type == "tied":
        y = (X @ U)[:, None, :] - (mu @ U)[None, :, :]                    # y_nk = U^T (x_n - mu_k), (N, K, D)
        maha = xp.einsum("nkd,nkd->nk", y, y)                             # |y_nk|^2
        log_det = xp.log(xp.diagonal(U)).sum()                            # ln |U|
    elif covariance_type == "full":
        XU = X @ U.transpose(1, 0, 2).reshape(D, K * D)                   # all x_n^T U_k in one product
        y = XU.reshape(N, K, D) - xp.einsum("kd,kde->ke", mu, U)          # y_nk = U_k^T (x_n - mu_k)
        maha = xp.einsum("nkd,nkd->nk", y, y)                             # |y_nk|^2
        log_det = xp.log(xp.diagonal(U, axis1=1, axis2=2)).sum(axis=1)    # ln |U_k|
    elif covariance_type == "diag":
        P = U ** 2                                                        # the diagonal precisions (K, D)
        maha = (X * X) @ P.T - 2 * X @ (mu * P).T + (mu * mu * P).sum(axis=1)   # sum_d P_kd (x_nd - mu_kd)^2
        log_det = 0.5 * xp.log(P).sum(axis=1)
    else:
        p = U ** 2                                                        # 1 / sigma_k^2, (K,)
        maha = ((X * X).sum(axis=1)[:, None] - 2 * X @ mu.T + (mu * mu).sum(axis=1)) * p  # p_k |x_n - mu_k|^2
        log_det = 0.5 * D * xp.log(p)
    return -0.5 * (D * math.log(2 * math.pi) + maha) + log_det


def e_step(X, pi, mu, U, covariance_type):
    """The E step: ln p(x_n) (N,) and the log responsibilities ln gamma(z_nk) (N, K)."""
    xp = backend.array_module(X)
    log_joint = log_gaussian(X, mu, U, covariance_type) + xp.log(pi)   # ln pi_k N(x_n | mu_k, Sigma_k)
    log_px = logsumexp(log_joint, axis=1)                              # ln p(x_n) = ln sum_k pi_k N(...)  (9.28)
    return log_px, log_joint - log_px[:, None]                         # ln gamma(z_nk)  (9.23)


def m_step(X, gamma, covariance_type, reg_covar):
    """The M step from the responsibilities gamma (N, K): pi (K,), mu (K, D), Sigma (compact shape).

    reg_covar is added to every variance (the diagonal of each Sigma_k).
    """
    N_k = gamma.sum(axis=0) + 10 * EPS           # (9.27); + 10 eps (as scikit-learn) for an empty component
    mu = gamma.T @ X / N_k[:, None]              # (9.24)
    Sigma = COVARIANCES[covariance_type](X, gamma, N_k, mu) + reg_covar * _identity(X, covariance_type)  # (9.25)
    pi = N_k / len(X)                            # (9.26)
    return pi, mu, Sigma


def _full(X, gamma, N_k, mu):
    """Sigma_k = sum_n gamma_nk (x_n - mu_k)(x_n - mu_k)^T / N_k = B_k^T B_k / N_k, (K, D, D)  (9.25),

    with the rows of B_k = sqrt(gamma_nk) (x_n - mu_k): a product of a matrix with its own
    transpose, exactly symmetric (and NumPy hands it to BLAS's faster syrk).
    """
    xp = backend.array_module(X)
    B = X[None, :, :] - mu[:, None, :]                                      # x_n - mu_k, (K, N, D)
    B *= xp.sqrt(gamma.T)[:, :, None]
    return B.transpose(0, 2, 1) @ B / N_k[:, None, None]


def _tied(X, gamma, N_k, mu):
    """Sigma = sum_k N_k Sigma_k / N = (X^T X - sum_k N_k mu_k mu_k^T) / N, (D, D)."""
    return (X.T @ X - (N_k[:, None] * mu).T @ mu) / N_k.sum()


def _diag(X, gamma, N_k, mu):
    """The diagonal of (9.25): sum_n gamma_nk x_n^2 / N_k - mu_k^2, (K, D)."""
    return gamma.T @ (X * X) / N_k[:, None] - mu * mu


def _spherical(X, gamma, N_k, mu):
    """sigma_k^2 = the mean over d of the diagonal of (9.25), (K,)."""
    return _diag(X, gamma, N_k, mu).mean(axis=1)


COVARIANCES = {"full": _full, "tied": _tied, "diag": _diag, "spherical": _spherical}


def _identity(X, covariance_type):
    """What reg_covar multiplies: I for full and tied, ones for diag and spherical."""
    xp = backend.array_module(X)
    return xp.eye(X.shape[1]) if covariance_type in ("full", "tied") else 1.0


def precision_cholesky(Sigma, covariance_type, reg_covar):
    """U with Sigma^-1 = U U^T, in Sigma's compact shape: U = L^-T for Sigma = L L^T, 1/sqrt for diagonals.

    Raises ValueError naming the component whose covariance is not positive definite (it collapsed
    onto a point or a subspace), with reg_covar as the remedy.
    """
    xp = backend.array_module(Sigma)
    if covariance_type in ("diag", "spherical"):
        bad = Sigma <= 0 if covariance_type == "spherical" else (Sigma <= 0).any(axis=1)
        if bool(bad.any()):
            _collapsed(Sigma, covariance_type, reg_covar)
        return 1 / xp.sqrt(Sigma)
    try:
        L = xp.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        _collapsed(Sigma, covariance_type, reg_covar)
    diagonal = xp.diagonal(L, axis1=-2, axis2=-1)
    if not bool(xp.isfinite(L).all() & (diagonal > 0).all()):   # CuPy gives nan or a partial factor, never raises
        _collapsed(Sigma, covariance_type, reg_covar)
    return xp.swapaxes(xp.linalg.inv(L), -1, -2)


def _collapsed(Sigma, covariance_type, reg_covar):
    Sigma = backend.to_host(Sigma)
    if covariance_type in ("full", "tied"):
        smallest = np.linalg.eigvalsh(Sigma.reshape((-1,) + Sigma.shape[-2:])).min(axis=-1)
    else:
        smallest = Sigma.reshape(len(Sigma), -1).min(axis=1)
    k = int(np.argmin(smallest))
    which = "the tied covariance" if covariance_type == "tied" else f"component {k}"
    raise ValueError(f"{which} collapsed: its covariance is not positive definite (smallest variance "
                     f"{smallest[k]:.3g}): it sits on a single point or a subspace of the data. Raise reg_covar "
                     f"(now {reg_covar}), which is added to every variance, or use fewer components")


def responsibilities(log_gamma):
    """gamma = exp(ln gamma), with the values below the smallest normal float64 (ln gamma < -708) set to 0.

    Subnormal numbers are exact enough but make the M step's matrix products up to 100 times slower.
    """
    xp = backend.array_module(log_gamma)
    return xp.where(log_gamma > LOG_TINY, xp.exp(log_gamma), 0.0)


def precisions(U, covariance_type):
    """Sigma^-1 = U U^T (full, tied), U^2 (diag, spherical), in the compact shape."""
    return U @ backend.array_module(U).swapaxes(U, -1, -2) if covariance_type in ("full", "tied") else U ** 2


# ---------------------------------------------------------------- the estimator
@backend.on_data_device_methods
class GaussianMixture:
    """A mixture of K Gaussians fitted by EM, with scikit-learn's names.

    init_params: "kmeans" (k-means++ seeds, then Lloyd's iterations), "k-means++" (the seeds
        alone, each point given to its nearest one) or "random" (random responsibilities); the
        first M step turns them into parameters, then weights_init (K,), means_init (K, D) and
        precisions_init (the compact shape of covariance_type) replace what they give.
    n_init: EM runs from this many starts; the one of highest final log-likelihood is kept.
    tol: EM stops once an iteration raises the mean log-likelihood per point by less than tol.
    random_state: an int seed, a numpy Generator, or None for minigen's stream (minigen.manual_seed).

    Fitted attributes (on the device of X): weights_ (K,), means_ (K, D), covariances_,
    precisions_, precisions_cholesky_ (compact shapes), converged_, n_iter_, lower_bound_ (the
    mean ln p(x_n) of the last E step, as scikit-learn's), lower_bounds_ (one per iteration),
    monitor_ (a ConvergenceMonitor). Raises ValueError for bad arguments, X not 2-D or holding
    NaN/inf, fewer points than components, or a collapsing component; RuntimeError before fit.
    """

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100, n_init=1,
                 init_params="kmeans", weights_init=None, means_init=None, precisions_init=None, random_state=None):
        self.n_components, self.covariance_type, self.tol, self.reg_covar = n_components, covariance_type, tol, reg_covar
        self.max_iter, self.n_init, self.init_params = max_iter, n_init, init_params
        self.weights_init, self.means_init, self.precisions_init = weights_init, means_init, precisions_init
        self.random_state = random_state

    @property
    def device(self):
        """Where the fitted arrays live (None before fit)."""
        return backend.device_of(self.means_) if hasattr(self, "means_") else None

    # ---------------------------------------------------------------- EM
    def fit(self, X, y=None):
        """EM from n_init starts on X (N, D); keeps the best; returns self. y is ignored."""
        X = self._check_X(X, fitting=True)
        rng = self._rng()
        best = None
        for _ in range(self.n_init):
            pi, mu, U = self._initial_parameters(X, rng)
            monitor = ConvergenceMonitor(self.tol, self.max_iter)
            for _ in range(self.max_iter):
                log_px, log_gamma = e_step(X, pi, mu, U, self.covariance_type)                  # E step
                pi, mu, Sigma = m_step(X, responsibilities(log_gamma), self.covariance_type,
                                       self.reg_covar)                                         # M step
                U = precision_cholesky(Sigma, self.covariance_type, self.reg_covar)
                monitor.report(float(log_px.mean()))
                if monitor.converged:
                    break
            if best is None or monitor.history[-1] > best[-1].history[-1]:
                best = (pi, mu, Sigma, U, monitor)
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_, self.monitor_ = best
        self.precisions_ = precisions(self.precisions_cholesky_, self.covariance_type)
        self.converged_, self.n_iter_ = self.monitor_.converged, self.monitor_.iter
        self.lower_bounds_ = list(self.monitor_.history)
        self.lower_bound_ = self.lower_bounds_[-1]
        return self

    def fit_predict(self, X, y=None):
        """fit(X), then the most likely component of each row, (N,)."""
        return self.fit(X).predict(X)

    # ---------------------------------------------------------------- inference
    def _e_step(self, X):
        X = self._check_X(X)
        params = (backend.to_device(a, backend.device_of(X)) for a in
                  (self.weights_, self.means_, self.precisions_cholesky_))
        return e_step(X, *params, self.covariance_type)

    def score_samples(self, X):
        """ln p(x_n) for each row of X, (N,)."""
        return self._e_step(X)[0]

    def score(self, X, y=None):
        """The mean log-likelihood per point, (1/N) sum_n ln p(x_n): a float."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """The responsibilities gamma(z_nk) = p(z_k = 1 | x_n), (N, K); rows sum to 1."""
        log_gamma = self._e_step(X)[1]
        return backend.array_module(log_gamma).exp(log_gamma)

    def predict(self, X):
        """The component of largest responsibility for each row, (N,)."""
        return self._e_step(X)[1].argmax(axis=1)

    def sample(self, n_samples=1):
        """Draw (X (n, D), z (n,)): counts per component ~ Multinomial(n, pi), then x ~ N(mu_z, Sigma_z).

        As in scikit-learn, the samples come grouped by component (z sorted). Drawn on the host
        from random_state, returned on the device of the fitted means.
        """
        self._check_fitted()
        check_int("GaussianMixture.sample", "n_samples", n_samples)
        rng = self._rng()
        pi, mu, Sigma = (backend.to_host(a) for a in (self.weights_, self.means_, self.covariances_))
        K, D = mu.shape
        z = np.repeat(np.arange(K), rng.multinomial(n_samples, pi / pi.sum()))
        eps = rng.standard_normal((n_samples, D))
        if self.covariance_type in ("full", "tied"):
            L = np.broadcast_to(np.linalg.cholesky(Sigma), (K, D, D))
            X = mu[z] + np.einsum("nde,ne->nd", L[z], eps)                 # x = mu + L eps has covariance L L^T
        else:
            std = np.sqrt(Sigma) if self.covariance_type == "diag" else np.sqrt(Sigma)[:, None]
            X = mu[z] + np.broadcast_to(std, (K, D))[z] * eps
        device = self.device
        return backend.to_device(X, device), backend.to_device(z, device)

    # ---------------------------------------------------------------- model selection
    def _n_parameters(self):
        """Free parameters: K - 1 weights, K D means, and the covariances' entries."""
        K, D = self.means_.shape
        covariance = {"full": K * D * (D + 1) // 2, "tied": D * (D + 1) // 2, "diag": K * D, "spherical": K}
        return covariance[self.covariance_type] + K * D + K - 1

    def bic(self, X):
        """Bayesian information criterion: -2 ln p(X) + p ln N (lower is better)."""
        return -2 * self.score(X) * len(X) + self._n_parameters() * math.log(len(X))

    def aic(self, X):
        """Akaike information criterion: -2 ln p(X) + 2 p (lower is better)."""
        return -2 * self.score(X) * len(X) + 2 * self._n_parameters()

    # ---------------------------------------------------------------- starting EM, checking input
    def _rng(self):
        if self.random_state is None:
            return backend.host_rng()
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        return np.random.default_rng(self.random_state)

    def _initial_parameters(self, X, rng):
        """(pi, mu, U): the M step of the init's responsibilities, then the given *_init in their place."""
        gamma = initial_responsibilities(X, self.n_components, self.init_params, rng)
        pi, mu, Sigma = m_step(X, gamma, self.covariance_type, self.reg_covar)
        U = precision_cholesky(Sigma, self.covariance_type, self.reg_covar) if self.precisions_init is None else None
        return given_parameters(self, X, pi, mu, U)

    def _check_fitted(self):
        if not hasattr(self, "means_"):
            raise RuntimeError("GaussianMixture is not fitted yet: call fit(X) first")

    def _check_X(self, X, fitting=False):
        if fitting:
            check_arguments(self)
        else:
            self._check_fitted()
        return check_X(self, X, fitting)
