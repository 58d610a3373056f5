"""BernoulliNB and GaussianNB against sums written out, brute-force counts, and scikit-learn."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.models.gaussian import GaussianClassifier
from minigen.models.naive_bayes import BernoulliNB, GaussianNB, bernoulli_nb_log_posterior


def binary_data(n=300, D=12, K=3, seed=0):
    """Pixels in [0, 1] whose chance of being above 0.5 depends on the class; labels 0..K-1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=n)
    p = rng.uniform(0.05, 0.95, size=(K, D))
    on = rng.random((n, D)) < p[y]
    return np.where(on, rng.uniform(0.5, 1.0, (n, D)), rng.uniform(0.0, 0.5, (n, D))), y


def gaussian_data(n=300, D=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=n)
    return rng.normal(size=(n, D)) * rng.uniform(0.5, 2.0, size=(K, D))[y] + y[:, None], y


def test_probabilities_are_the_counts_plus_alpha():
    X, y = binary_data()
    model = BernoulliNB(alpha=0.5).fit(X, y)
    for k in range(3):
        on = (X[y == k] > 0.5).sum(axis=0)
        np.testing.assert_allclose(np.exp(model.feature_log_prob_[k]), (on + 0.5) / ((y == k).sum() + 1.0))
        assert math.exp(model.class_log_prior_[k]) == pytest.approx(np.mean(y == k))
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


def test_posterior_is_bayes_theorem_over_the_product_of_bernoullis():
    X, y = binary_data(n=40, D=6)
    model = BernoulliNB().fit(X, y)
    p, prior = np.exp(model.feature_log_prob_), np.exp(model.class_log_prior_)
    x = (X > 0.5).astype(float)
    likelihood = np.stack([np.prod(p[k] ** x * (1 - p[k]) ** (1 - x), axis=1) for k in range(3)], axis=1)
    joint = likelihood * prior
    np.testing.assert_allclose(model.predict_proba(X), joint / joint.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), joint.argmax(axis=1))


def test_log_posterior_is_finite_where_the_product_underflows():
    rng = np.random.default_rng(1)
    feature_log_prob = np.log(rng.uniform(0.01, 0.99, size=(2, 2000)))
    X = (rng.random((3, 2000)) < 0.5).astype(float)  # ln p(x | C_k) is near -1400: exp underflows to 0
    log_posterior = bernoulli_nb_log_posterior(X, feature_log_prob, np.log([0.3, 0.7]))
    assert np.isfinite(log_posterior).all()
    np.testing.assert_allclose(np.exp(log_posterior).sum(axis=1), 1)


def test_fit_prior_and_class_prior():
    X, y = binary_data()
    np.testing.assert_allclose(BernoulliNB(fit_prior=False).fit(X, y).class_log_prior_, np.log([1 / 3] * 3))
    given = BernoulliNB(class_prior=[0.2, 0.3, 0.5]).fit(X, y)
    np.testing.assert_allclose(given.class_log_prior_, np.log([0.2, 0.3, 0.5]))


def test_binarize_none_takes_zeros_and_ones_as_they_are():
    X, y = binary_data()
    x = (X > 0.5).astype(float)
    np.testing.assert_allclose(BernoulliNB(binarize=None).fit(x, y).feature_log_prob_,
                               BernoulliNB().fit(X, y).feature_log_prob_)
    with pytest.raises(ValueError, match="only 0s and 1s when binarize=None"):
        BernoulliNB(binarize=None).fit(X, y)


def test_samples_have_the_pixel_frequencies_of_their_class():
    X, y = binary_data()
    model = BernoulliNB().fit(X, y)
    samples = model.sample(2, n=20000, random_state=0)
    assert samples.shape == (20000, 12) and set(np.unique(samples)) <= {0.0, 1.0}
    # 20,000 Bernoulli draws per pixel: standard error <= 0.0036; 5 of them
    np.testing.assert_allclose(samples.mean(axis=0), np.exp(model.feature_log_prob_[2]), atol=0.018)
    np.testing.assert_array_equal(samples[:5], model.sample(2, n=5, random_state=0)[:5])
    assert model.sample(0, random_state=0).shape == (1, 12)


def test_samples_are_classified_as_their_class():
    X, y = binary_data(D=60)
    model = BernoulliNB().fit(X, y)
    for k in range(3):
        assert (model.predict(model.sample(k, n=50, random_state=k)) == k).mean() > 0.9


def test_gaussian_nb_is_the_diagonal_gaussian_classifier():
    X, y = gaussian_data()
    nb = GaussianNB(var_smoothing=0).fit(X, y)
    diag = GaussianClassifier("diag", reg=0).fit(X, y)
    np.testing.assert_allclose(nb.log_joint(X), diag.log_joint(X))
    np.testing.assert_allclose(nb.theta_, diag.means_)
    np.testing.assert_allclose(nb.var_, np.diagonal(diag.covariances_, axis1=1, axis2=2))
    np.testing.assert_allclose(nb.class_prior_, diag.priors_)


