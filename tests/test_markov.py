"""MarkovChain against hand-computed values from the lecture's weather table (PRML 13.1)."""
import numpy as np
import pytest

from minigen import backend
from minigen.models.markov import MarkovChain, markov_mle

STATES = ["Sun", "Rain", "Cloud"]
WEATHER = np.array([[0.8, 0.05, 0.15],
                    [0.2, 0.6, 0.2],
                    [0.2, 0.3, 0.5]])


@pytest.fixture
def weather():
    return MarkovChain(WEATHER, startprob=[0.5, 0.25, 0.25], states=STATES)


def test_slide_example_given_the_first_day_is_sunny(weather):
    seq = ["Sun", "Sun", "Sun", "Cloud", "Cloud", "Rain"]
    assert weather.prob(seq, given_first=True) == pytest.approx(0.8 * 0.8 * 0.15 * 0.5 * 0.3)
    assert weather.prob(seq, given_first=True) == pytest.approx(0.0144)


def test_sequence_probability_includes_the_first_state_unless_given(weather):
    seq = [0, 0, 0, 2, 2, 1]  # the same week as indices
    assert weather.prob(seq) == pytest.approx(0.5 * 0.0144)
    assert weather.log_prob(seq) == pytest.approx(np.log(0.5 * 0.0144))
    assert weather.prob(["Rain"]) == pytest.approx(0.25)
    assert weather.prob(["Rain"], given_first=True) == 1.0


def test_impossible_sequence_has_log_probability_minus_infinity():
    chain = MarkovChain([[1.0, 0.0], [0.5, 0.5]])
    assert chain.log_prob([0, 1]) == -np.inf and chain.prob([0, 1]) == 0.0


def test_lecture_A_is_the_transpose_of_transmat(weather):
    A = weather.transmat_.T  # A[i, j] = p(z_n = i | z_{n-1} = j): columns sum to 1
    np.testing.assert_allclose(A.sum(axis=0), 1)
    today = np.array([0.0, 1.0, 0.0])  # raining today
    np.testing.assert_allclose(A @ today, today @ weather.transmat_)


def test_stationary_distribution_is_left_eigenvector_for_eigenvalue_one(weather):
    pi = weather.stationary_distribution()
    np.testing.assert_allclose(pi @ WEATHER, pi, atol=1e-12)
    np.testing.assert_allclose(pi.sum(), 1)
    assert (pi >= 0).all()
    np.testing.assert_allclose(pi, [0.5, 0.25, 0.25], atol=1e-12)  # solved by hand: pi_Sun = 2 pi_Rain = 2 pi_Cloud


def test_n_step_rows_converge_to_the_stationary_distribution(weather):
    limit = weather.n_step(200)
    np.testing.assert_allclose(limit, np.tile(weather.stationary_distribution(), (3, 1)), atol=1e-12)
    np.testing.assert_allclose(weather.n_step(0), np.eye(3))
    np.testing.assert_allclose(weather.n_step(2), WEATHER @ WEATHER)


def test_stationary_distribution_of_a_chain_with_two_closed_classes_is_a_distribution():
    pi = MarkovChain(np.eye(2)).stationary_distribution()
    np.testing.assert_allclose(pi @ np.eye(2), pi)
    assert (pi >= 0).all() and pi.sum() == pytest.approx(1)


