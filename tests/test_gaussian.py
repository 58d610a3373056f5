"""GaussianClassifier against closed forms: Bayes' theorem, the linear and quadratic discriminants (PRML 4.2)."""
import math
import pathlib
import sys
import warnings

import numpy as np
import pytest

from minigen import backend
from minigen.models.gaussian import GaussianClassifier

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
from bayes_classifier import train_logistic_regression  # noqa: E402

MEANS = np.array([[-1.0, 0.0], [1.5, 1.0], [0.0, 2.5]])
COVARIANCES = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, -0.2], [-0.2, 1.2]], [[0.3, 0.0], [0.0, 0.4]]])


def gaussian_data(n, K=3, shared=False, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=n)
    covariances = np.broadcast_to(COVARIANCES[0], (K, 2, 2)) if shared else COVARIANCES[:K]
    X = np.array([rng.multivariate_normal(MEANS[k], covariances[k]) for k in y])
    return X, y


def reference_log_density(X, mu, sigma):
    """ln N(x | mu, Sigma) written out: -D/2 ln 2pi - 1/2 ln|Sigma| - 1/2 (x - mu)^T Sigma^-1 (x - mu)."""
    diff = X - mu
    mahalanobis = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(sigma), diff)
    return -0.5 * (X.shape[1] * math.log(2 * math.pi) + np.log(np.linalg.det(sigma)) + mahalanobis)


def softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("covariance", ["shared", "full", "diag"])
def test_log_joint_equals_the_closed_form_gaussian_plus_log_prior(covariance):
    X, y = gaussian_data(300)
    model = GaussianClassifier(covariance).fit(X, y)
    sigmas = [model.covariance_] * 3 if covariance == "shared" else model.covariances_
    expected = np.stack([reference_log_density(X, model.means_[k], sigmas[k]) + np.log(model.priors_[k])
                         for k in range(3)], axis=1)
    np.testing.assert_allclose(model.log_joint(X), expected, rtol=1e-10, atol=1e-10)


def test_fitted_parameters_are_the_maximum_likelihood_estimates():
    X, y = gaussian_data(400)
    model = GaussianClassifier("full", reg=0).fit(X, y)
    for k in range(3):
        np.testing.assert_allclose(model.means_[k], X[y == k].mean(axis=0))
        np.testing.assert_allclose(model.covariances_[k], np.cov(X[y == k].T, bias=True))
        assert model.priors_[k] == pytest.approx(np.mean(y == k))
    shared = GaussianClassifier("shared", reg=0).fit(X, y)
    np.testing.assert_allclose(shared.covariance_, sum(np.mean(y == k) * model.covariances_[k] for k in range(3)))
    diag = GaussianClassifier("diag", reg=0).fit(X, y)
    np.testing.assert_allclose(diag.covariances_, model.covariances_ * np.eye(2))


def test_reg_is_added_to_the_covariance_diagonal():
    X, y = gaussian_data(200)
    plain = GaussianClassifier("full", reg=0).fit(X, y)
    regularized = GaussianClassifier("full", reg=0.5).fit(X, y)
    np.testing.assert_allclose(regularized.covariances_ - plain.covariances_,
                               np.broadcast_to(0.5 * np.eye(2), (3, 2, 2)))


def test_posterior_is_softmax_of_the_shared_covariance_linear_function():
    X, y = gaussian_data(500, shared=True)
    model = GaussianClassifier("shared").fit(X, y)
    W, b = model.linear_params()
    np.testing.assert_allclose(W, np.linalg.solve(model.covariance_, model.means_.T).T)  # w_k = Sigma^-1 mu_k
    np.testing.assert_allclose(model.predict_proba(X), softmax(X @ W.T + b), rtol=1e-10, atol=1e-12)


def test_two_class_posterior_is_a_sigmoid_of_a_linear_function():
    X, y = gaussian_data(500, K=2, shared=True)
    model = GaussianClassifier("shared").fit(X, y)
    w, w0 = model.linear_params_binary()
    sigma = 1 / (1 + np.exp(-(X @ w + w0)))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], sigma, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, np.linalg.solve(model.covariance_, model.means_[1] - model.means_[0]))


