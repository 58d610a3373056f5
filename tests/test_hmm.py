"""CategoricalHMM and GaussianHMM: EM never decreases the likelihood, known models are recovered, bad input is refused."""
import itertools

import numpy as np
import pytest

from minigen.models.hmm import CategoricalHMM, GaussianHMM

IMPLEMENTATIONS = ["scaling", "log"]


def known_categorical():
    model = CategoricalHMM(3, n_features=4)
    model.startprob_ = np.array([0.6, 0.3, 0.1])
    model.transmat_ = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6]])
    model.emissionprob_ = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    return model


def samples(model, n_sequences, length, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([model.sample(length, random_state=rng)[0] for _ in range(n_sequences)])
    return X, [length] * n_sequences


def assert_never_decreases(history):
    assert len(history) > 1
    assert (np.diff(history) >= -1e-8 * np.abs(history[1:])).all(), history


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_categorical_em_log_likelihood_never_decreases(implementation):
    X, lengths = samples(known_categorical(), 20, 50)
    model = CategoricalHMM(3, n_iter=30, tol=-np.inf, implementation=implementation, random_state=1).fit(X, lengths)
    assert len(model.monitor_.history) == 30 and not model.monitor_.converged
    assert_never_decreases(model.monitor_.history)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
def test_gaussian_em_log_likelihood_never_decreases(implementation, covariance_type):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (60, 2)), rng.normal(4, 0.5, (60, 2)), rng.normal(-3, 2, (60, 2))])
    model = GaussianHMM(3, covariance_type, n_iter=20, tol=-np.inf, implementation=implementation,
                        random_state=0).fit(X, [70, 50, 60])
    assert_never_decreases(model.monitor_.history)
    assert model.covars_.shape == (3, 2, 2) and np.isfinite(model.covars_).all()


