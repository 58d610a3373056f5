"""The HMM algorithms against exact answers: every hidden path enumerated, Fisher's identity by autograd."""
import itertools

import numpy as np
import pytest

import minigen as mg
from minigen.models import hmm_algorithms as alg
from minigen.models import hmm_scan

K, LENGTHS = 3, [5, 3, 6, 1]


def random_model(rng, k=K, n_features=4):
    def stochastic(*shape):
        p = rng.random(shape) + 0.05
        return p / p.sum(axis=-1, keepdims=True)
    return stochastic(k), stochastic(k, k), stochastic(k, n_features)


def batch(rng, lengths=LENGTHS, k=K):
    """Random emission probabilities B_obs (B, T, K) with a mask for ``lengths``."""
    mask = np.arange(max(lengths))[None, :] < np.asarray(lengths)[:, None]
    return rng.random((len(lengths), max(lengths), k)) + 0.01, mask


def brute_force(startprob, transmat, B_obs):
    """Enumerate all K^T paths of one sequence: p(X), gamma (T, K), xi (T-1, K, K), best path and ln p."""
    T, k = B_obs.shape
    likelihood, gamma, xi = 0.0, np.zeros((T, k)), np.zeros((T - 1, k, k))
    best, best_p = None, -1.0
    for path in itertools.product(range(k), repeat=T):
        p = startprob[path[0]] * B_obs[0, path[0]]
        for n in range(1, T):
            p *= transmat[path[n - 1], path[n]] * B_obs[n, path[n]]
        likelihood += p
        gamma[np.arange(T), path] += p
        xi[np.arange(T - 1), path[:-1], path[1:]] += p
        if p > best_p:
            best, best_p = np.array(path), p
    return likelihood, gamma / likelihood, xi / likelihood, best, np.log(best_p)


@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    startprob, transmat, _ = random_model(rng)
    B_obs, mask = batch(rng)
    exact = [brute_force(startprob, transmat, B_obs[b, :t]) for b, t in enumerate(LENGTHS)]
    return startprob, transmat, B_obs, mask, exact


def run_scaled(startprob, transmat, B_obs, mask):
    alpha, c = alg.forward_scaled(startprob, transmat, B_obs, mask)
    beta = alg.backward_scaled(transmat, B_obs, c, mask)
    gamma, xi_sum = alg.posteriors_scaled(transmat, B_obs, alpha, beta, c, mask)
    xi = alg.xi_steps_scaled(transmat, B_obs, alpha, beta, c, mask)
    return alg.log_likelihood_scaled(c), gamma, xi, xi_sum, alg.viterbi_scaled(startprob, transmat, B_obs, mask)


def run_log(startprob, transmat, B_obs, mask):
    log_pi, log_A, log_B = np.log(startprob), np.log(transmat), np.log(B_obs)
    log_alpha, log_likelihood = alg.forward_log(log_pi, log_A, log_B, mask)
    log_beta = alg.backward_log(log_A, log_B, mask)
    gamma, xi_sum = alg.posteriors_log(log_A, log_B, log_alpha, log_beta, mask)
    xi = alg.xi_steps_log(log_A, log_B, log_alpha, log_beta, mask)
    return log_likelihood, gamma, xi, xi_sum, alg.viterbi_log(log_pi, log_A, log_B, mask)


@pytest.mark.parametrize("run", [run_scaled, run_log], ids=["scaled", "log"])
def test_batch_with_unequal_lengths_matches_enumeration_of_all_paths(problem, run):
    startprob, transmat, B_obs, mask, exact = problem
    log_likelihood, gamma, xi, xi_sum, (best_logprob, path) = run(startprob, transmat, B_obs, mask)
    for b, (t, (p, gamma_b, xi_b, best, best_log_p)) in enumerate(zip(LENGTHS, exact)):
        np.testing.assert_allclose(log_likelihood[b], np.log(p), rtol=1e-12)
        np.testing.assert_allclose(gamma[b, :t], gamma_b, atol=1e-12)
        np.testing.assert_array_equal(gamma[b, t:], 0)  # padding
        np.testing.assert_allclose(xi[b, :t - 1], xi_b, atol=1e-12)
        np.testing.assert_array_equal(xi[b, t - 1:], 0)
        np.testing.assert_allclose(xi_sum[b], xi_b.sum(axis=0), atol=1e-12)
        np.testing.assert_array_equal(path[b, :t], best)
        np.testing.assert_array_equal(path[b, t:], -1)
        np.testing.assert_allclose(best_logprob[b], best_log_p, rtol=1e-12)


