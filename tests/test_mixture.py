"""GaussianMixture against exact answers: densities and responsibilities summed by hand, scikit-learn's
EM step by step from the same start, the Fisher identity by autograd; EM never lowers ln p(X)."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.models.mixture import GaussianMixture, e_step, m_step, precision_cholesky

TYPES = ["full", "tied", "diag", "spherical"]


def blobs(n=300, seed=0, spread=1.0):
    """Three overlapping 2-D clusters of n points in all, unequal sizes and shapes."""
    rng = np.random.default_rng(seed)
    sizes = [n // 2, n // 3, n - n // 2 - n // 3]
    centres = np.array([[0.0, 0.0], [2.5, 1.0], [0.5, 3.0]]) * spread
    shapes = [np.array([[1.0, 0.6], [0.0, 0.8]]), np.eye(2) * 0.7, np.array([[0.5, 0.0], [-0.4, 1.2]])]
    return np.concatenate([rng.standard_normal((m, 2)) @ A + c for m, A, c in zip(sizes, shapes, centres)])


def full_covariances(model):
    """Sigma_k as (K, D, D) matrices from the compact covariances_."""
    Sigma, (K, D) = np.asarray(model.covariances_), model.means_.shape
    return {"full": lambda: Sigma, "tied": lambda: np.broadcast_to(Sigma, (K, D, D)),
            "diag": lambda: np.stack([np.diag(v) for v in Sigma]),
            "spherical": lambda: Sigma[:, None, None] * np.eye(D)}[model.covariance_type]()


def brute_force_joint(model, X):
    """pi_k N(x_n | mu_k, Sigma_k) for every n and k by loops, the textbook formula with det and inv."""
    Sigma = full_covariances(model)
    joint = np.zeros((len(X), model.n_components))
    for n, x in enumerate(X):
        for k in range(model.n_components):
            d = x - model.means_[k]
            norm = math.sqrt((2 * math.pi) ** len(x) * np.linalg.det(Sigma[k]))
            joint[n, k] = model.weights_[k] * math.exp(-0.5 * d @ np.linalg.inv(Sigma[k]) @ d) / norm
    return joint


# ---------------------------------------------------------------- exact answers
@pytest.mark.parametrize("covariance_type", TYPES)
def test_score_samples_and_predict_proba_equal_the_sums_by_hand(covariance_type):
    X = blobs(60)
    model = GaussianMixture(3, covariance_type=covariance_type, max_iter=3, random_state=0).fit(X)
    joint = brute_force_joint(model, X[:12])
    np.testing.assert_allclose(model.score_samples(X[:12]), np.log(joint.sum(axis=1)), rtol=1e-10)
    np.testing.assert_allclose(model.predict_proba(X[:12]), joint / joint.sum(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_array_equal(model.predict(X[:12]), joint.argmax(axis=1))
    assert model.score(X[:12]) == pytest.approx(np.log(joint.sum(axis=1)).mean(), rel=1e-10)


def test_responsibilities_stay_finite_where_every_density_underflows():
    model = GaussianMixture(2, covariance_type="diag", random_state=0).fit(blobs(100))
    far = np.array([[300.0, -200.0], [1e4, 1e4]])  # each pi_k N(x | ...) is exp(-1e4) or less: 0 in float64
    gamma = model.predict_proba(far)
    assert np.isfinite(gamma).all() and np.allclose(gamma.sum(axis=1), 1)
    assert np.isfinite(model.score_samples(far)).all()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_m_step_gives_the_weighted_estimates_of_pattern_recognition_9_24_to_9_27(covariance_type):
    rng = np.random.default_rng(1)
    X, gamma = rng.standard_normal((7, 3)), rng.dirichlet(np.ones(2), size=7)
    pi, mu, Sigma = m_step(X, gamma, covariance_type, reg_covar=0.01)
    N_k = gamma.sum(axis=0)
    expected_mu = np.array([sum(gamma[n, k] * X[n] for n in range(7)) / N_k[k] for k in range(2)])
    scatter = np.array([sum(gamma[n, k] * np.outer(X[n] - expected_mu[k], X[n] - expected_mu[k]) for n in range(7))
                        / N_k[k] for k in range(2)])
    expected = {"full": scatter + 0.01 * np.eye(3), "tied": (N_k[:, None, None] * scatter).sum(0) / 7 + 0.01 * np.eye(3),
                "diag": np.diagonal(scatter, axis1=1, axis2=2) + 0.01,
                "spherical": np.diagonal(scatter, axis1=1, axis2=2).mean(axis=1) + 0.01}[covariance_type]
    np.testing.assert_allclose(pi, N_k / 7, rtol=1e-12)
    np.testing.assert_allclose(mu, expected_mu, rtol=1e-12)
    np.testing.assert_allclose(Sigma, expected, rtol=1e-10, atol=1e-14)


def test_precision_cholesky_factors_the_inverse_covariance():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 4, 4))
    Sigma = A @ A.transpose(0, 2, 1) + np.eye(4)
    U = precision_cholesky(Sigma, "full", 0)
    np.testing.assert_allclose(U @ U.transpose(0, 2, 1), np.linalg.inv(Sigma), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- scikit-learn, step by step
def _start(covariance_type, K, D, seed):
    """Weights, means and precisions (compact) to start both EMs from."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, D, D)) * 0.3
    P = A @ A.transpose(0, 2, 1) + np.eye(D)
    precisions = {"full": P, "tied": P[0], "diag": rng.uniform(0.5, 2, (K, D)),
                  "spherical": rng.uniform(0.5, 2, K)}[covariance_type]
    return rng.dirichlet(np.ones(K) * 5), rng.standard_normal((K, D)) * 2, precisions


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", TYPES)
def test_every_em_step_has_scikit_learns_log_likelihood(covariance_type):
    mixture = pytest.importorskip("sklearn.mixture")
    X = blobs(300)
    weights, means, precisions = _start(covariance_type, 3, 2, seed=3)
    options = dict(covariance_type=covariance_type, max_iter=12, tol=0, weights_init=weights, means_init=means,
                   precisions_init=precisions, random_state=0)
    ours = GaussianMixture(3, **options).fit(X)
    theirs = mixture.GaussianMixture(3, **options).fit(X)
    assert len(ours.lower_bounds_) == len(theirs.lower_bounds_) == 12
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-9)
    np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random"])