def test_probabilities_are_normalized_and_predict_takes_the_largest():
    X, y = gaussian_data(300)
    model = GaussianClassifier("full").fit(X, y + 10)  # labels need not be 0..K-1
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    np.testing.assert_array_equal(model.predict(X), np.array([10, 11, 12])[proba.argmax(axis=1)])
    assert (model.predict(X) == y + 10).mean() > 0.85


def test_posteriors_stay_finite_far_from_the_data():
    X, y = gaussian_data(200)
    proba = GaussianClassifier("full").fit(X, y).predict_proba(np.array([[1e3, -1e3]]))
    assert np.isfinite(proba).all() and proba.sum() == pytest.approx(1)


def log_odds_along_a_line(covariance):
    X, y = gaussian_data(600, K=2)
    model = GaussianClassifier(covariance).fit(X, y)
    t = np.linspace(-4, 4, 41)
    line = np.array([-0.5, 0.2]) + t[:, None] * np.array([0.8, 0.6])
    a = model.log_joint(line)
    return t, a[:, 1] - a[:, 0]


def test_per_class_covariances_give_log_odds_quadratic_in_x():
    t, log_odds = log_odds_along_a_line("full")
    quadratic = np.polynomial.polynomial.Polynomial.fit(t, log_odds, 2)
    np.testing.assert_allclose(quadratic(t), log_odds, atol=1e-9)
    linear = np.polynomial.polynomial.Polynomial.fit(t, log_odds, 1)
    assert np.abs(linear(t) - log_odds).max() > 0.1  # the x^2 term does not vanish


def test_shared_covariance_gives_log_odds_linear_in_x():
    t, log_odds = log_odds_along_a_line("shared")
    linear = np.polynomial.polynomial.Polynomial.fit(t, log_odds, 1)
    np.testing.assert_allclose(linear(t), log_odds, atol=1e-9)


def test_quadratic_params_reproduce_the_log_joint():
    X, y = gaussian_data(300)
    model = GaussianClassifier("full").fit(X, y)
    Q, W, c = model.quadratic_params()
    np.testing.assert_allclose(np.einsum("ni,kij,nj->nk", X, Q, X) + X @ W.T + c, model.log_joint(X), atol=1e-10)


def test_score_samples_is_a_density_that_integrates_to_one():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(-2, 0.5, 50), rng.normal(1, 1.5, 80)][:, None]
    y = np.r_[np.zeros(50), np.ones(80)]
    model = GaussianClassifier("full").fit(X, y)
    grid = np.linspace(-15, 15, 30001)[:, None]
    density = np.exp(model.score_samples(grid))
    assert np.trapezoid(density, grid[:, 0]) == pytest.approx(1, abs=1e-6)
    expected = np.logaddexp(*(reference_log_density(grid, model.means_[k], model.covariances_[k])
                              + np.log(model.priors_[k]) for k in range(2)))
    np.testing.assert_allclose(model.score_samples(grid), expected, rtol=1e-10)


def test_outliers_score_lower_than_inliers():
    X, y = gaussian_data(300)
    model = GaussianClassifier("full").fit(X, y)
    assert model.score_samples(np.array([[8.0, -8.0]]))[0] < model.score_samples(X).min()


