"""Hidden Markov models with hmmlearn's interface: CategoricalHMM and GaussianHMM.

    model = CategoricalHMM(n_components=4, n_iter=50, random_state=0).fit(X, lengths)
    logprob, states = model.decode(X, lengths)

``X`` is hmmlearn's layout: all sequences concatenated, (N, 1) ints for CategoricalHMM and
(N, D) floats for GaussianHMM, with ``lengths`` the length of each (None: one sequence).
EM runs batched over all sequences at once (padded, with a mask) on ``device``; the fitted
attributes (``startprob_``, ``transmat_``, ``emissionprob_``, ``means_``, ``covars_``) are
NumPy arrays on the host, and so is everything the methods return.

``transmat_[i, j] = p(z_n = j | z_{n-1} = i)`` (rows sum to 1); the lecture's A is its
transpose. The algorithms themselves are plain functions in minigen.models.hmm_algorithms.

Left-to-right models: set ``startprob_`` / ``transmat_`` with zeros yourself and leave their
letters out of ``init_params``: EM keeps every zero a zero.
"""
import numpy as np

from minigen import backend
from minigen.models import hmm_algorithms as alg
from minigen.models import hmm_scan
from minigen.progress import progress
from minigen.checks import check_int

_STOCHASTIC_ATOL = 1e-6
SCAN_MIN_STEPS = 2048  # from this length on, score() and decode() go by chunks (log_likelihood_scan, viterbi_scan)


class ConvergenceMonitor:
    """The log-likelihood of each EM iteration (``history``) and whether EM converged.

    ``converged`` is True once an iteration improved the log-likelihood by less than ``tol``
    (unlike hmmlearn's, reaching n_iter alone does not count as converged).
    """

    def __init__(self, tol, n_iter):
        self.tol, self.n_iter, self.history = tol, n_iter, []

    def report(self, log_likelihood):
        self.history.append(log_likelihood)

    @property
    def iter(self):
        return len(self.history)

    @property
    def converged(self):
        return len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol

    def __repr__(self):
        return f"ConvergenceMonitor(iter={self.iter}, converged={self.converged}, history={self.history[-3:]})"


def _check_stochastic(name, p, shape):
    p = np.asarray(p, dtype=np.float64)
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {p}")
    sums = p.sum(axis=-1)
    if not np.allclose(sums, 1, atol=_STOCHASTIC_ATOL):
        raise ValueError(f"{name} rows must sum to 1, got sums {sums}")
    return p