def test_em_never_lowers_the_log_likelihood(covariance_type, init_params):
    model = GaussianMixture(4, covariance_type=covariance_type, init_params=init_params, tol=0, max_iter=25,
                            random_state=1).fit(blobs(200, seed=4))
    steps = np.diff(model.lower_bounds_)
    assert (steps >= -1e-12).all(), steps


# ---------------------------------------------------------------- the Fisher identity
def test_autograd_gradient_in_the_means_equals_the_responsibility_weighted_statistics():
    """d ln p(X) / d mu_k = Sigma_k^-1 sum_n gamma(z_nk) (x_n - mu_k) = Sigma_k^-1 (sum_n gamma_nk x_n - N_k mu_k)."""
    X = blobs(40, seed=5)
    pi, mu, P = _start("full", 3, 2, seed=6)
    U = np.linalg.cholesky(P)
    log_norm = -0.5 * 2 * math.log(2 * math.pi) + np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    mu_t = mg.tensor(mu, requires_grad=True)
    diff = mg.tensor(X).unsqueeze(1) - mu_t.unsqueeze(0)                          # (N, K, D)
    maha = mg.einsum("nkd,kde,nke->nk", diff, mg.tensor(P), diff)
    log_likelihood = mg.logsumexp(mg.tensor(np.log(pi) + log_norm) - 0.5 * maha, dim=1).sum()
    (grad,) = mg.grad(log_likelihood, [mu_t])
    _, log_gamma = e_step(X, pi, mu, U, "full")
    gamma = np.exp(log_gamma)
    statistics = gamma.T @ X - gamma.sum(axis=0)[:, None] * mu                   # sum_n gamma_nk (x_n - mu_k)
    np.testing.assert_allclose(grad.numpy(), np.einsum("kde,ke->kd", P, statistics), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- sampling, restarts, devices
def test_sample_draws_from_the_fitted_mixture():
    model = GaussianMixture(3, random_state=0).fit(blobs(300))
    model.random_state = 7
    X, z = model.sample(60_000)
    assert X.shape == (60_000, 2) and (np.diff(z) >= 0).all()  # grouped by component, as scikit-learn's
    np.testing.assert_allclose(np.bincount(z) / len(z), model.weights_, atol=0.01)
    for k in range(3):
        np.testing.assert_allclose(X[z == k].mean(axis=0), model.means_[k], atol=0.05)
        np.testing.assert_allclose(np.cov(X[z == k].T), model.covariances_[k], atol=0.06)
    np.testing.assert_array_equal(model.sample(5)[0], model.sample(5)[0])  # an int random_state repeats


def test_more_starts_never_end_lower():
    X = blobs(200, seed=8, spread=0.6)
    one = GaussianMixture(5, init_params="random", random_state=3).fit(X)
    many = GaussianMixture(5, init_params="random", n_init=4, random_state=3).fit(X)
    assert many.lower_bound_ >= one.lower_bound_  # the first of the four starts is the single start


@pytest.mark.parametrize("covariance_type", TYPES)
def test_runs_on_the_device_of_its_input(device, covariance_type):
    X = blobs(120)
    Xd = backend.to_device(X, device)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(Xd)
    reference = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    assert model.device == backend.canonical_device(device)
    for result in (model.means_, model.score_samples(Xd), model.predict_proba(Xd), model.predict(Xd),
                   model.sample(4)[0]):
        assert backend.device_of(result) == backend.canonical_device(device)
    np.testing.assert_allclose(backend.to_host(model.score_samples(Xd)), reference.score_samples(X), rtol=1e-9)
    assert model.n_iter_ == reference.n_iter_


# ---------------------------------------------------------------- degenerate input
@pytest.mark.parametrize("kwargs, X, message", [
    ({"n_components": 5}, np.zeros((3, 2)), r"fewer points than components: X has 3 rows, n_components=5"),
    ({}, np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), r"X must be finite: 1 row.* nan or inf, the first at row 1"),
    ({}, np.zeros(4), r"X must be 2-D .* got shape \(4,\)"),
    ({"covariance_type": "ful"}, np.zeros((4, 2)), "covariance_type must be one of"),
    ({"init_params": "kmean"}, np.zeros((4, 2)), "init_params must be one of"),
    ({"n_components": 0}, np.zeros((4, 2)), "GaussianMixture: n_components must be a positive int, got 0"),
    ({"reg_covar": -1.0}, np.zeros((4, 2)), "GaussianMixture: reg_covar must be >= 0, got -1.0"),
    ({"weights_init": [0.5, 0.6]}, np.ones((4, 2)) + np.arange(4)[:, None], "summing to 1"),
])
def test_bad_input_is_refused_with_a_message_naming_it(kwargs, X, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(**{"n_components": 2, **kwargs}).fit(X)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_a_collapsing_component_is_named_with_reg_covar_as_the_remedy(device, covariance_type):
    # component 1 starts on three equal points, so far from the rest that its other responsibilities
    # underflow to 0: after one M step it is a point mass (the tied covariance: all points on a line)
    X = np.array([[40.0, 41.0], [43.0, 40.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [42.0, 45.0]])
    if covariance_type == "tied":
        X = np.array([[40.0, 40.0], [41.0, 41.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [43.0, 43.0]])
    precisions = {"full": np.eye(2)[None].repeat(2, 0), "tied": np.eye(2), "diag": np.ones((2, 2)),
                  "spherical": np.ones(2)}[covariance_type]
    start = dict(covariance_type=covariance_type, weights_init=[0.5, 0.5], means_init=[[41.0, 42.0], [0.0, 0.0]],
                 precisions_init=precisions)
    which = "the tied covariance" if covariance_type == "tied" else "component 1"
    with pytest.raises(ValueError, match=rf"{which} collapsed: .*Raise reg_covar \(now 0\)"):
        GaussianMixture(2, reg_covar=0, **start).fit(backend.to_device(X, device))
    assert np.isfinite(GaussianMixture(2, reg_covar=1e-3, **start).fit(backend.to_device(X, device)).lower_bound_)


def test_methods_before_fit_and_wrong_features_raise_clear_errors():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        GaussianMixture(2).predict(np.zeros((3, 2)))
    model = GaussianMixture(2, random_state=0).fit(blobs(50))
    with pytest.raises(ValueError, match="X has 3 features but the mixture was fitted with 2"):
        model.score_samples(np.zeros((4, 3)))


@pytest.mark.parametrize("failure", ["nan", "partial"])
def test_a_collapse_is_caught_whatever_cholesky_returns_on_a_gpu(standin, failure):
    import strict_cupy
    strict_cupy.set_cholesky_failure(failure)
    try:
        X = np.array([[40.0, 41.0], [43.0, 40.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [42.0, 45.0]])
        model = GaussianMixture(2, reg_covar=0, weights_init=[0.5, 0.5], means_init=[[41.0, 42.0], [0.0, 0.0]],
                                precisions_init=np.eye(2)[None].repeat(2, 0))
        with pytest.raises(ValueError, match="component 1 collapsed"):
            model.fit(backend.to_device(X, "cuda:1"))
    finally:
        strict_cupy.set_cholesky_failure("nan")