def test_sample_recovers_means_covariances_and_priors():
    X, y = gaussian_data(300)
    model = GaussianClassifier("full", priors=[0.2, 0.3, 0.5]).fit(X, y)
    n = 40000
    Xs, ys = model.sample(n, random_state=0)
    assert Xs.shape == (n, 2) and ys.shape == (n,)
    # class frequencies: binomial standard error sqrt(p (1 - p) / n) <= 0.0025; allow 4 of them
    np.testing.assert_allclose(np.bincount(ys) / n, [0.2, 0.3, 0.5], atol=0.01)
    for k in range(3):
        Xk = Xs[ys == k]
        # mean of m draws: standard error sqrt(Sigma_ii / m) < 0.01 here; 5 standard errors
        se = np.sqrt(np.diag(model.covariances_[k]) / len(Xk))
        assert np.all(np.abs(Xk.mean(axis=0) - model.means_[k]) < 5 * se)
        # sample covariance: standard error of entry ij is sqrt((S_ii S_jj + S_ij^2) / m)
        S = model.covariances_[k]
        se_cov = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S ** 2) / len(Xk))
        assert np.all(np.abs(np.cov(Xk.T) - S) < 5 * se_cov)


def test_sample_of_one_class_and_seeded_repeatability():
    X, y = gaussian_data(200)
    model = GaussianClassifier("shared").fit(X, y)
    _, ys = model.sample(50, y=2, random_state=3)
    assert (ys == 2).all()
    np.testing.assert_array_equal(model.sample(20, random_state=7)[0], model.sample(20, random_state=7)[0])


def test_logistic_regression_by_autograd_approaches_the_generative_solution():
    """Both estimate the same (w, w0) when the classes are Gaussian with one covariance.

    The logistic MLE has standard errors sqrt(diag(H^-1)), H = sum_i p_i (1 - p_i) x~_i x~_i^T with
    x~ = (x, 1). The generative estimate is the efficient one (Efron 1975), so their difference has a
    variance below the logistic one: 5 standard errors bound it for this fixed seed.
    """
    X, y = gaussian_data(20000, K=2, shared=True, seed=2)
    w_gen, w0_gen = GaussianClassifier("shared").fit(X, y).linear_params_binary()
    W, b, losses = train_logistic_regression(X, y, 2, steps=400, lr=0.1)
    w_log, w0_log = W[1] - W[0], b[1] - b[0]
    x1 = np.column_stack([X, np.ones(len(X))])
    p = 1 / (1 + np.exp(-(x1 @ np.append(w_log, w0_log))))
    gradient = x1.T @ (p - y) / len(X)
    assert np.abs(gradient).max() < 1e-5, f"Adam did not reach the logistic MLE: gradient {gradient}"
    standard_errors = np.sqrt(np.diag(np.linalg.inv((x1 * (p * (1 - p))[:, None]).T @ x1)))
    gap = np.append(w_log, w0_log) - np.append(w_gen, w0_gen)
    assert np.all(np.abs(gap) < 5 * standard_errors), (gap, standard_errors)


def test_works_on_the_array_module_of_its_input(device):
    X, y = gaussian_data(200)
    model = GaussianClassifier("full").fit(backend.to_device(X, device), backend.to_device(y, device))
    Xd = backend.to_device(X, backend.canonical_device(device))
    for result in (model.log_joint(Xd), model.predict_proba(Xd), model.predict(Xd), model.score_samples(Xd),
                   model.sample(5, random_state=0)[0]):
        assert backend.array_module(result) is backend.array_module(Xd)
    reference = GaussianClassifier("full").fit(X, y)
    np.testing.assert_allclose(backend.to_host(model.log_joint(Xd)), reference.log_joint(X), rtol=1e-9)