@backend.on_data_device_methods
class _BaseHMM:
    """EM, scoring and decoding shared by the models; a subclass supplies its emissions.

    A subclass defines ``_emission_names`` (its fitted attributes), ``_init_emissions(X, rng)``, ``_check_emissions()``,
    ``_check_X(X)``, ``_emission_params(device)``, ``_log_emission(X, params)`` (B, T, K),
    ``_m_step_emissions(X, gamma, params)`` and ``_sample_emissions(states, rng)``.
    """

    def __init__(self, n_components, n_iter, tol, implementation, params, init_params, random_state, device):
        self.n_components, self.n_iter, self.tol = n_components, n_iter, tol
        self.implementation, self.params, self.init_params = implementation, params, init_params
        self.random_state, self.device = random_state, device

    # ---------------------------------------------------------------- validation
    def _check_arguments(self):
        for name in ("n_components", "n_iter"):
            check_int(type(self).__name__, name, getattr(self, name), expected="a positive integer")
        if self.implementation not in ("scaling", "log"):
            raise ValueError(f'implementation must be "scaling" or "log", got {self.implementation!r}')
        return backend.canonical_device(self.device)

    def _check(self):
        """Validate the (given or initialized) parameters; store them as float64 host arrays."""
        missing = [name for name in ("startprob_", "transmat_", *self._emission_names) if not hasattr(self, name)]
        if missing:
            raise RuntimeError(f"{type(self).__name__} has no {', '.join(missing)}: call fit(X) first, or set "
                               f"{', '.join(('startprob_', 'transmat_', *self._emission_names))}")
        k = self.n_components
        self.startprob_ = _check_stochastic("startprob_", self.startprob_, (k,))
        self.transmat_ = _check_stochastic("transmat_", self.transmat_, (k, k))
        self._check_emissions()

    def _checked_X(self, X, fitting=False):
        """X checked by the subclass's ``_check_X``, and not empty."""
        X = self._check_X(X, fitting)
        if len(X) == 0:
            raise ValueError(f"X has no observations (shape {X.shape}): give at least one row")
        return X

    def _rng(self):
        if self.random_state is None:
            return backend.host_rng()
        return np.random.default_rng(self.random_state)

    def _init(self, X, rng):
        k = self.n_components
        if "s" in self.init_params or not hasattr(self, "startprob_"):
            self.startprob_ = np.full(k, 1 / k)
        if "t" in self.init_params or not hasattr(self, "transmat_"):
            self.transmat_ = np.full((k, k), 1 / k)
        self._init_emissions(X, rng)

    def _batch(self, X, lengths, device):
        """Validated X -> padded (B, T, ...) on device, mask (B, T), and the parameters on device."""
        self._check()
        padded, mask = alg.pad_sequences(backend.to_device(self._checked_X(X), device), lengths)
        params = {"startprob": backend.to_device(self.startprob_, device),
                  "transmat": backend.to_device(self.transmat_, device), **self._emission_params(device)}
        return padded, mask, params

    # ---------------------------------------------------------------- inference
    def _emission(self, X, mask, params, implementation=None):
        """B_obs (scaling) or log_B (log) of a padded batch, and ln of the factor taken out of B_obs (B,).

        The scaled variant gets exp(log_B - max_k log_B) at each step, so that emission
        densities far below 1e-308 do not underflow; the factors go back into ln p(X).
        ``implementation`` defaults to the model's.
        """
        log_B = self._log_emission(X, params)
        if (implementation or self.implementation) == "log":
            return log_B, 0
        xp = backend.array_module(log_B)
        shift = log_B.max(axis=2, keepdims=True)
        shift = xp.where(xp.isfinite(shift), shift, 0)
        return xp.exp(log_B - shift), (shift[..., 0] * mask).sum(axis=1)

    def _e_step(self, X, mask, params):
        emission, offset = self._emission(X, mask, params)
        with np.errstate(invalid="ignore"):  # a sequence of probability zero: fit raises, naming it
            log_likelihood, gamma, xi_sum = alg.e_step(params["startprob"], params["transmat"], emission, mask,
                                                       self.implementation)
        return log_likelihood + offset, gamma, xi_sum

    def score_samples(self, X, lengths=None):
        """Total ln p(X) over the sequences and the posteriors gamma (N, K) as NumPy arrays."""
        X_pad, mask, params = self._batch(X, lengths, self._check_arguments())
        log_likelihood, gamma, _ = self._e_step(X_pad, mask, params)
        return float(log_likelihood.sum()), backend.to_host(alg.unpad(gamma, mask))

    def score(self, X, lengths=None):
        """Total log-likelihood ln p(X) = sum over the sequences (forward pass only).

        Sequences of SCAN_MIN_STEPS steps and more go through the associative scan
        (hmm_scan.log_likelihood_scan) in both implementations: it rescales as it goes and checks
        a zero with the sequential log pass, so it is as safe from underflow as the log
        variant; "log" then gives -inf for a sequence of probability zero where "scaling" raises.
        """
        X_pad, mask, params = self._batch(X, lengths, self._check_arguments())
        if mask.shape[1] >= SCAN_MIN_STEPS:
            emission, offset = self._emission(X_pad, mask, params, "scaling")
            log_likelihood = backend.array_module(emission).stack([
                hmm_scan.log_likelihood_scan(params["startprob"], params["transmat"], emission[b, :int(length)],
                                        allow_zero=self.implementation == "log")
                for b, length in enumerate(backend.to_host(mask.sum(axis=1)))])
            return float((log_likelihood + offset).sum())
        emission, offset = self._emission(X_pad, mask, params)
        if self.implementation == "scaling":
            log_likelihood = alg.log_likelihood_scaled(
                alg.forward_scaled(params["startprob"], params["transmat"], emission, mask)[1])
        else:
            log_likelihood = alg.forward_log(alg.safe_log(params["startprob"]), alg.safe_log(params["transmat"]),
                                             emission, mask)[1]
        return float((log_likelihood + offset).sum())

    def predict_proba(self, X, lengths=None):
        """Posteriors gamma (N, K): p(z_n = k | X) of each step."""
        return self.score_samples(X, lengths)[1]

    def decode(self, X, lengths=None, algorithm="viterbi"):
        """The most likely states (N,) and a log-probability, summed over the sequences.

        "viterbi": the jointly most likely path and ln max_Z p(X, Z). Sequences of SCAN_MIN_STEPS
        steps and more go through hmm_scan.viterbi_scan (by chunks, in log space) in both implementations.
        "map": each step's most likely state (argmax gamma) and ln prod_n max_k gamma_nk.
        """
        if algorithm == "map":
            _, gamma = self.score_samples(X, lengths)
            with np.errstate(divide="ignore"):
                return float(np.log(gamma.max(axis=1)).sum()), gamma.argmax(axis=1)
        if algorithm != "viterbi":
            raise ValueError(f'algorithm must be "viterbi" or "map", got {algorithm!r}')
        X_pad, mask, params = self._batch(X, lengths, self._check_arguments())
        if mask.shape[1] >= SCAN_MIN_STEPS:
            return self._decode_scan(X_pad, mask, params)
        if self.implementation == "scaling":
            emission, offset = self._emission(X_pad, mask, params)
            logprob, path = alg.viterbi_scaled(params["startprob"], params["transmat"], emission, mask)
        else:
            offset = 0
            logprob, path = alg.viterbi_log(alg.safe_log(params["startprob"]), alg.safe_log(params["transmat"]),
                                            self._log_emission(X_pad, params), mask)
        return float((logprob + offset).sum()), backend.to_host(alg.unpad(path, mask))

    def _decode_scan(self, X_pad, mask, params):
        """decode() of a padded batch, one sequence at a time through hmm_scan.viterbi_scan."""
        log_startprob, log_transmat = alg.safe_log(params["startprob"]), alg.safe_log(params["transmat"])
        log_B = self._log_emission(X_pad, params)
        decoded = [hmm_scan.viterbi_scan(log_startprob, log_transmat, log_B[b, :int(length)])
                   for b, length in enumerate(backend.to_host(mask.sum(axis=1)))]
        path = backend.array_module(log_B).concatenate([path for _, path in decoded])
        return sum(float(logprob) for logprob, _ in decoded), backend.to_host(path)

    def predict(self, X, lengths=None):
        """The Viterbi states (N,)."""
        return self.decode(X, lengths)[1]

    # ---------------------------------------------------------------- learning
    def fit(self, X, lengths=None):
        """Baum-Welch (EM) over all sequences at once; returns self. ``monitor_`` holds the history.

        Raises ValueError when a sequence has probability zero under the current parameters.
        """
        device = self._check_arguments()
        self._init(self._checked_X(X, fitting=True), self._rng())
        self.monitor_ = ConvergenceMonitor(self.tol, self.n_iter)
        bar = progress(range(self.n_iter), desc=f"EM {type(self).__name__}")
        for _ in bar:
            X_pad, mask, params = self._batch(X, lengths, device)
            log_likelihood, gamma, xi_sum = self._e_step(X_pad, mask, params)
            total = float(log_likelihood.sum())
            if not np.isfinite(total):
                b = int(np.argmin(backend.to_host(log_likelihood)))
                raise ValueError(f"fit: sequence {b} has probability zero under the current parameters "
                                 "(ln p = -inf); check zeros in startprob_/transmat_/emissions")
            start_counts, trans_counts = alg.expected_counts(gamma, xi_sum)
            startprob, transmat = alg.m_step(start_counts, trans_counts, params["startprob"], params["transmat"])
            if "s" in self.params:
                self.startprob_ = backend.to_host(startprob)
            if "t" in self.params:
                self.transmat_ = backend.to_host(transmat)
            self._m_step_emissions(X_pad, gamma, params)
            self.monitor_.report(total)
            bar.set_postfix(loglik=f"{total:.4g}")
            if self.monitor_.converged:
                break
        bar.close()
        return self

    # ---------------------------------------------------------------- sampling
    def sample(self, n_samples=1, random_state=None):
        """Draw one sequence of ``n_samples`` steps. Returns X ((n, 1) or (n, D)) and states (n,)."""
        check_int(f"{type(self).__name__}.sample", "n_samples", n_samples, expected="a positive integer")
        self._check()
        rng = self._rng() if random_state is None else np.random.default_rng(random_state)
        u = rng.random(n_samples)
        start_cdf, trans_cdf = np.cumsum(self.startprob_), np.cumsum(self.transmat_, axis=1)
        states = np.empty(n_samples, dtype=np.int64)
        states[0] = min(np.searchsorted(start_cdf, u[0], side="right"), self.n_components - 1)
        for n in range(1, n_samples):
            states[n] = np.searchsorted(trans_cdf[states[n - 1]], u[n], side="right")
        states = np.minimum(states, self.n_components - 1)  # guards against row sums of 1 - 1e-16
        return self._sample_emissions(states, rng), states


