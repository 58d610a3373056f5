"""Naive Bayes: pixels independent given the class (Bishop PRML 4.2.3, 8.2.2), scikit-learn style.

    model = BernoulliNB().fit(X, y)        # X: (N, D) pixels in [0, 1], on above binarize=0.5
    model.predict_proba(X)                 # p(C_k | x) by Bayes' theorem
    model.sample(3, n=5)                   # five '3's, drawn pixel by pixel

The naive assumption: given the class, the D features are independent,

    p(x | C_k) = prod_i p(x_i | C_k)

For binary pixels each factor is a Bernoulli, p(x_i | C_k) = p_ki^x_i (1 - p_ki)^(1 - x_i), so

    a_k(x) = ln p(x | C_k) + ln p(C_k) = sum_i [x_i ln p_ki + (1 - x_i) ln(1 - p_ki)] + ln p(C_k)

is linear in x (PRML 4.82), and p(C_k | x) = softmax(a(x))_k. For real features each factor
is a Gaussian N(x_i | mu_ki, sigma_ki^2): that is GaussianClassifier(covariance="diag"),
here under scikit-learn's name GaussianNB. Works on NumPy or CuPy arrays (in float64).
"""
import numbers

import numpy as np

from minigen import backend
from minigen.models.gaussian import GaussianClassifier, check_features, check_priors, encode_labels, logsumexp
from minigen.checks import check_int


def bernoulli_nb_log_posterior(X, feature_log_prob, class_log_prior):
    """ln p(C_k | x_n) of naive Bayes with Bernoulli pixels, shape (N, K); rows are log-distributions.

    X: (N, D) of 0s and 1s; feature_log_prob: (K, D), ln p_ki = ln p(x_i = 1 | C_k), every p_ki < 1;
    class_log_prior: (K,), ln p(C_k). Arrays of NumPy or CuPy, the result of the same module.
    """
    xp = backend.array_module(X)
    log_q = xp.log1p(-xp.exp(feature_log_prob))                          # ln(1 - p_ki)
    a = X @ (feature_log_prob - log_q).T + log_q.sum(axis=1) + class_log_prior  # PRML 4.82: a_k(x)
    return a - logsumexp(a, axis=1)[:, None]                             # ln softmax(a)_k (PRML 4.62)


@backend.on_data_device_methods
class BernoulliNB:
    """Naive Bayes over binary features: p(x | C_k) = prod_i p_ki^x_i (1 - p_ki)^(1 - x_i).

    alpha: the pseudocount (> 0) added to every count, p_ki = (N_ki + alpha) / (N_k + 2 alpha)
        with N_k the number of training rows of class k and N_ki those of them with x_i = 1.
    binarize: x_i = 1 where X > binarize, else 0 (0.5 suits pixels scaled to [0, 1];
        scikit-learn's default is 0.0); None when X holds 0s and 1s already.
    fit_prior: p(C_k) the class frequencies if True, uniform if False; class_prior (K,) overrides both.

    Fitted attributes, as scikit-learn's: ``classes_`` (K,) the sorted labels, ``class_count_`` (K,),
    ``feature_count_`` (K, D), ``class_log_prior_`` (K,), ``feature_log_prob_`` (K, D) = ln p_ki.
    X: (N, D); arrays come back on X's device. Methods before ``fit`` raise RuntimeError.
    """

    def __init__(self, alpha=1.0, binarize=0.5, fit_prior=True, class_prior=None):
        self.alpha, self.binarize, self.fit_prior, self.class_prior = alpha, binarize, fit_prior, class_prior

    @property
    def device(self):
        """Where the fitted arrays live (None before fit)."""
        return backend.device_of(self.feature_log_prob_) if hasattr(self, "feature_log_prob_") else None

    def fit(self, X, y):
        """Maximum a posteriori p_ki (counts plus alpha) and the class priors from X (N, D), y (N,); returns self.

        Raises ValueError for alpha not positive, binarize not a number or None, X not 2-D, not finite
        or (binarize=None) not 0/1, y of another length, fewer than 2 classes, or a bad class_prior.
        """
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real) or not self.alpha > 0:
            raise ValueError(f"alpha must be a positive number (alpha = 0 gives ln 0 for a pixel never on "
                             f"in a class), got {self.alpha!r}")
        X = self._binary(X, fitted=False)
        xp = backend.array_module(X)
        self.classes_, one_hot = encode_labels(X, y)
        K = len(self.classes_)
        self.class_count_ = one_hot.sum(axis=0)                                  # N_k
        self.feature_count_ = one_hot.T @ X                                      # N_ki
        self.feature_log_prob_ = (xp.log(self.feature_count_ + self.alpha)       # ln (N_ki + alpha)
                                  - xp.log(self.class_count_ + 2 * self.alpha)[:, None])  # - ln (N_k + 2 alpha)
        if self.class_prior is not None:
            self.class_log_prior_ = xp.log(check_priors("class_prior", self.class_prior, K, xp))
        elif self.fit_prior:
            self.class_log_prior_ = xp.log(self.class_count_) - xp.log(self.class_count_.sum())  # ln N_k / N
        else:
            self.class_log_prior_ = xp.full(K, -np.log(K))
        return self

    def _binary(self, X, fitted=True):
        """X checked and turned into 0.0 / 1.0 (float64, on its device)."""
        if fitted and not hasattr(self, "feature_log_prob_"):
            raise RuntimeError("BernoulliNB is not fitted yet: call fit(X, y) first")
        binarize = self.binarize
        if binarize is not None and (isinstance(binarize, bool) or not isinstance(binarize, numbers.Real)):
            raise ValueError(f"binarize must be a number or None, got {binarize!r}")
        X = check_features(X, self.feature_log_prob_.shape[1] if fitted else None)
        if binarize is not None:
            return (X > binarize).astype(X.dtype)
        if not bool(((X == 0) | (X == 1)).all()):
            raise ValueError("X must hold only 0s and 1s when binarize=None (give a threshold to binarize it)")
        return X

    def _on(self, X, *arrays):
        return (backend.to_device(a, backend.device_of(X)) for a in arrays)

    # ---------------------------------------------------------------- Bayes' theorem
    def predict_log_proba(self, X):
        """ln p(C_k | x_n), shape (N, K)."""
        X = self._binary(X)
        return bernoulli_nb_log_posterior(X, *self._on(X, self.feature_log_prob_, self.class_log_prior_))

    def predict_proba(self, X):
        """p(C_k | x_n), shape (N, K); rows sum to 1."""
        log_posterior = self.predict_log_proba(X)
        return backend.array_module(log_posterior).exp(log_posterior)

    def predict(self, X):
        """The label of the most probable class for each row, shape (N,)."""
        log_posterior = self.predict_log_proba(X)
        classes, = self._on(log_posterior, self.classes_)
        return classes[log_posterior.argmax(axis=1)]

    # ---------------------------------------------------------------- it is generative
    def sample(self, class_, n=1, random_state=None):
        """n feature vectors of class label ``class_``, (n, D) float64 of 0s and 1s, on the fitted device.

        Pixel by pixel: x_i ~ Bernoulli(p_ki), each independent of the others given the class.
        random_state: an int seed or a numpy Generator; None uses minigen's stream (minigen.manual_seed).
        """
        if not hasattr(self, "feature_log_prob_"):
            raise RuntimeError("BernoulliNB is not fitted yet: call fit(X, y) first")
        check_int("BernoulliNB.sample", "n", n, lowest=0, expected="a non-negative integer")
        classes = backend.to_host(self.classes_).tolist()
        if class_ not in classes:
            raise ValueError(f"class_ must be one of the classes {classes}, got {class_!r}")
        rng = backend.host_rng() if random_state is None else np.random.default_rng(random_state)
        p = np.exp(backend.to_host(self.feature_log_prob_)[classes.index(class_)])   # p_ki, (D,)
        X = (rng.random((n, len(p))) < p).astype(np.float64)                         # x_i = 1 with probability p_ki
        return backend.to_device(X, self.device)