def fixed_means_model(covariance_type, n_iter, means=((0.0, 0.0), (1.0, 1.0))):
    model = GaussianHMM(2, covariance_type, params="stc", init_params="", n_iter=n_iter, tol=-np.inf)
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
    model.means_ = np.array(means)
    model.covars_ = {"full": np.stack([np.eye(2)] * 2), "diag": np.ones((2, 2)), "spherical": np.ones(2),
                     "tied": np.eye(2)}[covariance_type]
    return model


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
def test_covariances_are_taken_around_the_fixed_means_when_means_are_not_learned(covariance_type):
    X = np.random.default_rng(0).normal(3, 1, (200, 2))  # far from both fixed means
    model = fixed_means_model(covariance_type, n_iter=1)
    _, gamma = model.score_samples(X)
    diffs = X[:, None, :] - model.means_  # (N, K, D)
    scatter = np.einsum("nk,nkd,nke->kde", gamma, diffs, diffs)  # sum_n gamma_nk (x_n - mu_k)(x_n - mu_k)^T
    expected = {"full": scatter / gamma.sum(axis=0)[:, None, None],
                "diag": scatter * np.eye(2) / gamma.sum(axis=0)[:, None, None],
                "tied": np.broadcast_to(scatter.sum(axis=0) / len(X), (2, 2, 2))}
    expected["spherical"] = np.trace(expected["diag"], axis1=1, axis2=2)[:, None, None] / 2 * np.eye(2)
    model.fit(X)
    np.testing.assert_allclose(model.covars_, expected[covariance_type] + model.min_covar * np.eye(2), rtol=1e-10)
    np.testing.assert_array_equal(model.means_, [[0.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical", "tied"])
def test_em_with_fixed_means_never_decreases_the_likelihood(covariance_type):
    X = np.random.default_rng(0).normal(3, 1, (200, 2))  # one fixed mean fits, the other does not
    model = fixed_means_model(covariance_type, n_iter=10, means=((3.0, 3.0), (0.0, 0.0))).fit(X)
    assert_never_decreases(model.monitor_.history)


def test_scaling_and_log_fit_the_same_model():
    X, lengths = samples(known_categorical(), 10, 40)
    fits = [CategoricalHMM(3, n_iter=5, tol=-np.inf, implementation=i, random_state=2).fit(X, lengths)
            for i in IMPLEMENTATIONS]
    np.testing.assert_allclose(fits[0].monitor_.history, fits[1].monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(fits[0].transmat_, fits[1].transmat_, atol=1e-10)


def best_permutation(estimated, true):
    """The state order of ``estimated`` (K, ...) closest to ``true``."""
    return min(itertools.permutations(range(len(true))), key=lambda p: np.abs(estimated[list(p)] - true).sum())


def test_categorical_recovers_a_known_model_from_its_samples():
    # 20,000 steps: a transition probability is estimated from ~6,000 visits of its state, a
    # standard error below 0.01; 0.05 leaves room for EM's local optimum and the hidden states.
    true = known_categorical()
    X, lengths = samples(true, 200, 100)
    model = CategoricalHMM(3, n_iter=200, tol=1e-6, random_state=0).fit(X, lengths)
    p = list(best_permutation(model.emissionprob_, true.emissionprob_))
    np.testing.assert_allclose(model.emissionprob_[p], true.emissionprob_, atol=0.05)
    np.testing.assert_allclose(model.transmat_[np.ix_(p, p)], true.transmat_, atol=0.05)
    np.testing.assert_allclose(model.startprob_[p], true.startprob_, atol=0.1)  # from 200 first steps only


def test_gaussian_recovers_known_means_and_covariances():
    true = GaussianHMM(2, "full")
    true.startprob_, true.transmat_ = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
    true.means_ = np.array([[0.0, 0.0], [5.0, 5.0]])
    true.covars_ = np.array([[[1.0, 0.5], [0.5, 1.0]], [[2.0, 0.0], [0.0, 0.5]]])
    rng = np.random.default_rng(0)
    X = np.concatenate([true.sample(100, random_state=rng)[0] for _ in range(50)])
    model = GaussianHMM(2, "full", n_iter=100, random_state=0).fit(X, [100] * 50)
    p = list(best_permutation(model.means_, true.means_))
    np.testing.assert_allclose(model.means_[p], true.means_, atol=0.1)  # 5,000 points: std error ~0.02
    np.testing.assert_allclose(model.covars_[p], true.covars_, atol=0.15)
    np.testing.assert_allclose(model.transmat_[np.ix_(p, p)], true.transmat_, atol=0.05)


def test_left_to_right_zeros_survive_em():
    model = CategoricalHMM(3, n_iter=20, init_params="e", random_state=0)
    model.startprob_ = np.array([1.0, 0.0, 0.0])
    model.transmat_ = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    X = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2, 2, 2])[:, None]
    model.fit(X, [7, 5])
    assert model.startprob_[1:].tolist() == [0, 0]
    assert model.transmat_[np.tril_indices(3, -1)].tolist() == [0, 0, 0] and model.transmat_[0, 2] == 0


def test_state_never_visited_keeps_finite_parameters():
    model = CategoricalHMM(3, n_iter=5, init_params="e", random_state=0)
    model.startprob_ = np.array([0.5, 0.5, 0.0])
    model.transmat_ = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.4, 0.3, 0.3]])
    model.fit(np.array([0, 1, 2, 1, 0, 0])[:, None])
    for p in (model.startprob_, model.transmat_, model.emissionprob_):
        assert np.isfinite(p).all()
    np.testing.assert_allclose(model.transmat_[2], [0.4, 0.3, 0.3])  # no counts: kept


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_score_decode_predict_and_sample_agree(implementation):
    model = known_categorical()
    model.implementation = implementation
    X, states = model.sample(30, random_state=0)
    assert X.shape == (30, 1) and states.shape == (30,)
    log_likelihood, gamma = model.score_samples(X, [10, 20])
    assert log_likelihood == pytest.approx(model.score(X, [10, 20]), rel=1e-12)
    np.testing.assert_allclose(gamma.sum(axis=1), 1)
    logprob, path = model.decode(X, [10, 20])
    assert logprob < log_likelihood and path.shape == (30,)
    np.testing.assert_array_equal(model.predict(X, [10, 20]), path)
    _, map_states = model.decode(X, [10, 20], algorithm="map")
    np.testing.assert_array_equal(map_states, model.predict_proba(X, [10, 20]).argmax(axis=1))


def test_gaussian_score_does_not_underflow_far_from_the_means():
    model = GaussianHMM(2, "diag")
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.full((2, 2), 0.5)
    model.means_, model.covars_ = np.zeros((2, 1)), np.full((2, 1), 1e-3)
    X = np.array([[10.0], [12.0]])  # densities near exp(-72000): zero in float64
    model.implementation = "log"
    expected = model.score(X)
    model.implementation = "scaling"
    assert np.isfinite(expected) and model.score(X) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_posteriors_of_each_step_sum_to_one_when_ln_p_is_huge(implementation):
    rng = np.random.default_rng(1)
    model = GaussianHMM(3, "diag", init_params="", implementation=implementation)
    model.startprob_, model.transmat_ = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), 3)
    model.means_, model.covars_ = rng.normal(size=(3, 2)) * 3, rng.uniform(0.01, 0.1, (3, 2))
    X = rng.normal(size=(3000, 2)) * 2
    X[1500] = [1e4, -1e4]  # ln p(X) about -1e9: its rounding must not reach the posteriors
    log_likelihood, gamma = model.score_samples(X)
    assert log_likelihood < -1e8
    np.testing.assert_allclose(gamma.sum(axis=1), 1, atol=1e-12)