def test_fit_on_given_sequences_equals_counts_by_hand():
    sequences = [["Sun", "Sun", "Rain", "Rain", "Cloud"], ["Rain", "Sun", "Cloud", "Sun"]]
    chain = MarkovChain(states=STATES).fit(sequences)
    # from Sun: Sun->Sun, Sun->Rain, Sun->Cloud; from Rain: Rain->Rain, Rain->Cloud, Rain->Sun; from Cloud: Cloud->Sun
    expected = np.array([[1 / 3, 1 / 3, 1 / 3],
                         [1 / 3, 1 / 3, 1 / 3],
                         [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(chain.transmat_, expected)
    np.testing.assert_allclose(chain.startprob_, [0.5, 0.5, 0.0])


def test_pseudocount_adds_to_every_count():
    chain = MarkovChain(states=STATES).fit([["Sun", "Sun", "Cloud"]], pseudocount=1)
    # counts + 1: Sun row (1+1, 0+1, 1+1) / 5; the other rows never seen: (1, 1, 1) / 3
    np.testing.assert_allclose(chain.transmat_, [[0.4, 0.2, 0.4], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(chain.startprob_, [2 / 4, 1 / 4, 1 / 4])


def test_a_state_never_left_gets_a_uniform_row():
    chain = MarkovChain().fit([[0, 1, 2]])  # K = 3 from the largest index; state 2 is never left
    np.testing.assert_allclose(chain.transmat_[2], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(chain.transmat_[:2], [[0, 1, 0], [0, 0, 1]])


def test_fit_on_a_long_sample_recovers_the_table(weather):
    days = weather.sample(100000, random_state=0)
    refit = MarkovChain(states=STATES).fit([days])
    # each row holds >= 25,000 transitions: standard error sqrt(p (1 - p) / n) <= 0.0032; 5 of them
    np.testing.assert_allclose(refit.transmat_, WEATHER, atol=0.016)


def test_sampling_frequencies_match_the_stationary_distribution(weather):
    days = weather.sample(200000, random_state=1)
    # correlated draws: the effective sample is smaller than 200,000; 0.01 is many standard errors still
    np.testing.assert_allclose(np.bincount(days, minlength=3) / len(days), [0.5, 0.25, 0.25], atol=0.01)


def test_sample_starts_from_startprob_and_is_repeatable():
    chain = MarkovChain(WEATHER, startprob=[0.0, 0.0, 1.0], states=STATES)
    days = chain.sample(10, random_state=5)
    assert days[0] == 2 and days.dtype == np.int64
    np.testing.assert_array_equal(days, chain.sample(10, random_state=5))
    assert chain.names(days)[0] == "Cloud"
    assert MarkovChain(WEATHER).startprob_.tolist() == [1 / 3] * 3  # startprob=None: uniform


def test_works_on_the_array_module_of_its_transmat(device):
    transmat = backend.to_device(WEATHER, backend.canonical_device(device))
    chain = MarkovChain(transmat)
    xp = backend.array_module(transmat)
    for result in (chain.transmat_, chain.sample(5, random_state=0), chain.n_step(3),
                   chain.stationary_distribution(), MarkovChain(transmat).fit([[0, 1, 1, 2]]).transmat_):
        assert backend.array_module(result) is xp
    assert chain.prob([0, 0, 0, 2, 2, 1], given_first=True) == pytest.approx(0.0144)
    np.testing.assert_allclose(backend.to_host(chain.stationary_distribution()), [0.5, 0.25, 0.25], atol=1e-12)


@pytest.mark.parametrize("transmat, startprob, states, message", [
    ([[0.5, 0.6], [0.5, 0.5]], None, None, r"transmat row 0 must sum to 1 .* got sum 1.1"),
    ([[1.2, -0.2], [0.5, 0.5]], None, None, "must be finite and non-negative"),
    ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], None, None, r"square \(K, K\) matrix, got shape \(2, 3\)"),
    (np.eye(2), [1.0], None, r"startprob must have shape \(2,\), got \(1,\)"),
    (np.eye(2), [0.7, 0.7], None, "startprob must sum to 1"),
    (np.eye(2), None, ["a", "b", "c"], "states names 3 states but transmat has K = 2"),
    (np.eye(2), None, ["a", "a"], "states must be distinct"),
])
def test_bad_parameters_are_refused_with_a_message_naming_them(transmat, startprob, states, message):
    with pytest.raises(ValueError, match=message):
        MarkovChain(transmat, startprob, states)


def test_unknown_states_are_refused_with_their_names(weather):
    with pytest.raises(ValueError, match=r"unknown states \['Snow'\]: expected \['Sun', 'Rain', 'Cloud'\]"):
        weather.prob(["Sun", "Snow"])
    with pytest.raises(ValueError, match=r"unknown states \[3\]"):
        weather.prob([0, 3])


def test_fit_wants_a_list_of_sequences():
    with pytest.raises(ValueError, match=r"wrap a single sequence: fit\(\[seq\]\)"):
        MarkovChain(states=STATES).fit(["Sun", "Rain"])
    with pytest.raises(ValueError, match="pseudocount must be a non-negative number"):
        MarkovChain(states=STATES).fit([["Sun"]], pseudocount=-1)


def test_a_chain_without_transmat_must_be_fitted_first():
    with pytest.raises(RuntimeError, match="call fit"):
        MarkovChain(states=STATES).prob(["Sun"])


# ---------------------------------------------------------------- order k
def counts_by_hand(sequences, K, order):
    """n[context + (j,)] and the first contexts, one step at a time with Python tuples."""
    steps, first = np.zeros((K,) * (order + 1)), np.zeros((K,) * order)
    for z in sequences:
        first[tuple(z[:order])] += 1
        for n in range(order, len(z)):
            steps[tuple(z[n - order:n + 1])] += 1
    return steps, first


@pytest.mark.parametrize("order", [1, 2, 3])
def test_order_k_fit_equals_counts_by_hand(order):
    rng = np.random.default_rng(order)
    sequences = [rng.integers(0, 3, size=n) for n in (40, 25, order, 9)]
    for c in (0, 0.5):
        chain = MarkovChain(order=order).fit(sequences, pseudocount=c)
        steps, first = counts_by_hand(sequences, 3, order)
        rows = steps.sum(axis=-1, keepdims=True)
        expected = np.where(rows + c > 0, (steps + c) / np.maximum(rows + 3 * c, 1e-300), 1 / 3)
        np.testing.assert_allclose(chain.transmat_, expected, rtol=1e-12)
        np.testing.assert_allclose(chain.startprob_, (first + c) / (first + c).sum(), rtol=1e-12)
        assert chain.transmat_.shape == (3,) * (order + 1) and chain.startprob_.shape == (3,) * order


def test_order_2_context_never_left_gets_a_uniform_row():
    chain = MarkovChain(order=2).fit([[0, 1, 0, 0]])  # contexts seen: (0, 1) -> 0, (1, 0) -> 0; (0, 0) is never left
    np.testing.assert_allclose(chain.transmat_[0, 0], [0.5, 0.5])
    np.testing.assert_allclose(chain.transmat_[0, 1], [1, 0])
    np.testing.assert_allclose(chain.startprob_, [[0, 1], [0, 0]])


def test_order_2_log_prob_is_the_chain_rule_with_two_previous_states():
    rng = np.random.default_rng(0)
    transmat, startprob = rng.dirichlet(np.ones(3), size=(3, 3)), rng.dirichlet(np.ones(9)).reshape(3, 3)
    chain = MarkovChain(transmat, startprob, order=2)
    z = [2, 0, 1, 1, 0]
    steps = transmat[2, 0, 1] * transmat[0, 1, 1] * transmat[1, 1, 0]
    assert chain.log_prob(z) == pytest.approx(np.log(startprob[2, 0] * steps))
    assert chain.log_prob(z, given_first=True) == pytest.approx(np.log(steps))
    assert chain.prob([1]) == pytest.approx(startprob[1].sum())  # shorter than the order: the marginal
    assert chain.prob([1, 2]) == pytest.approx(startprob[1, 2])


def test_an_order_2_chain_that_ignores_z_n_minus_2_is_the_first_order_chain(weather):
    first_two = np.diag([0.5, 0.25, 0.25]) @ WEATHER  # p(z_1, z_2) = p(z_1) transmat[z_1, z_2]
    second = MarkovChain(np.broadcast_to(WEATHER, (3, 3, 3)), startprob=first_two, order=2)
    seq = [0, 0, 0, 2, 2, 1, 1, 0]
    assert second.log_prob(seq) == pytest.approx(weather.log_prob(seq))


def test_order_2_fit_on_a_long_sample_recovers_the_table():
    rng = np.random.default_rng(3)
    transmat = rng.dirichlet(np.ones(3), size=(3, 3))
    days = MarkovChain(transmat, order=2).sample(90000, random_state=0)
    refit = MarkovChain(order=2).fit([days])
    # each of the 9 contexts holds >= 5,000 steps here: standard error <= 0.0068; 5 of them
    np.testing.assert_allclose(refit.transmat_, transmat, atol=0.034)


def test_order_k_sample_starts_from_startprob_and_is_repeatable():
    startprob = np.zeros((3, 3))
    startprob[2, 1] = 1
    chain = MarkovChain(np.broadcast_to(WEATHER, (3, 3, 3)), startprob, order=2)
    days = chain.sample(10, random_state=5)
    assert days[:2].tolist() == [2, 1] and len(days) == 10
    np.testing.assert_array_equal(days, chain.sample(10, random_state=5))
    assert chain.sample(1, random_state=0).tolist() == [2] and len(chain.sample(0)) == 0


def test_order_k_works_on_the_array_module_of_its_transmat(device):
    transmat = backend.to_device(np.broadcast_to(WEATHER, (3, 3, 3)).copy(), backend.canonical_device(device))
    chain = MarkovChain(transmat, order=2)
    xp = backend.array_module(transmat)
    for result in (chain.transmat_, chain.startprob_, chain.sample(5, random_state=0),
                   MarkovChain(transmat, order=2).fit([[0, 1, 1, 2]]).transmat_):
        assert backend.array_module(result) is xp
    assert chain.prob([0, 0, 0, 2, 2, 1], given_first=True) == pytest.approx(0.8 * 0.15 * 0.5 * 0.3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(order=0), "order must be a positive integer, got 0"),
    (dict(order=1.5), "order must be a positive integer, got 1.5"),
    (dict(transmat=WEATHER, order=2), r"transmat must be a \(K, K, K\) array for order=2, got shape \(3, 3\)"),
    (dict(transmat=np.broadcast_to(WEATHER, (3, 3, 3)), startprob=np.full((3, 3), 0.2), order=2),
     "startprob must sum to 1"),
    (dict(transmat=np.full((2, 2, 2), [0.5, 0.6]), order=2), r"transmat row \(0, 0\) must sum to 1 .* got sum 1.1"),
])
def test_bad_order_k_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarkovChain(**kwargs)


def test_order_k_fit_and_first_order_methods_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="every sequence must hold at least order = 3 state"):
        MarkovChain(order=3).fit([[0, 1, 2, 0], [1, 1]])
    with pytest.raises(ValueError, match="order-5 chain over 30 states has 24300000 contexts"):
        MarkovChain(order=5).fit([[29, 0, 1, 2, 3]])
    chain = MarkovChain(order=2).fit([[0, 1, 0, 1]])
    for method in (chain.stationary_distribution, lambda: chain.n_step(2)):
        with pytest.raises(ValueError, match="needs a first-order chain, this one has order=2"):
            method()


@pytest.mark.parametrize("sequences, message", [
    ([], r"markov_mle: sequences is empty: give at least one sequence of states"),
    ([np.array([0, 1]), np.array([], int)], r"markov_mle: sequence 1 is empty"),
    ([np.array([0, 2])], r"markov_mle: sequence 0 holds states outside \[0, 2\): \[2\]"),
    ([np.array([0.0, 1.0])], r"markov_mle: sequence 0 must hold integer states, got float64"),
])
def test_markov_mle_refuses_bad_sequences_by_name(sequences, message):
    with pytest.raises(ValueError, match=message):
        markov_mle(sequences, 2)