def test_gaussian_nb_log_joint_is_the_sum_of_one_dimensional_gaussians():
    X, y = gaussian_data()
    nb = GaussianNB().fit(X, y)
    expected = np.stack([(-0.5 * np.log(2 * np.pi * nb.var_[k]) - (X - nb.theta_[k]) ** 2 / (2 * nb.var_[k])).sum(1)
                         + np.log(nb.class_prior_[k]) for k in range(3)], axis=1)
    np.testing.assert_allclose(nb.log_joint(X), expected, rtol=1e-10)
    assert nb.epsilon_ == pytest.approx(1e-9 * X.var(axis=0).max())


def test_bernoulli_nb_predicts_as_scikit_learn():
    naive_bayes = pytest.importorskip("sklearn.naive_bayes")
    X, y = binary_data(n=400, D=30, K=4)
    Xt, _ = binary_data(n=200, D=30, K=4, seed=1)
    for kwargs in (dict(), dict(alpha=0.1, fit_prior=False), dict(alpha=2.0, class_prior=[0.1, 0.2, 0.3, 0.4])):
        ours = BernoulliNB(**kwargs).fit(X, y)
        theirs = naive_bayes.BernoulliNB(binarize=0.5, **kwargs).fit(X, y)
        np.testing.assert_allclose(ours.feature_log_prob_, theirs.feature_log_prob_, rtol=1e-12)
        np.testing.assert_allclose(ours.class_log_prior_, theirs.class_log_prior_, rtol=1e-12)
        np.testing.assert_allclose(ours.predict_log_proba(Xt), theirs.predict_log_proba(Xt), rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(ours.predict(Xt), theirs.predict(Xt))


def test_gaussian_nb_predicts_as_scikit_learn():
    naive_bayes = pytest.importorskip("sklearn.naive_bayes")
    X, y = gaussian_data(n=400, D=8, K=4)
    Xt, _ = gaussian_data(n=200, D=8, K=4, seed=1)
    for kwargs in (dict(), dict(var_smoothing=1e-3, priors=[0.1, 0.2, 0.3, 0.4])):
        ours = GaussianNB(**kwargs).fit(X, y)
        theirs = naive_bayes.GaussianNB(**kwargs).fit(X, y)
        for name in ("theta_", "var_", "class_prior_", "epsilon_"):
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(ours.predict_proba(Xt), theirs.predict_proba(Xt), rtol=1e-8, atol=1e-12)
        np.testing.assert_array_equal(ours.predict(Xt), theirs.predict(Xt))


def test_works_on_the_array_module_of_its_input(device):
    X, y = binary_data()
    Xd, yd = backend.to_device(X, device), backend.to_device(y, device)
    xp = backend.array_module(Xd)
    model = BernoulliNB().fit(Xd, yd)
    for result in (model.feature_log_prob_, model.predict_proba(Xd), model.predict(Xd), model.sample(1, n=3)):
        assert backend.array_module(result) is xp
    np.testing.assert_allclose(backend.to_host(model.predict_log_proba(Xd)),
                               BernoulliNB().fit(X, y).predict_log_proba(X), rtol=1e-12)
    gaussian = GaussianNB().fit(Xd, yd)
    assert backend.array_module(gaussian.var_) is xp and backend.array_module(gaussian.predict(Xd)) is xp


@pytest.mark.parametrize("model, X, y, message", [
    (BernoulliNB(alpha=0), np.zeros((4, 2)), [0, 0, 1, 1], "alpha must be a positive number"),
    (BernoulliNB(binarize="half"), np.zeros((4, 2)), [0, 0, 1, 1], "binarize must be a number or None, got 'half'"),
    (BernoulliNB(), np.zeros(4), [0, 0, 1, 1], r"X must be 2-D .* got shape \(4,\)"),
    (BernoulliNB(), np.zeros((4, 2)), [0, 1, 1], r"X has 4 rows, y has shape \(3,\)"),
    (BernoulliNB(), np.zeros((4, 2)), [1, 1, 1, 1], r"at least 2 classes, got 1: \[1\]"),
    (BernoulliNB(class_prior=[0.5, 0.6]), np.zeros((4, 2)), [0, 0, 1, 1], "class_prior must be 2 non-negative"),
    (GaussianNB(var_smoothing=-1), np.eye(4), [0, 0, 1, 1], "var_smoothing must be a non-negative number"),
    (GaussianNB(), np.ones((4, 2)), [0, 0, 1, 1], "every feature of X is constant"),
])
def test_bad_input_is_refused_with_a_message_naming_it(model, X, y, message):
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_methods_before_fit_and_bad_sample_arguments_are_refused():
    with pytest.raises(RuntimeError, match=r"not fitted yet: call fit\(X, y\)"):
        BernoulliNB().predict(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="not fitted yet"):
        BernoulliNB().sample(0)
    model = BernoulliNB().fit(*binary_data())
    with pytest.raises(ValueError, match=r"class_ must be one of the classes \[0, 1, 2\], got 7"):
        model.sample(7)
    with pytest.raises(ValueError, match="n must be a non-negative integer, got -1"):
        model.sample(0, n=-1)
    with pytest.raises(ValueError, match="X has 3 features but the classifier was fitted with 12"):
        model.predict(np.zeros((1, 3)))
