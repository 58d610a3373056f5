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


@pytest.mark.parametrize("sequences, message", [
    ([], r"markov_mle: sequences is empty: give at least one sequence of states"),
    ([np.array([0, 1]), np.array([], int)], r"markov_mle: sequence 1 is empty"),
    ([np.array([0, 2])], r"markov_mle: sequence 0 holds states outside \[0, 2\): \[2\]"),
    ([np.array([0.0, 1.0])], r"markov_mle: sequence 0 must hold integer states, got float64"),
])
def test_markov_mle_refuses_bad_sequences_by_name(sequences, message):
    with pytest.raises(ValueError, match=message):
        markov_mle(sequences, 2)