def test_batch_equals_one_sequence_at_a_time(problem):
    startprob, transmat, B_obs, mask, _ = problem
    together = run_scaled(startprob, transmat, B_obs, mask)
    for b, t in enumerate(LENGTHS):
        alone = run_scaled(startprob, transmat, B_obs[b:b + 1, :t], mask[b:b + 1, :t])
        np.testing.assert_allclose(together[0][b], alone[0][0], rtol=1e-13)
        np.testing.assert_allclose(together[1][b, :t], alone[1][0], atol=1e-13)
        np.testing.assert_allclose(together[3][b], alone[3][0], atol=1e-13)
        np.testing.assert_array_equal(together[4][1][b, :t], alone[4][1][0])


def test_scaled_equals_log_on_a_larger_batch():
    rng = np.random.default_rng(2)
    startprob, transmat, _ = random_model(rng, k=5)
    B_obs, mask = batch(rng, lengths=[40, 17, 33, 2, 40], k=5)
    for scaled, logged in zip(run_scaled(startprob, transmat, B_obs, mask), run_log(startprob, transmat, B_obs, mask)):
        for a, b in zip(*(x if isinstance(x, tuple) else (x,) for x in (scaled, logged))):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_pad_sequences_and_unpad_are_inverse():
    X = np.arange(10)[:, None]
    padded, mask = alg.pad_sequences(X, [3, 7])
    assert padded.shape == (2, 7, 1) and mask.sum() == 10
    np.testing.assert_array_equal(padded[0, :3, 0], [0, 1, 2])
    np.testing.assert_array_equal(alg.unpad(padded, mask), X)


@pytest.mark.parametrize("lengths, message", [([3, 3], "sum to 6 but X has 10"), ([10, 0], "positive")])
def test_pad_sequences_rejects_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        alg.pad_sequences(np.zeros((10, 1)), lengths)


def test_sixteen_states_and_100000_steps_stay_finite_in_both_variants():
    rng = np.random.default_rng(3)
    startprob, transmat, _ = random_model(rng, k=16)
    B_obs, mask = rng.random((1, 100_000, 16)), np.ones((1, 100_000), dtype=bool)
    _, c = alg.forward_scaled(startprob, transmat, B_obs, mask)
    log_likelihood = alg.log_likelihood_scaled(c)
    _, log_log_likelihood = alg.forward_log(np.log(startprob), np.log(transmat), np.log(B_obs), mask)
    assert np.isfinite(log_likelihood).all() and log_likelihood[0] < -1000  # p(X) itself < exp(-745) underflows
    np.testing.assert_allclose(log_likelihood, log_log_likelihood, rtol=1e-10)


def test_impossible_observation_raises_in_scaled_and_gives_minus_inf_in_log():
    rng = np.random.default_rng(4)
    startprob, transmat, _ = random_model(rng)
    B_obs, mask = batch(rng, lengths=[6, 6])
    B_obs[1, 3] = 0  # no state can emit x_3 of sequence 1
    with pytest.raises(ValueError, match="sequence 1 has probability zero at step 3"):
        alg.forward_scaled(startprob, transmat, B_obs, mask)
    with np.errstate(divide="ignore"):
        _, log_likelihood = alg.forward_log(np.log(startprob), np.log(transmat), np.log(B_obs), mask)
    assert np.isfinite(log_likelihood[0]) and log_likelihood[1] == -np.inf