@backend.on_data_device_methods
class CategoricalHMM(_BaseHMM):
    """HMM with discrete emissions: ``emissionprob_[k, m] = p(x_n = m | z_n = k)``, (K, M).

    X: (N, 1) ints in [0, n_features). n_features=None takes it from ``emissionprob_`` when
    given, else from X at fit (max + 1). params / init_params: letters of s (startprob),
    t (transmat), e (emissionprob) to update in EM / to initialize (randomly, from random_state).
    """

    def __init__(self, n_components=1, n_features=None, n_iter=10, tol=1e-2, implementation="scaling",
                 params="ste", init_params="ste", random_state=None, device="cpu"):
        super().__init__(n_components, n_iter, tol, implementation, params, init_params, random_state, device)
        self.n_features = n_features

    _emission_names = ("emissionprob_",)

    def _n_features(self):
        if self.n_features is not None:
            return self.n_features
        return np.shape(self.emissionprob_)[1] if hasattr(self, "emissionprob_") else None

    def _check_X(self, X, fitting=False):
        X = np.asarray(backend.to_host(X) if backend.is_array(X) else X)
        if X.ndim != 2 or X.shape[1] != 1:
            raise ValueError(f"X must be (N, 1) symbols (hmmlearn's layout), got shape {X.shape}")
        if X.size and not np.issubdtype(X.dtype, np.integer):
            if not (np.isfinite(X).all() and (X == np.round(X)).all()):
                raise ValueError(f"X must hold integer symbols, got {X.dtype} values such as {X.ravel()[:5]}")
            X = X.astype(np.int64)
        m = self._n_features()
        if m is None and fitting:
            m = int(X.max()) + 1 if X.size else 1
        bad = (X < 0) | (X >= m) if m is not None else X < 0
        if bad.any():
            raise ValueError(f"X holds symbols outside [0, {m}) (n_features={m}): {np.unique(X[bad])[:10].tolist()}")
        return X.astype(np.int64)

    def _init_emissions(self, X, rng):
        if "e" in self.init_params or not hasattr(self, "emissionprob_"):
            m = self._n_features() if self._n_features() is not None else int(X.max()) + 1
            p = rng.random((self.n_components, m))
            self.emissionprob_ = p / p.sum(axis=1, keepdims=True)

    def _check_emissions(self):
        m = self.n_features if self.n_features is not None else np.shape(self.emissionprob_)[1]
        self.emissionprob_ = _check_stochastic("emissionprob_", self.emissionprob_, (self.n_components, m))

    def _emission_params(self, device):
        return {"emissionprob": backend.to_device(self.emissionprob_, device)}

    def _log_emission(self, X, params):
        return alg.safe_log(params["emissionprob"].T[X[..., 0]])

    def _emission(self, X, mask, params, implementation=None):
        b = params["emissionprob"].T[X[..., 0]]  # B_obs[b, n, k] = emissionprob[k, x_n]
        return (alg.safe_log(b), 0) if (implementation or self.implementation) == "log" else (b, 0)

    def _m_step_emissions(self, X, gamma, params):
        if "e" in self.params:
            counts = alg.categorical_counts(gamma, X[..., 0], params["emissionprob"].shape[1])
            self.emissionprob_ = backend.to_host(alg.normalize_rows(counts, params["emissionprob"]))

    def _sample_emissions(self, states, rng):
        cdf = np.cumsum(self.emissionprob_, axis=1)[states]
        symbols = (cdf < rng.random(len(states))[:, None]).sum(axis=1)
        return np.minimum(symbols, self.emissionprob_.shape[1] - 1)[:, None]


