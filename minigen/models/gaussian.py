"""Generative classification with Gaussian class-conditionals (Bishop PRML 4.2), scikit-learn style.

    model = GaussianClassifier(covariance="shared").fit(X, y)
    model.predict_proba(X)          # p(C_k | x) by Bayes' theorem
    W, b = model.linear_params()    # shared covariance: p(C_k | x) = softmax(W x + b)_k

Each class C_k has a prior p(C_k) and a Gaussian class-conditional
p(x | C_k) = N(x | mu_k, Sigma_k). Bayes' theorem gives the posterior as a softmax of

    a_k(x) = ln p(x | C_k) + ln p(C_k)                      (PRML 4.62-4.63)

With one covariance shared by all classes the quadratic terms of the a_k cancel and the
boundaries are linear (4.68-4.70); with one covariance per class they are quadratic.
Works on NumPy or CuPy arrays: every method returns arrays on the device of its input,
computed in float64. Log densities go through Cholesky factors, never an explicit inverse.
"""
import math
import numbers

import numpy as np

from minigen import backend
from minigen.checks import check_int

COVARIANCES = ("shared", "full", "diag")
RCOND = 1e-12  # a feature with less of its variance left unexplained by the others: singular in float64


def logsumexp(a, axis):
    """ln sum exp(a) along ``axis``, stable: the largest term is taken out first."""
    xp = backend.array_module(a)
    top = a.max(axis=axis, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)  # all -inf: keep -inf, do not make NaN
    return (top + xp.log(xp.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def gaussian_log_density(X, mu, L):
    """ln N(x_n | mu, Sigma) for X (N, D), mu (D,), L (D, D) the Cholesky factor of Sigma = L L^T.

    With z = L^-1 (x - mu): ln N = -D/2 ln 2 pi - 1/2 ln |Sigma| - 1/2 z^T z, and
    ln |Sigma| = 2 sum_i ln L_ii. Returns (N,).
    """
    xp = backend.array_module(X)
    z = xp.linalg.solve(L, (X - mu).T)  # (D, N); L is triangular, so this is forward substitution
    log_det = 2 * xp.log(xp.diagonal(L)).sum()
    return -0.5 * (X.shape[1] * math.log(2 * math.pi) + log_det + (z * z).sum(axis=0))


def class_scatter(X, mu):
    """sum_n (x_n - mu)(x_n - mu)^T over the rows of X (N_k, D): N_k times the class's ML covariance."""
    centered = X - mu
    return centered.T @ centered


def check_features(X, n_features=None, model="the classifier"):
    """X as a finite float64 (N, D) array on its device (a list goes to the CPU).

    Raises ValueError for X not 2-D, with other than ``n_features`` columns (when given: "... but
    ``model`` was fitted with n_features"), or not finite.
    """
    if not backend.is_array(X):
        X = np.asarray(X)
    xp = backend.array_module(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N samples, D features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features but {model} was fitted with {n_features}")
    X = X.astype(xp.float64, copy=False)
    bad = backend.to_host(~xp.isfinite(X).all(axis=1))
    if bad.any():
        raise ValueError(f"X must be finite: {int(bad.sum())} row(s) hold nan or inf, "
                         f"the first at row {int(np.argmax(bad))}")
    return X


def encode_labels(X, y):
    """(classes (K,) the sorted labels, one_hot (N, K) of X's dtype) for labels y (N,) of the rows of X.

    Raises ValueError when y is not one label per row of X or holds fewer than 2 classes.
    """
    xp = backend.array_module(X)
    y = xp.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must hold one label per row of X: X has {len(X)} rows, y has shape {y.shape}")
    classes, index = xp.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y must hold at least 2 classes, got {len(classes)}: {backend.to_host(classes).tolist()}")
    return classes, (index.reshape(-1)[:, None] == xp.arange(len(classes))).astype(X.dtype)


def check_priors(name, priors, K, xp):
    """priors as a float64 array of ``xp``: K non-negative numbers summing to 1, else ValueError."""
    priors = np.asarray(priors, dtype=np.float64)
    if priors.shape != (K,) or (priors < 0).any() or abs(priors.sum() - 1) > 1e-8:
        raise ValueError(f"{name} must be {K} non-negative numbers summing to 1 (one per class), got "
                         f"{priors.tolist()} (sum {priors.sum():.10g})")
    return xp.asarray(priors)


@backend.on_data_device_methods
class GaussianClassifier:
    """Bayes classifier with Gaussian class-conditionals p(x | C_k) = N(x | mu_k, Sigma_k).

    covariance: "shared" (one Sigma for all classes: linear boundaries), "full" (one Sigma_k
        per class: quadratic boundaries) or "diag" (one diagonal Sigma_k per class).
    priors: p(C_k) in the order of the sorted class labels, or None for the class
        frequencies of the training data.
    reg: added to every covariance's diagonal (keeps it positive definite).

    Fitted attributes (maximum likelihood, PRML 4.73-4.80): ``classes_`` (K,) sorted labels,
    ``priors_`` (K,), ``means_`` (K, D), and ``covariance_`` (D, D) for "shared" or
    ``covariances_`` (K, D, D) for "full" and "diag" (diagonal matrices for "diag").
    X: (N, D); arrays come back on X's device. Methods before ``fit`` raise RuntimeError.
    """

    def __init__(self, covariance="shared", priors=None, reg=1e-6):
        self.covariance, self.priors, self.reg = covariance, priors, reg

    @property
    def device(self):
        """Where the fitted arrays live (None before fit)."""
        return backend.device_of(self.means_) if hasattr(self, "means_") else None

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y):
        """Maximum-likelihood priors, means and covariances from X (N, D) and labels y (N,); returns self.

        Raises ValueError for an unknown covariance type, a negative reg, X not 2-D or not finite,
        y of another length, fewer than 2 classes, priors that are not a distribution, or a
        singular covariance (too few samples of a class, collinear features: raise reg).
        """
        if self.covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {self.covariance!r}")
        if isinstance(self.reg, bool) or not isinstance(self.reg, numbers.Real) or not self.reg >= 0:
            raise ValueError(f"reg must be a non-negative number, got {self.reg!r}")
        X = self._check_X(X, fitted=False)
        xp = backend.array_module(X)
        classes, one_hot = encode_labels(X, y)
        K, (N, D) = len(classes), X.shape
        counts = one_hot.sum(axis=0)
        self.classes_ = classes
        self.priors_ = counts / N if self.priors is None else check_priors("priors", self.priors, K, xp)  # PRML 4.73
        self.means_ = (one_hot.T @ X) / counts[:, None]                                     # PRML 4.75
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named just below
            scatter = xp.stack([class_scatter(X[in_k], mu) for in_k, mu in zip(one_hot.T > 0, self.means_)])
        if not bool(xp.isfinite(scatter).all()):
            raise ValueError(f"the covariance overflows float64: X's values reach {float(abs(X).max()):.3g}, and the "
                             "sums of their squared deviations pass 1.8e308; scale X down (standardize each feature)")
        eye = self.reg * xp.eye(D)
        if self.covariance == "shared":
            self.covariance_ = scatter.sum(axis=0) / N + eye             # PRML 4.78-4.80: sum_k N_k/N S_k
            self._chol = xp.broadcast_to(self._cholesky(self.covariance_[None], classes)[0], (K, D, D))
        else:
            covariances = scatter / counts[:, None, None]                # S_k
            if self.covariance == "diag":
                covariances = covariances * xp.eye(D)
            self.covariances_ = covariances + eye
            self._chol = self._cholesky(self.covariances_, classes)
        return self

    def _cholesky(self, covariances, classes):
        """Cholesky factors L_k of (K', D, D) covariances, or a ValueError naming a singular one.

        Singular also means singular to float64's precision: a feature whose variance the
        features before it leave unexplained but for a share below RCOND (rounding error).
        """
        xp = backend.array_module(covariances)
        try:
            chol = (xp.sqrt(covariances) if self.covariance == "diag"  # a diagonal Sigma's factor: its square root
                    else xp.linalg.cholesky(covariances))
        except np.linalg.LinAlgError:
            chol = xp.full_like(covariances, xp.nan)
        with np.errstate(invalid="ignore"):  # 0 / 0 for a feature of variance 0: nan, which counts as singular
            # L_ii^2 / Sigma_ii: the share of feature i's variance that features 0..i-1 leave unexplained
            unexplained = xp.diagonal(chol, axis1=-2, axis2=-1) ** 2 / xp.diagonal(covariances, axis1=-2, axis2=-1)
        positive = backend.to_host(xp.isfinite(chol).all(axis=(1, 2)) & (unexplained > RCOND).all(axis=1))
        if positive.all():  # cuSOLVER may give nan or a partial factor instead of raising
            return chol
        k = int(np.argmin(positive))
        eigenvalues = np.linalg.eigvalsh(backend.to_host(covariances[k]))
        which = ("the shared covariance" if self.covariance == "shared" else
                 f"the covariance of class {backend.to_host(classes)[k].item()!r}")
        shares = backend.to_host(unexplained[k])
        i = int(np.argmin(shares))
        culprit = (f"feature {i} is a linear combination of features 0..{i - 1} to float64's precision (all but "
                   f"{shares[i]:.2g} of its variance); " if np.isfinite(shares).all() else "")
        raise ValueError(f"{which} is singular (smallest eigenvalue {eigenvalues[0]:.3g}, largest "
                         f"{eigenvalues[-1]:.3g}): {culprit}too few samples or collinear features; a larger reg "
                         f"(now {self.reg}) adds more to its diagonal")

    def _check_fitted(self):
        if not hasattr(self, "means_"):
            raise RuntimeError("GaussianClassifier is not fitted yet: call fit(X, y) first")

    def _check_X(self, X, fitted=True):
        if fitted:
            self._check_fitted()
        return check_features(X, self.means_.shape[1] if fitted else None)

    # ---------------------------------------------------------------- Bayes' theorem
    def log_joint(self, X):
        """a_k(x_n) = ln p(x_n | C_k) + ln p(C_k) = ln p(x_n, C_k), shape (N, K)  (PRML 4.63)."""
        X = self._check_X(X)
        xp = backend.array_module(X)
        means, chol, priors = (backend.to_device(a, backend.device_of(X)) for a in
                               (self.means_, self._chol, self.priors_))
        log_density = xp.stack([gaussian_log_density(X, means[k], chol[k]) for k in range(len(means))], axis=1)
        with np.errstate(divide="ignore"):  # a prior of 0: ln 0 = -inf, that class is never predicted
            return log_density + xp.log(priors)

    def score_samples(self, X):
        """ln p(x_n) = ln sum_k p(x_n, C_k), shape (N,): the evidence, low for outliers."""
        return logsumexp(self.log_joint(X), axis=1)

    def predict_log_proba(self, X):
        """ln p(C_k | x_n) = a_k - ln sum_j exp(a_j), shape (N, K)  (PRML 4.62)."""
        a = self.log_joint(X)
        return a - logsumexp(a, axis=1)[:, None]

    def predict_proba(self, X):
        """p(C_k | x_n) = softmax(a(x_n))_k, shape (N, K); rows sum to 1."""
        return backend.array_module(self.log_joint(X)).exp(self.predict_log_proba(X))

    def predict(self, X):
        """The label of the most probable class for each row, shape (N,)."""
        a = self.log_joint(X)
        return backend.to_device(self.classes_, backend.device_of(a))[a.argmax(axis=1)]

    # ---------------------------------------------------------------- the discriminant's parameters
    def linear_params(self):
        """(W (K, D), b (K,)) with p(C_k | x) = softmax(W x + b)_k; only for covariance="shared".

        w_k = Sigma^-1 mu_k,  b_k = -1/2 mu_k^T Sigma^-1 mu_k + ln p(C_k)   (PRML 4.68-4.70)
        """
        self._check_fitted()
        if self.covariance != "shared":
            raise ValueError(f'linear_params needs covariance="shared" (boundaries are quadratic otherwise), '
                             f'got covariance={self.covariance!r}; see quadratic_params')
        xp = backend.array_module(self.means_)
        L = self._chol[0]
        W = xp.linalg.solve(L.T, xp.linalg.solve(L, self.means_.T)).T      # Sigma^-1 mu_k = L^-T L^-1 mu_k
        b = -0.5 * (W * self.means_).sum(axis=1) + xp.log(self.priors_)
        return W, b

    def linear_params_binary(self):
        """(w (D,), w0) with p(C_1 | x) = sigma(w^T x + w0) for two classes  (PRML 4.65-4.67).

        w = w_1 - w_0 = Sigma^-1 (mu_1 - mu_0), w0 = b_1 - b_0; C_1 is classes_[1].
        """
        W, b = self.linear_params()
        if len(W) != 2:
            raise ValueError(f"linear_params_binary needs 2 classes, the classifier has {len(W)}")
        return W[1] - W[0], float(b[1] - b[0])

    def quadratic_params(self):
        """(Q (K, D, D), W (K, D), c (K,)) with a_k(x) = x^T Q_k x + w_k^T x + c_k, any covariance type.

        Q_k = -1/2 Sigma_k^-1, w_k = Sigma_k^-1 mu_k,
        c_k = -1/2 mu_k^T Sigma_k^-1 mu_k - 1/2 ln |Sigma_k| - D/2 ln 2 pi + ln p(C_k).
        With one shared Sigma the Q_k are equal and cancel in the softmax: the boundaries are linear.
        """
        self._check_fitted()
        xp = backend.array_module(self.means_)
        K, D = self.means_.shape
        eye = xp.broadcast_to(xp.eye(D), (K, D, D))
        precision = xp.linalg.solve(xp.swapaxes(self._chol, 1, 2), xp.linalg.solve(self._chol, eye))  # Sigma_k^-1
        W = (precision @ self.means_[:, :, None])[:, :, 0]
        log_det = 2 * xp.log(xp.diagonal(self._chol, axis1=1, axis2=2)).sum(axis=1)
        c = -0.5 * ((W * self.means_).sum(axis=1) + log_det + D * math.log(2 * math.pi)) + xp.log(self.priors_)
        return -0.5 * precision, W, c

    # ---------------------------------------------------------------- it is generative
    def sample(self, n, y=None, random_state=None):
        """Draw (X (n, D), y (n,)): y ~ p(C_k) (or all of class label ``y``), then x ~ N(mu_y, Sigma_y).

        random_state: an int seed or a numpy Generator; None uses minigen's stream (minigen.manual_seed).
        Numbers are drawn on the host and moved to the device of the fitted means.
        """
        self._check_fitted()
        check_int(f"{type(self).__name__}.sample", "n", n, lowest=0, expected="a non-negative integer")
        rng = backend.host_rng() if random_state is None else np.random.default_rng(random_state)
        classes = backend.to_host(self.classes_)
        if y is None:
            index = rng.choice(len(classes), size=n, p=backend.to_host(self.priors_))
        else:
            if y not in classes.tolist():
                raise ValueError(f"y must be one of the classes {classes.tolist()}, got {y!r}")
            index = np.full(n, classes.tolist().index(y))
        means, chol = backend.to_host(self.means_), backend.to_host(self._chol)
        z = rng.standard_normal((n, means.shape[1]))
        X = means[index] + np.einsum("nij,nj->ni", chol[index], z)  # x = mu + L z has covariance L L^T
        device = backend.device_of(self.means_)
        return backend.to_device(X, device), backend.to_device(classes[index], device)