def test_m_step_keeps_zeros_and_unvisited_rows():
    transmat = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    counts = np.array([[2.0, 6.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    _, new = alg.m_step(np.array([1.0, 0, 0]), counts, np.array([1.0, 0, 0]), transmat)
    np.testing.assert_allclose(new, [[0.25, 0.75, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])


# ------------------------------------------------------------------ Fisher's identity
def log_likelihood_by_autograd(start_logits, trans_logits, emission_logits, symbols):
    """ln p(X) by the log forward recursion written with minigen Tensor ops."""
    log_pi = mg.log_softmax(start_logits, dim=0)
    log_A = mg.log_softmax(trans_logits, dim=1)
    log_E = mg.log_softmax(emission_logits, dim=1)
    log_alpha = log_pi + log_E[:, int(symbols[0])]
    for x in symbols[1:]:
        log_alpha = mg.logsumexp(log_alpha.unsqueeze(1) + log_A, dim=0) + log_E[:, int(x)]
    return mg.logsumexp(log_alpha, dim=0)


def test_fisher_identity_gradient_equals_expected_counts_minus_normalization():
    rng = np.random.default_rng(5)
    k, m = 3, 4
    logits = [rng.standard_normal(shape) for shape in ((k,), (k, k), (k, m))]
    symbols = rng.integers(0, m, size=8)
    tensors = [mg.tensor(x, requires_grad=True) for x in logits]
    grads = mg.grad(log_likelihood_by_autograd(*tensors, symbols), tensors)

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    startprob, transmat, emissionprob = (softmax(x) for x in logits)
    B_obs, mask = emissionprob.T[symbols][None], np.ones((1, len(symbols)), dtype=bool)
    _, gamma, xi_sum = alg.e_step(startprob, transmat, B_obs, mask)
    start_counts, trans_counts = alg.expected_counts(gamma, xi_sum)
    emission_counts = alg.categorical_counts(gamma, symbols[None], m)
    np.testing.assert_allclose(grads[0].numpy(), start_counts - startprob, atol=1e-10)
    np.testing.assert_allclose(grads[1].numpy(), trans_counts - trans_counts.sum(1, keepdims=True) * transmat,
                               atol=1e-10)
    np.testing.assert_allclose(grads[2].numpy(),
                               emission_counts - emission_counts.sum(1, keepdims=True) * emissionprob, atol=1e-10)


# ------------------------------------------------------------------ the associative scan
@pytest.mark.parametrize("n_steps", [1, 2, 3, 257, 5000])
@pytest.mark.parametrize("n_chunks", [1, 7, 256])
@pytest.mark.parametrize("density_scale", [1.0, 1e3])  # densities above 1 make the rows grow, not shrink
def test_scan_equals_the_scaled_forward_pass(n_steps, n_chunks, density_scale, monkeypatch):
    monkeypatch.setattr(alg, "forward_log", None)  # the scan alone, without its check of a zero
    rng = np.random.default_rng(n_steps)
    k = 4
    startprob, transmat = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k), k)
    B_obs = rng.uniform(0.01, 1.0, (n_steps, k)) * density_scale
    _, c = alg.forward_scaled(startprob, transmat, B_obs[None], np.ones((1, n_steps), bool))
    expected = alg.log_likelihood_scaled(c)[0]
    assert hmm_scan.log_likelihood_scan(startprob, transmat, B_obs, n_chunks) == pytest.approx(expected, rel=1e-12)


def test_scan_keeps_left_to_right_zeros_and_stays_finite():
    k, n_steps = 16, 100_000
    transmat = np.eye(k) * 0.9 + np.eye(k, k=1) * 0.1
    transmat[-1, -1] = 1.0
    startprob = np.eye(k)[0]
    B_obs = np.random.default_rng(0).uniform(1e-3, 1.0, (n_steps, k))
    value = hmm_scan.log_likelihood_scan(startprob, transmat, B_obs)
    _, c = alg.forward_scaled(startprob, transmat, B_obs[None], np.ones((1, n_steps), bool))
    assert np.isfinite(value) and value == pytest.approx(alg.log_likelihood_scaled(c)[0], rel=1e-10)


def sequential_log_likelihood(startprob, transmat, B_obs):
    with np.errstate(divide="ignore"):
        log_B = np.log(B_obs)[None]
        return alg.forward_log(np.log(startprob), np.log(transmat), log_B, np.ones(log_B.shape[:2], bool))[1][0]


def test_scan_keeps_a_start_state_far_less_likely_than_another():
    # identity transmat: row 0 of every chunk (stay in state 0, emitting 0s) outgrows row 1 by
    # 0.999/0.001 per step, far past 1e308 within a chunk; alpha sits on state 1 alone
    n_steps = 30_000
    emissionprob = np.array([[0.999, 0.001], [0.001, 0.999]])
    X = np.zeros(n_steps, int)
    X[::50] = 1
    startprob, transmat, B_obs = np.array([0.0, 1.0]), np.eye(2), emissionprob.T[X]
    with np.errstate(divide="ignore"):
        expected = sequential_log_likelihood(startprob, transmat, B_obs)
    assert np.isfinite(expected)
    assert hmm_scan.log_likelihood_scan(startprob, transmat, B_obs) == pytest.approx(expected, rel=1e-12)


def test_scan_confirms_a_zero_with_the_sequential_pass(monkeypatch):
    # state 0 splits into state 1 (emits only 0s) and state 2 (0s at 1e-3); within the first
    # chunk's row 0 the path through state 2 falls 1e-300 below, then a 1 only state 2 can emit
    n_steps = 40_000
    emissionprob = np.array([[1.0, 0.0], [1.0, 0.0], [0.001, 0.999]])
    transmat = np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    X = np.zeros(n_steps, int)
    X[-1] = 1
    startprob, B_obs = np.array([1.0, 0.0, 0.0]), emissionprob.T[X]
    expected = np.log(0.5) + (n_steps - 2) * np.log(0.001) + np.log(0.999)
    calls, forward_log = [], alg.forward_log
    monkeypatch.setattr(alg, "forward_log", lambda *args: calls.append(args) or forward_log(*args))
    assert hmm_scan.log_likelihood_scan(startprob, transmat, B_obs) == pytest.approx(expected, rel=1e-12)
    assert len(calls) == 1


def test_scan_refuses_a_sequence_of_probability_zero():
    transmat = np.array([[1.0, 0.0], [0.0, 1.0]])
    B_obs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # starts in state 0, then only state 1 can emit
    with pytest.raises(ValueError, match="probability zero"):
        hmm_scan.log_likelihood_scan(np.array([1.0, 0.0]), transmat, B_obs)


def test_scan_gives_minus_infinity_when_allowed():
    transmat = np.array([[1.0, 0.0], [0.0, 1.0]])
    B_obs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert hmm_scan.log_likelihood_scan(np.array([1.0, 0.0]), transmat, B_obs, allow_zero=True) == -np.inf


# ------------------------------------------------------------------ Viterbi by chunks
def sequential_viterbi(log_startprob, log_transmat, log_B):
    """viterbi_log of one sequence (T, K): ln p (scalar) and path (T,)."""
    logprob, path = alg.viterbi_log(log_startprob, log_transmat, log_B[None], np.ones((1, len(log_B)), dtype=bool))
    return logprob[0], path[0]


def log_model(rng, kind, k, n_steps):
    """ln pi, ln transmat, ln B (T, K) of a random model; ``kind`` names the transmat's structure."""
    dense = rng.dirichlet(np.ones(k), k)
    transmat = {"dense": lambda: dense,
                "sparse": lambda: dense * (rng.random((k, k)) < 0.5) + np.eye(k)[rng.permutation(k)],
                "left-right": lambda: 0.5 * np.eye(k) + 0.5 * np.eye(k, k=1),  # the last state keeps 1 below
                "identity": lambda: np.eye(k),
                "permutation": lambda: np.eye(k)[rng.permutation(k)]}[kind]()
    B_obs = rng.random((n_steps, k)) * (rng.random((n_steps, k)) < (0.7 if kind == "sparse" else 2))
    with np.errstate(divide="ignore"):
        return (np.log(rng.dirichlet(np.ones(k))), np.log(transmat / transmat.sum(axis=1, keepdims=True)),
                np.log(B_obs))


def assert_same_viterbi(scan, sequential):
    np.testing.assert_array_equal(scan[1], sequential[1])
    assert scan[0] == pytest.approx(sequential[0], rel=1e-12) or scan[0] == sequential[0] == -np.inf


KINDS = ["dense", "sparse", "left-right", "identity", "permutation"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k, n_steps, n_chunks", [(1, 50, 8), (4, 1, 256), (4, 2, 1), (4, 5, 16), (4, 7, 3),
                                                  (5, 200, 7), (16, 2000, 64)])
def test_viterbi_scan_equals_viterbi_log(kind, k, n_steps, n_chunks):
    rng = np.random.default_rng([KINDS.index(kind), k, n_steps])
    model = log_model(rng, kind, k, n_steps)
    assert_same_viterbi(hmm_scan.viterbi_scan(*model, n_chunks), sequential_viterbi(*model))


@pytest.mark.parametrize("kind", KINDS)
def test_viterbi_scan_rounds_alone_are_exact_even_when_the_model_never_forgets(kind):
    # no fall-back: the identity and permutation transmats then take one fix-up round per chunk
    for seed in range(10):
        model = log_model(np.random.default_rng(seed), kind, 3, 90)
        assert_same_viterbi(hmm_scan.viterbi_scan(*model, n_chunks=30, max_rounds=90), sequential_viterbi(*model))


def test_viterbi_scan_falls_back_to_viterbi_log_only_when_the_chunks_never_forget(monkeypatch):
    dense = log_model(np.random.default_rng(0), "dense", 4, 3000)
    impossible = (*dense[:2], dense[2].copy())
    impossible[2][100] = -np.inf  # probability zero from step 100 on: no round per later chunk either
    identity = log_model(np.random.default_rng(0), "identity", 4, 3000)
    expected = [sequential_viterbi(*model) for model in (dense, impossible, identity)]
    calls, viterbi_log = [], alg.viterbi_log
    monkeypatch.setattr(alg, "viterbi_log", lambda *args: calls.append(args) or viterbi_log(*args))
    for model, sequential, falls_back in zip((dense, impossible, identity), expected, (False, False, True)):
        assert_same_viterbi(hmm_scan.viterbi_scan(*model, n_chunks=64), sequential)
        assert len(calls) == falls_back
        calls.clear()


def test_viterbi_scan_breaks_exact_ties_by_the_first_index_like_viterbi_log():
    # small integer logarithms: every sum is exact in floating point, so ties are exact too
    rng = np.random.default_rng(6)
    for _ in range(40):
        k, n_steps = int(rng.integers(1, 5)), int(rng.integers(1, 120))
        model = (-rng.integers(0, 3, k).astype(float), -rng.integers(0, 3, (k, k)).astype(float),
                 -rng.integers(0, 3, (n_steps, k)).astype(float))
        scan, sequential = hmm_scan.viterbi_scan(*model, n_chunks=int(rng.integers(1, 20))), sequential_viterbi(*model)
        np.testing.assert_array_equal(scan[1], sequential[1])
        assert scan[0] == sequential[0]


@pytest.mark.parametrize("n_chunks", [1, 4, 64])
def test_viterbi_scan_of_an_impossible_observation_is_minus_infinity_with_viterbi_log_path(n_chunks):
    log_startprob, log_transmat, log_B = log_model(np.random.default_rng(7), "dense", 4, 1000)
    log_B[400] = -np.inf  # no state can emit x_400
    logprob, path = hmm_scan.viterbi_scan(log_startprob, log_transmat, log_B, n_chunks)
    assert_same_viterbi((logprob, path), sequential_viterbi(log_startprob, log_transmat, log_B))
    assert logprob == -np.inf and (path[400:] == 0).all()


def test_viterbi_scan_of_a_sequence_impossible_by_its_transitions_matches_viterbi_log():
    transmat = np.array([[1.0, 0.0], [0.0, 1.0]])
    B_obs = np.array([[1.0, 0.0]] * 5 + [[0.0, 1.0]] * 7)  # starts in state 0, later only state 1 can emit
    with np.errstate(divide="ignore"):
        model = np.log(np.array([1.0, 0.0])), np.log(transmat), np.log(B_obs)
    for n_chunks in (1, 3, 12):
        assert_same_viterbi(hmm_scan.viterbi_scan(*model, n_chunks), sequential_viterbi(*model))


def test_viterbi_scan_matches_enumeration_of_all_paths():
    rng = np.random.default_rng(8)
    for k, n_steps in [(1, 4), (2, 1), (2, 6), (3, 5)]:
        startprob, transmat, _ = random_model(rng, k)
        B_obs = rng.random((n_steps, k)) + 0.01
        *_, best, best_log_p = brute_force(startprob, transmat, B_obs)
        for n_chunks in (1, 2, n_steps):
            logprob, path = hmm_scan.viterbi_scan(np.log(startprob), np.log(transmat), np.log(B_obs), n_chunks)
            np.testing.assert_array_equal(path, best)
            assert logprob == pytest.approx(best_log_p, rel=1e-12)


def test_viterbi_scan_on_device_matches_cpu(device):
    model = log_model(np.random.default_rng(9), "sparse", 5, 3000)
    logprob, path = hmm_scan.viterbi_scan(*(mg.backend.to_device(x, device) for x in model))
    assert_same_viterbi((float(logprob), mg.backend.to_host(path)), sequential_viterbi(*model))


def test_log_likelihood_scan_on_device_matches_the_sequential_pass(device):
    """On a GPU the scan rescales its rows at every step (no host read per step): same ln p(X)."""
    log_startprob, log_transmat, log_B = log_model(np.random.default_rng(4), "dense", 4, 3000)
    expected = alg.forward_log(log_startprob, log_transmat, log_B[None], np.ones((1, 3000), bool))[1][0]
    arrays = (mg.backend.to_device(np.exp(x), device) for x in (log_startprob, log_transmat, log_B))
    assert float(hmm_scan.log_likelihood_scan(*arrays)) == pytest.approx(float(expected), rel=1e-10)