@backend.on_data_device_methods
class GaussianHMM(_BaseHMM):
    """HMM with Gaussian emissions N(x | means_[k], covars_[k]); X: (N, D) floats.

    ``means_`` (K, D). ``covars_`` is read as full matrices (K, D, D), and set, as in hmmlearn,
    in the compact shape of ``covariance_type``: "spherical" (K,), "diag" (K, D),
    "full" (K, D, D), "tied" (D, D). min_covar is added to the diagonal in the M step.
    params / init_params: letters of s, t, m (means), c (covars).
    """

    def __init__(self, n_components=1, covariance_type="diag", min_covar=1e-3, n_iter=10, tol=1e-2,
                 implementation="scaling", params="stmc", init_params="stmc", random_state=None, device="cpu"):
        super().__init__(n_components, n_iter, tol, implementation, params, init_params, random_state, device)
        self.covariance_type, self.min_covar = covariance_type, min_covar

    _emission_names = ("means_", "covars_")

    _SHAPES = {"spherical": lambda k, d: (k,), "diag": lambda k, d: (k, d),
               "full": lambda k, d: (k, d, d), "tied": lambda k, d: (d, d)}

    @property
    def covars_(self):
        """Covariance matrices (K, D, D), whatever the covariance_type."""
        c, k = self._covars_, self.n_components
        if self.covariance_type == "spherical":
            return c[:, None, None] * np.eye(self.means_.shape[1])
        if self.covariance_type == "diag":
            return np.stack([np.diag(v) for v in c])
        if self.covariance_type == "tied":
            return np.broadcast_to(c, (k,) + c.shape).copy()
        return c

    @covars_.setter
    def covars_(self, value):
        self._covars_ = np.asarray(value, dtype=np.float64)

    def _check_arguments(self):
        if self.covariance_type not in self._SHAPES:
            raise ValueError(f"covariance_type must be one of {list(self._SHAPES)}, got {self.covariance_type!r}")
        if not np.isscalar(self.min_covar) or not self.min_covar >= 0:
            raise ValueError(f"min_covar must be a non-negative number, got {self.min_covar!r}")
        return super()._check_arguments()

    def _check_X(self, X, fitting=False):
        X = np.asarray(backend.to_host(X) if backend.is_array(X) else X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be (N, D) floats (hmmlearn's layout), got shape {X.shape}")
        if hasattr(self, "means_") and not fitting and X.shape[1] != np.shape(self.means_)[1]:
            raise ValueError(f"X has {X.shape[1]} features but means_ has {np.shape(self.means_)[1]}")
        if not np.isfinite(X).all():
            raise ValueError("X must be finite (it holds NaN or inf)")
        with np.errstate(over="ignore"):
            if not np.isfinite(np.square(X).sum(axis=0)).all():  # the moments and distances in the E and M steps
                raise ValueError(f"X is too large: the squares of its values overflow float64 (largest |x| = "
                                 f"{np.abs(X).max():.3g}; their sums must stay below 1.8e308): scale X down, "
                                 "e.g. standardize each feature")
        return X

    def _init_emissions(self, X, rng):
        k, d = self.n_components, X.shape[1]
        if "m" in self.init_params or not hasattr(self, "means_"):
            self.means_ = _kmeans(X, k, rng)
        if "c" in self.init_params or not hasattr(self, "_covars_"):
            var = X.var(axis=0) + self.min_covar if len(X) > 1 else np.ones(d)
            cov = np.cov(X.T, bias=True).reshape(d, d) + self.min_covar * np.eye(d) if len(X) > 1 else np.eye(d)
            self._covars_ = {"spherical": np.full(k, var.mean()), "diag": np.tile(var, (k, 1)),
                             "full": np.tile(cov, (k, 1, 1)), "tied": cov}[self.covariance_type]

    def _check_emissions(self):
        self.means_ = np.asarray(self.means_, dtype=np.float64)
        k, d = self.n_components, self.means_.shape[-1]
        if self.means_.shape != (k, d) or not np.isfinite(self.means_).all():
            raise ValueError(f"means_ must be finite with shape ({k}, D), got {self.means_.shape}")
        shape = self._SHAPES[self.covariance_type](k, d)
        if self._covars_.shape != shape:
            raise ValueError(f'covars_ for covariance_type="{self.covariance_type}" must have shape {shape}, '
                             f"got {self._covars_.shape}")
        if self.covariance_type in ("spherical", "diag"):
            if not (self._covars_ > 0).all():
                raise ValueError(f"covars_ must be positive variances, got {self._covars_}")
        else:
            full = self._covars_.reshape((-1, d, d))
            if not np.allclose(full, full.transpose(0, 2, 1)) or (np.linalg.eigvalsh(full) <= 0).any():
                raise ValueError("covars_ must be symmetric positive definite matrices, "
                                 f"got eigenvalues {np.linalg.eigvalsh(full).min(axis=-1)} (smallest)")

    def _emission_params(self, device):
        return {"means": backend.to_device(self.means_, device), "covars": backend.to_device(self._covars_, device)}

    def _log_emission(self, X, params):
        """ln N(x_n | mu_k, Sigma_k): (B, T, K)."""
        xp = backend.array_module(X)
        means, covars, d = params["means"], params["covars"], X.shape[-1]
        if self.covariance_type in ("spherical", "diag"):
            var = covars[:, None] * xp.ones(d) if self.covariance_type == "spherical" else covars
            maha = (X ** 2) @ (1 / var).T - 2 * X @ (means / var).T + (means ** 2 / var).sum(axis=1)
            log_det = xp.log(var).sum(axis=1)
        else:
            full = xp.broadcast_to(covars, (self.n_components, d, d))
            inv_chol = xp.linalg.inv(xp.linalg.cholesky(full))  # Sigma^-1 = L^-T L^-1
            y = xp.einsum("btd,ked->btke", X, inv_chol) - xp.einsum("kd,ked->ke", means, inv_chol)
            maha = (y ** 2).sum(axis=-1)
            log_det = -2 * xp.log(xp.diagonal(inv_chol, axis1=1, axis2=2)).sum(axis=1)  # ln |Sigma_k|
        return -0.5 * (d * np.log(2 * np.pi) + log_det + maha)

    def _m_step_emissions(self, X, gamma, params):
        """mu_k = xbar_k = sum_n gamma_nk x_n / N_k;
        Sigma_k = sum_n gamma_nk (x_n - mu_k)(x_n - mu_k)^T / N_k + min_covar I
                = E_k[x x^T] - xbar_k mu_k^T - mu_k xbar_k^T + mu_k mu_k^T + min_covar I,
        around the new means, or around the old ones when "m" is not in ``params``.
        A state with N_k = 0 keeps its previous mean and covariance.
        """
        xp = backend.array_module(X)
        occupancy = gamma.sum(axis=(0, 1))  # N_k
        used = occupancy > 0
        xbar = xp.einsum("btk,btd->kd", gamma, X) / xp.where(used, occupancy, 1)[:, None]
        means = xp.where(used[:, None], xbar, params["means"]) if "m" in self.params else params["means"]
        if "c" in self.params:
            self._covars_ = backend.to_host(self._new_covars(X, gamma, occupancy, xbar, means, params["covars"]))
        if "m" in self.params:
            self.means_ = backend.to_host(means)

    def _new_covars(self, X, gamma, occupancy, xbar, means, old):
        """The covariances around ``means`` (see _m_step_emissions); ``old`` for unused states."""
        xp = backend.array_module(X)
        used = occupancy > 0
        safe = xp.where(used, occupancy, 1)[:, None]
        if self.covariance_type in ("spherical", "diag"):
            var = xp.einsum("btk,btd->kd", gamma, X ** 2) / safe - 2 * xbar * means + means ** 2
            var = xp.maximum(var, 0) + self.min_covar  # >= 0 but for rounding
            new = var.mean(axis=1) if self.covariance_type == "spherical" else var
            return xp.where(used if new.ndim == 1 else used[:, None], new, old)
        second = xp.einsum("btk,btd,bte->kde", gamma, X, X) / safe[:, :, None]  # E_k[x x^T]
        cross = xbar[:, :, None] * means[:, None, :]  # xbar_k mu_k^T
        centred = second - cross - cross.transpose(0, 2, 1) + means[:, :, None] * means[:, None, :]
        eye = self.min_covar * xp.eye(X.shape[-1])
        if self.covariance_type == "full":
            return xp.where(used[:, None, None], centred + eye, old)
        return (occupancy[:, None, None] * centred).sum(axis=0) / occupancy.sum() + eye  # tied: sum_k N_k Sigma_k / N

    def _sample_emissions(self, states, rng):
        chol = np.linalg.cholesky(self.covars_)
        eps = rng.standard_normal((len(states), self.means_.shape[1]))
        return self.means_[states] + np.einsum("nde,ne->nd", chol[states], eps)


def _kmeans(X, k, rng, n_iter=10):
    """k cluster centres of X (N, D): k rows drawn at random, then Lloyd's iterations (host NumPy)."""
    centres = X[rng.choice(len(X), size=k, replace=len(X) < k)].copy()
    for _ in range(n_iter):
        labels = ((X[:, None, :] - centres) ** 2).sum(axis=-1).argmin(axis=1)
        for j in range(k):
            if (labels == j).any():
                centres[j] = X[labels == j].mean(axis=0)
    return centres