@backend.on_data_device_methods
class GaussianNB(GaussianClassifier):
    """Naive Bayes over real features: GaussianClassifier(covariance="diag") with scikit-learn's names.

    p(x | C_k) = prod_i N(x_i | mu_ki, sigma_ki^2), a Gaussian with a diagonal covariance.
    priors: p(C_k) (K,), or None for the class frequencies. var_smoothing: as scikit-learn, the
    fraction of the largest variance of X (over all rows) added to every variance.

    Fitted attributes: ``classes_``, ``theta_`` (K, D) the means mu_ki, ``var_`` (K, D) the
    variances sigma_ki^2, ``class_prior_`` (K,), ``epsilon_`` the amount added to each variance;
    and every method and attribute of GaussianClassifier (``means_``, ``covariances_``, ``sample``...).
    """

    covariance = "diag"

    def __init__(self, priors=None, var_smoothing=1e-9):
        self.priors, self.var_smoothing = priors, var_smoothing

    @property
    def reg(self):
        """What GaussianClassifier.fit adds to every variance: epsilon_ (0 before fit)."""
        return getattr(self, "epsilon_", 0.0)

    def fit(self, X, y):
        """Class means, variances (+ epsilon_) and priors from X (N, D) and labels y (N,); returns self.

        Raises ValueError as GaussianClassifier.fit does, for a negative var_smoothing, and when every
        feature of X is constant (then nothing can be added to a variance of 0).
        """
        smoothing = self.var_smoothing
        if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not smoothing >= 0:
            raise ValueError(f"var_smoothing must be a non-negative number, got {smoothing!r}")
        X = check_features(X)
        largest = float(X.var(axis=0).max()) if len(X) else 0.0  # no rows: fit refuses them with its message
        if len(X) and largest == 0:
            raise ValueError("every feature of X is constant: the variances are 0 and var_smoothing "
                             "scales the largest of them")
        self.epsilon_ = smoothing * largest
        return super().fit(X, y)

    @property
    def theta_(self):
        """mu_ki, (K, D)."""
        return self.means_

    @property
    def var_(self):
        """sigma_ki^2 (K, D), the diagonals of covariances_ (epsilon_ included)."""
        return backend.array_module(self.covariances_).diagonal(self.covariances_, axis1=1, axis2=2).copy()

    @property
    def class_prior_(self):
        """p(C_k), (K,)."""
        return self.priors_