# ------------------------------------------------------------------ bad input
def test_symbols_outside_range_are_refused():
    with pytest.raises(ValueError, match=r"outside \[0, 4\).*\[4, 7\]"):
        known_categorical().score(np.array([[0], [4], [7]]))


def test_lengths_not_summing_to_len_x_are_refused():
    with pytest.raises(ValueError, match="lengths sum to 5 but X has 6 rows"):
        known_categorical().score(np.zeros((6, 1), dtype=int), [2, 3])


def test_empty_sequences_are_refused():
    with pytest.raises(ValueError, match=r"positive.*\[3, 0\]"):
        known_categorical().score(np.zeros((3, 1), dtype=int), [3, 0])


def test_non_stochastic_transmat_is_refused():
    model = known_categorical()
    model.transmat_ = np.array([[0.5, 0.4, 0.0], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6]])
    with pytest.raises(ValueError, match=r"transmat_ rows must sum to 1, got sums \[0.9 1.  1. \]"):
        model.score(np.zeros((3, 1), dtype=int))


def test_negative_variances_and_min_covar_are_refused():
    model = GaussianHMM(2, "diag")
    model.startprob_, model.transmat_, model.means_ = np.array([0.5, 0.5]), np.full((2, 2), 0.5), np.zeros((2, 1))
    model.covars_ = np.array([[1.0], [-1.0]])
    with pytest.raises(ValueError, match="covars_ must be positive variances"):
        model.score(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="min_covar must be a non-negative number, got -0.1"):
        GaussianHMM(2, min_covar=-0.1).fit(np.zeros((3, 1)))


def test_fit_refuses_a_sequence_of_probability_zero():
    model = CategoricalHMM(2, n_features=2, init_params="", implementation="log")
    model.startprob_, model.transmat_ = np.array([1.0, 0.0]), np.eye(2)
    model.emissionprob_ = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="sequence 1 has probability zero"):
        model.fit(np.array([0, 0, 0, 1])[:, None], [2, 2])


# ------------------------------------------------------------------ devices
def test_fit_on_device_matches_cpu(device):
    X, lengths = samples(known_categorical(), 10, 30)
    on_cpu = CategoricalHMM(3, n_iter=5, random_state=0).fit(X, lengths)
    on_device = CategoricalHMM(3, n_iter=5, random_state=0, device=device).fit(X, lengths)
    assert isinstance(on_device.transmat_, np.ndarray)
    np.testing.assert_allclose(on_device.monitor_.history, on_cpu.monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(on_device.emissionprob_, on_cpu.emissionprob_, atol=1e-10)


def test_score_of_a_long_sequence_uses_the_scan_and_agrees_with_the_log_variant():
    from minigen.models.hmm import SCAN_MIN_STEPS
    rng = np.random.default_rng(0)
    scaled = CategoricalHMM(3, n_features=4, implementation="scaling")
    scaled.startprob_, scaled.transmat_ = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), 3)
    scaled.emissionprob_ = rng.dirichlet(np.ones(4), 3)
    logged = CategoricalHMM(3, n_features=4, implementation="log")
    logged.startprob_, logged.transmat_, logged.emissionprob_ = scaled.startprob_, scaled.transmat_, scaled.emissionprob_
    X = rng.integers(0, 4, (2 * SCAN_MIN_STEPS + 5, 1))
    lengths = [SCAN_MIN_STEPS + 7, SCAN_MIN_STEPS - 2]
    assert scaled.score(X, lengths) == pytest.approx(logged.score(X, lengths), rel=1e-10)