@pytest.mark.parametrize("kwargs, X, y, message", [
    (dict(covariance="spherical"), np.zeros((4, 2)), [0, 0, 1, 1], "covariance must be one of"),
    ({}, np.zeros(4), [0, 0, 1, 1], r"X must be 2-D .* got shape \(4,\)"),
    ({}, np.zeros((4, 2)), [0, 1, 1], r"X has 4 rows, y has shape \(3,\)"),
    ({}, np.zeros((4, 2)), [1, 1, 1, 1], r"at least 2 classes, got 1: \[1\]"),
    (dict(priors=[0.5, 0.6]), np.zeros((4, 2)), [0, 0, 1, 1], r"summing to 1 .* got \[0.5, 0.6\]"),
    (dict(priors=[1.0]), np.zeros((4, 2)), [0, 0, 1, 1], r"2 non-negative numbers"),
    (dict(reg=-1), np.zeros((4, 2)), [0, 0, 1, 1], "reg must be a non-negative number, got -1"),
    (dict(reg=float("nan")), np.zeros((4, 2)), [0, 0, 1, 1], "reg must be a non-negative number, got nan"),
    ({}, np.array([[0.0, 0], [1, np.nan], [2, 2], [3, 3]]), [0, 0, 1, 1], r"X must be finite: 1 row.* at row 1"),
    (dict(covariance="full", reg=0), np.array([[0.0, 0], [1, 1], [2, 2], [5, 5]]), [0, 0, 1, 1],
     r"covariance of class 0 is singular .* reg \(now 0\)"),
    (dict(covariance="shared", reg=0), np.array([[0.0, 0], [1, 1], [2, 2], [5, 5]]), [0, 0, 1, 1],
     "shared covariance is singular"),
])
def test_bad_input_is_refused_with_a_message_naming_it(kwargs, X, y, message):
    with pytest.raises(ValueError, match=message):
        GaussianClassifier(**kwargs).fit(X, y)


def test_constructor_arguments_are_stored_untouched_and_fit_returns_self():
    priors = [0.25, 0.75]
    model = GaussianClassifier("diag", priors=priors, reg=0.1)
    assert (model.covariance, model.priors, model.reg) == ("diag", priors, 0.1)
    X, y = gaussian_data(50, K=2)
    assert model.fit(X, y) is model and model.priors is priors


def test_methods_before_fit_raise_a_clear_error():
    model = GaussianClassifier()
    for call in (lambda: model.predict(np.zeros((1, 2))), model.linear_params, lambda: model.sample(1)):
        with pytest.raises(RuntimeError, match="not fitted yet: call fit"):
            call()


def test_predict_checks_the_number_of_features():
    X, y = gaussian_data(50)
    with pytest.raises(ValueError, match="X has 3 features but the classifier was fitted with 2"):
        GaussianClassifier().fit(X, y).predict(np.zeros((1, 3)))


def test_predict_refuses_rows_that_are_not_finite():
    X, y = gaussian_data(50)
    with pytest.raises(ValueError, match=r"2 row\(s\) hold nan or inf, the first at row 1"):
        GaussianClassifier().fit(X, y).predict(np.array([[0.0, 0.0], [np.nan, 0.0], [np.inf, 0.0]]))


def test_reg_may_be_a_numpy_number_and_a_zero_prior_never_wins_without_a_warning():
    X, y = gaussian_data(50)
    model = GaussianClassifier(reg=np.float32(1e-3), priors=[0.0, 0.5, 0.5]).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(X)
    assert (proba[:, 0] == 0).all() and np.allclose(proba.sum(axis=1), 1)


def test_linear_params_need_a_shared_covariance_and_binary_needs_two_classes():
    X, y = gaussian_data(100)
    with pytest.raises(ValueError, match='needs covariance="shared"'):
        GaussianClassifier("full").fit(X, y).linear_params()
    with pytest.raises(ValueError, match="needs 2 classes, the classifier has 3"):
        GaussianClassifier("shared").fit(X, y).linear_params_binary()


def test_features_whose_covariance_overflows_are_named_as_the_cause():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 2)) * 1e200, np.repeat([0, 1], 20)
    with pytest.raises(ValueError, match=r"the covariance overflows float64: X's values reach \d\.\d+e\+200"):
        GaussianClassifier().fit(X, y)


def test_reg_0_with_collinear_features_raises_as_documented():
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 200))
    X, y = np.c_[a, b, c, a + b + c], np.repeat([0, 1], 100)  # rounding leaves a pivot of 6e-16, not 0
    with pytest.raises(ValueError, match=r"the shared covariance is singular \(smallest eigenvalue .*\): .*feature 3 "
                                         r".*reg \(now 0\)"):
        GaussianClassifier(reg=0).fit(X, y)
    GaussianClassifier().fit(X, y)  # the default reg makes it positive definite