def test_score_of_a_long_impossible_sequence_is_minus_infinity_in_the_log_variant():
    from minigen.models.hmm import SCAN_MIN_STEPS
    model = CategoricalHMM(2, n_features=2, implementation="log")
    model.startprob_, model.transmat_ = np.array([1.0, 0.0]), np.eye(2)
    model.emissionprob_ = np.eye(2)  # state 0 only ever emits symbol 0
    X = np.zeros((SCAN_MIN_STEPS + 10, 1), dtype=np.int64)
    X[-1] = 1
    assert model.score(X) == -np.inf
    model.implementation = "scaling"
    with pytest.raises(ValueError, match="probability zero"):
        model.score(X)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_decode_of_long_sequences_goes_by_chunks_and_equals_the_sequential_decode(implementation, monkeypatch):
    from minigen.models import hmm
    model = GaussianHMM(3, "diag", implementation=implementation)
    model.startprob_, model.transmat_ = np.array([0.6, 0.3, 0.1]), known_categorical().transmat_
    model.means_, model.covars_ = np.array([[0.0], [1.0], [2.5]]), np.array([[0.5], [0.4], [0.8]])
    X, _ = model.sample(2 * hmm.SCAN_MIN_STEPS + 5, random_state=0)
    lengths = [hmm.SCAN_MIN_STEPS + 7, hmm.SCAN_MIN_STEPS - 2]
    calls, viterbi_scan = [], hmm.hmm_scan.viterbi_scan
    monkeypatch.setattr(hmm.hmm_scan, "viterbi_scan", lambda *args: calls.append(args) or viterbi_scan(*args))
    logprob, path = model.decode(X, lengths)
    assert len(calls) == 2
    monkeypatch.setattr(hmm, "SCAN_MIN_STEPS", len(X) + 1)  # the sequential viterbi_scaled / viterbi_log
    expected_logprob, expected_path = model.decode(X, lengths)
    np.testing.assert_array_equal(path, expected_path)
    assert logprob == pytest.approx(expected_logprob, rel=1e-12)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_decode_of_a_long_impossible_sequence_is_minus_infinity_like_the_sequential_decode(implementation,
                                                                                         monkeypatch):
    from minigen.models import hmm
    model = CategoricalHMM(2, n_features=3, implementation=implementation)
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
    model.emissionprob_ = np.array([[0.7, 0.3, 0.0], [0.4, 0.6, 0.0]])  # no state emits symbol 2
    X = np.random.default_rng(0).integers(0, 2, (hmm.SCAN_MIN_STEPS + 10, 1))
    X[1000] = 2
    logprob, path = model.decode(X)
    monkeypatch.setattr(hmm, "SCAN_MIN_STEPS", len(X) + 1)
    expected_logprob, expected_path = model.decode(X)
    assert logprob == expected_logprob == -np.inf
    np.testing.assert_array_equal(path, expected_path)


@pytest.mark.parametrize("model, names", [(CategoricalHMM(2), "startprob_, transmat_, emissionprob_"),
                                          (GaussianHMM(2), "startprob_, transmat_, means_, covars_")])
def test_an_unfitted_model_says_to_fit_or_set_its_parameters(model, names):
    X = np.zeros((3, 1), int)
    for call in (lambda: model.score(X), lambda: model.decode(X), lambda: model.sample(3)):
        with pytest.raises(RuntimeError, match=f"has no {names}: call fit"):
            call()


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, True])
def test_sample_refuses_a_number_of_steps_that_is_not_positive(n_samples):
    with pytest.raises(ValueError, match=f"n_samples must be a positive integer, got {n_samples!r}"):
        known_categorical().sample(n_samples)


# ------------------------------------------------------------------ clear errors at the door
def test_data_whose_squares_overflow_is_named_as_the_cause():
    X = np.random.default_rng(0).standard_normal((60, 2)) * 1e200
    with pytest.raises(ValueError, match=r"X is too large: the squares of its values overflow float64 "
                                         r"\(largest \|x\| = \d\.\d+e\+200;"):
        GaussianHMM(n_components=2, random_state=0).fit(X)


@pytest.mark.parametrize("n_iter", [-5, 0, 2.5, True])
def test_n_iter_must_be_a_positive_integer(n_iter):
    X = np.random.default_rng(0).integers(0, 3, (20, 1))
    with pytest.raises(ValueError, match=f"n_iter must be a positive integer, got {n_iter!r}"):
        CategoricalHMM(n_components=2, n_iter=n_iter, random_state=0).fit(X)


@pytest.mark.parametrize("model, X", [(CategoricalHMM(n_components=2), np.zeros((0, 1), int)),
                                      (GaussianHMM(n_components=2), np.zeros((0, 2)))], ids=["categorical", "gaussian"])
def test_empty_input_is_refused_by_name(model, X):
    with pytest.raises(ValueError, match=r"X has no observations \(shape \(0, [12]\)\)"):
        model.fit(X)
