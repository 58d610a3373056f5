"""Checks of the models' exercises: Markov MLE, the naive Bayes posterior, HMM forward/backward/
Viterbi/M step (against brute-force enumeration of every state path), the VAE's
reparameterization and KL (the GANs' are in checks_gan.py). Each takes the candidate and
raises CheckFailure.
"""
import itertools
import math

import numpy as np

from minigen.autograd import Tensor
from minigen.exercises.checking import case, check_gradients, compare, fail, hint_when, leaf
from minigen.models.hmm_algorithms import e_step, expected_counts
from minigen.models.hmm_algorithms import forward_scaled as reference_forward
from minigen.models.hmm_algorithms import m_step as reference_m_step
from minigen.models.markov import markov_mle as reference_markov_mle
from minigen.models.naive_bayes import bernoulli_nb_log_posterior as reference_nb_log_posterior
from minigen.models.vae import gaussian_kl, reparameterize


def _rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ Markov chain MLE
def markov_by_hand(candidate):
    """counts of a small example by hand: [0, 0, 1] and [1, 2, 2, 0], K = 3"""
    startprob, transmat = candidate([np.array([0, 0, 1]), np.array([1, 2, 2, 0])], 3)
    compare("startprob (one sequence starts in 0, one in 1)", startprob, [0.5, 0.5, 0.0])
    compare("transmat: row i holds the counts of i -> j steps divided by their sum", transmat,
            [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]],
            hint="transmat[i, j] = n_ij / sum_j' n_ij': rows (the state you leave) sum to 1")


def markov_random(candidate):
    """against the reference on 5 random sequences of 4 states, with pseudocount 0 and 1"""
    rng = _rng()
    sequences = [rng.integers(0, 4, size=n) for n in (1, 7, 12, 3, 9)]
    for c in (0, 1):
        with case(f"pseudocount={c}"):
            startprob, transmat = candidate(sequences, 4, c)
            expected_start, expected_trans = reference_markov_mle(sequences, 4, c)
            compare("startprob", startprob, expected_start, hint="count the first state of each sequence only")
            compare("transmat", transmat, expected_trans)


def markov_never_left(candidate):
    """a state that is never left gets a uniform row (rows always sum to 1, no nan)"""
    startprob, transmat = candidate([np.array([0, 1, 0, 2])], 3)
    compare("transmat row 2 (state 2 is never left)", np.asarray(transmat)[2], np.full(3, 1 / 3),
            hint="a row of zero counts has no maximum: make it uniform instead of dividing 0 by 0")
    compare("transmat rows sum to 1", np.asarray(transmat).sum(axis=1), np.ones(3))


# ------------------------------------------------------------------ naive Bayes with Bernoulli pixels
def _bernoulli_nb(rng, N, D, K, low=0.05):
    """X (N, D) of 0s and 1s, feature_log_prob (K, D) with p_ki in [low, 1 - low], class_log_prior (K,)."""
    return ((rng.random((N, D)) < 0.5).astype(float), np.log(rng.uniform(low, 1 - low, (K, D))),
            np.log(rng.dirichlet(np.ones(K))))


def bernoulli_nb_by_hand(candidate):
    """Bayes' theorem over the product of Bernoullis, written out for 2 pixels and 2 classes"""
    p, prior = np.array([[0.9, 0.2], [0.3, 0.6]]), np.array([0.4, 0.6])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    joint = np.stack([prior[k] * np.prod(np.where(X == 1, p[k], 1 - p[k]), axis=1) for k in range(2)], axis=1)
    compare("ln p(C_k | x) for x = (1, 0), (0, 1), (1, 1), (0, 0)", candidate(X, np.log(p), np.log(prior)),
            np.log(joint / joint.sum(axis=1, keepdims=True)),
            hint="ln p(x | C_k) = sum_i x_i ln p_ki + (1 - x_i) ln(1 - p_ki): the pixels that are off count too")


def bernoulli_nb_normalized(candidate):
    """on random data (50 rows, 20 pixels, 4 classes): a log posterior, each row's exp sums to 1"""
    X, feature_log_prob, class_log_prior = _bernoulli_nb(_rng(), 50, 20, 4)
    got = np.asarray(candidate(X, feature_log_prob, class_log_prior))
    compare("sum_k p(C_k | x) for each row", np.exp(got).sum(axis=-1), np.ones(50),
            hint="Bayes' theorem divides by p(x) = sum_k p(x, C_k): subtract ln sum_k exp(a_k) from each a_k")
    compare("ln p(C_k | x)", got, reference_nb_log_posterior(X, feature_log_prob, class_log_prior))


def bernoulli_nb_stable(candidate):
    """784 pixels, like an MNIST digit: p(x | C_k) underflows to 0, ln p(C_k | x) must not"""
    X, feature_log_prob, class_log_prior = _bernoulli_nb(_rng(), 5, 784, 10, low=0.01)
    with np.errstate(all="ignore"):
        got = candidate(X, feature_log_prob, class_log_prior)
    compare("ln p(C_k | x) of 784-pixel images", got,
            reference_nb_log_posterior(X, feature_log_prob, class_log_prior),
            hint="the a_k here lie between -830 and -710, and exp underflows (to 0 below -745): take the "
                 "largest a_k out before exp (log-sum-exp)")


# ------------------------------------------------------------------ HMM: brute force over all paths
def _random_hmm(rng, K=3, T=4, lengths=(4, 2)):
    """startprob (K,), transmat (K, K) not symmetric, B_obs (B, T, K), mask (B, T)."""
    startprob = rng.dirichlet(np.ones(K))
    transmat = rng.dirichlet(np.ones(K), size=K)
    B_obs = rng.uniform(0.05, 1.0, (len(lengths), T, K))
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    return startprob, transmat, B_obs, mask


def _joint(startprob, transmat, B, path):
    """p(X, Z = path) for one sequence's B (T, K)."""
    p = startprob[path[0]] * B[0, path[0]]
    for n in range(1, len(path)):
        p *= transmat[path[n - 1], path[n]] * B[n, path[n]]
    return p


def _brute_force(startprob, transmat, B):
    """p(X) and the marginals p(z_n = k, X) (T, K) of one sequence, summing over all K^T paths."""
    T, K = B.shape
    marginals = np.zeros((T, K))
    for path in itertools.product(range(K), repeat=T):
        marginals[np.arange(T), path] += _joint(startprob, transmat, B, path)
    return marginals[0].sum(), marginals


def _filtered(startprob, transmat, B):
    """p(z_n | x_1..x_n) (T, K) by brute force: the posterior of the last state of each prefix."""
    return np.array([m[-1] / m[-1].sum() for m in (_brute_force(startprob, transmat, B[:n + 1])[1]
                                                    for n in range(len(B)))])


def hmm_forward_likelihood(candidate):
    """ln p(X) = sum_n ln c_n equals the sum over all K^T paths (2 sequences, K = 3, lengths 4 and 2)"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng())
    _, c = candidate(startprob, transmat, B_obs, mask)
    for b, length in enumerate(mask.sum(axis=1)):
        p_X, _ = _brute_force(startprob, transmat, B_obs[b, :length])
        compare(f"sequence {b}: sum_n ln c_n", np.log(np.asarray(c)[b]).sum(), np.log(p_X),
                hint="alpha_1 = pi * B_1; alpha_n = (alpha_{n-1} @ transmat) * B_n, with transmat[i, j] = "
                     "p(z_n = j | z_{n-1} = i); c_n is the sum of alpha_n before you divide by it")


def hmm_forward_alpha(candidate):
    """alpha_hat_n = p(z_n | x_1..x_n), brute force, for every step of every sequence"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng())
    alpha, _ = candidate(startprob, transmat, B_obs, mask)
    for b, length in enumerate(mask.sum(axis=1)):
        compare(f"sequence {b}: alpha_hat (steps, states)", np.asarray(alpha)[b, :length],
                _filtered(startprob, transmat, B_obs[b, :length]),
                hint="each alpha_hat_n is normalized to sum to 1 (divided by c_n)")


def hmm_forward_padding(candidate):
    """padding steps change nothing: c = 1 there and alpha_hat keeps its last value"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng())
    alpha, c = (np.asarray(a) for a in candidate(startprob, transmat, B_obs, mask))
    compare("c on the padding steps of sequence 1 (length 2 of 4)", c[1, 2:], np.ones(2))
    compare("alpha_hat on the padding steps of sequence 1", alpha[1, 2:], np.repeat(alpha[1, 1:2], 2, axis=0),
            hint="on a step where mask is False, carry alpha_{n-1} over unchanged (xp.where(mask[:, n, None], ...))")


def hmm_backward_brute_force(candidate):
    """beta_hat_n = p(z_n | X) / p(z_n | x_1..x_n), brute force, for every step of every sequence"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng())
    _, c = reference_forward(startprob, transmat, B_obs, mask)
    beta = np.asarray(candidate(transmat, B_obs, c, mask))
    for b, length in enumerate(mask.sum(axis=1)):
        p_X, marginals = _brute_force(startprob, transmat, B_obs[b, :length])
        expected = (marginals / p_X) / _filtered(startprob, transmat, B_obs[b, :length])
        compare(f"sequence {b}: beta_hat (steps, states)", beta[b, :length], expected,
                hint="beta_hat_T = 1; beta_hat_n = transmat @ (B_{n+1} * beta_hat_{n+1}) / c_{n+1}: "
                     "a sum over the NEXT state j of transmat[i, j]")


def hmm_backward_posteriors(candidate):
    """gamma = alpha_hat * beta_hat is p(z_n | X): each row sums to 1"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng(), K=2, T=5, lengths=(5, 3))
    alpha, c = reference_forward(startprob, transmat, B_obs, mask)
    gamma = alpha * np.asarray(candidate(transmat, B_obs, c, mask))
    compare("sum_k gamma_n,k on the real steps", gamma.sum(axis=2)[mask], np.ones(int(mask.sum())))


def hmm_backward_padding(candidate):
    """beta_hat is 1 on padding steps"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng())
    _, c = reference_forward(startprob, transmat, B_obs, mask)
    beta = np.asarray(candidate(transmat, B_obs, c, mask))
    compare("beta_hat on the padding steps of sequence 1 (length 2 of 4) and at its last step", beta[1, 1:],
            np.ones((3, 3)), hint="where mask[:, n + 1] is False, beta_hat_n = 1, as at the last real step")


def _best_path(startprob, transmat, B):
    """The path of largest p(X, Z) and its log probability, over all K^T paths."""
    T, K = B.shape
    best = max(itertools.product(range(K), repeat=T), key=lambda z: _joint(startprob, transmat, B, z))
    return np.array(best), math.log(_joint(startprob, transmat, B, best))


def viterbi_max(candidate):
    """ln max_Z p(X, Z) equals the maximum over all K^T paths (3 sequences, K = 3)"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng(), T=5, lengths=(5, 3, 1))
    logprob, _ = candidate(startprob, transmat, B_obs, mask)
    for b, length in enumerate(mask.sum(axis=1)):
        _, expected = _best_path(startprob, transmat, B_obs[b, :length])
        compare(f"sequence {b}: ln max_Z p(X, Z)", np.asarray(logprob)[b], expected,
                hint="ln delta_n,j = max_i(ln delta_{n-1,i} + ln transmat_ij) + ln B_n,j: a max, not a sum")


def viterbi_path(candidate):
    """the path returned is a best path: its ln p(X, Z) is the maximum (ties allowed)"""
    rng = _rng()
    for trial in range(3):
        startprob, transmat, B_obs, mask = _random_hmm(rng, T=5, lengths=(5, 4))
        _, path = candidate(startprob, transmat, B_obs, mask)
        for b, length in enumerate(mask.sum(axis=1)):
            z = np.asarray(path)[b, :length]
            best, best_logprob = _best_path(startprob, transmat, B_obs[b, :length])
            if z.shape != best.shape or z.min() < 0 or z.max() >= 3:
                fail(f"trial {trial}, sequence {b}: path {z.tolist()} is not a list of {length} states in 0..2")
            mine = math.log(_joint(startprob, transmat, B_obs[b, :length], z))
            if not np.isclose(mine, best_logprob):
                fail(f"trial {trial}, sequence {b}: your path {z.tolist()} has ln p(X, Z) = {mine:.6g}, but the "
                     f"best path {best.tolist()} has {best_logprob:.6g}\n  hint: backtrack with z_T = argmax_k "
                     "delta_T,k and z_{n-1} = psi_n[z_n], where psi_n,j is the best predecessor of state j at "
                     "step n (an off-by-one here shifts the path)")


def viterbi_padding(candidate):
    """the path is -1 on padding steps"""
    startprob, transmat, B_obs, mask = _random_hmm(_rng(), T=5, lengths=(5, 3, 1))
    _, path = candidate(startprob, transmat, B_obs, mask)
    compare("path on the padding steps", np.asarray(path)[~mask], np.full(int((~mask).sum()), -1))


def m_step_values(candidate):
    """pi and transmat are the expected counts divided by their row sums"""
    rng = _rng()
    start_counts, trans_counts = rng.uniform(0, 5, 3), rng.uniform(0, 5, (3, 3))
    previous = (np.full(3, 1 / 3), np.full((3, 3), 1 / 3))
    got, expected = candidate(start_counts, trans_counts, *previous), reference_m_step(start_counts, trans_counts,
                                                                                     *previous)
    compare("startprob", got[0], expected[0])
    compare("transmat", got[1], expected[1],
            hint="transmat[i, j] = trans_counts[i, j] / sum_j' trans_counts[i, j']: normalize each ROW")


def m_step_unvisited(candidate):
    """a state never visited (a zero row of counts) keeps its previous row, without nan"""
    trans_counts = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 3.0]])
    previous = np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0], [0.1, 0.1, 0.8]])
    _, transmat = candidate(np.array([1.0, 0.0, 0.0]), trans_counts, np.full(3, 1 / 3), previous)
    compare("transmat (row 1 has no counts)", transmat, [[2 / 3, 1 / 3, 0], previous[1], [0.25, 0, 0.75]],
            hint="where a row sums to 0, keep the previous row (xp.where(total > 0, counts / total, previous))")


def m_step_em_increases_likelihood(candidate):
    """five Baum-Welch iterations never lower ln p(X) (the E step from minigen, your M step)"""
    rng = _rng()
    startprob, transmat, B_obs, mask = _random_hmm(rng, K=3, T=6, lengths=(6, 5, 6))
    startprob, transmat = np.full(3, 1 / 3), rng.dirichlet(np.ones(3), size=3)
    previous = -np.inf
    for iteration in range(5):
        log_likelihood, gamma, xi_sum = e_step(startprob, transmat, B_obs, mask)
        total = float(log_likelihood.sum())
        if total < previous - 1e-9:
            fail(f"iteration {iteration}: ln p(X) fell from {previous:.6g} to {total:.6g}; EM never lowers it")
        previous = total
        startprob, transmat = candidate(*expected_counts(gamma, xi_sum), startprob, transmat)


# ------------------------------------------------------------------ VAE
def reparameterize_same_shapes(candidate):
    """gradcheck of z = mu + exp(logvar / 2) eps in mu, logvar and eps, all (3, 2)"""
    rng = _rng()
    check_gradients("reparameterize(mu (3, 2), logvar (3, 2), eps (3, 2))", reparameterize,
                    (leaf(rng, 3, 2), leaf(rng, 3, 2), leaf(rng, 3, 2)))


def reparameterize_broadcasting(candidate):
    """gradcheck with 4 samples per example: mu, logvar (3, 2) and eps (4, 3, 2)"""
    rng = _rng()
    check_gradients("reparameterize(mu (3, 2), logvar (3, 2), eps (4, 3, 2))", reparameterize,
                    (leaf(rng, 3, 2), leaf(rng, 3, 2), leaf(rng, 4, 3, 2)))


def reparameterize_second_order(candidate):
    """gradgradcheck (the backward is written with Tensor ops)"""
    rng = _rng()
    check_gradients("second derivatives of reparameterize, all (2, 2)", reparameterize,
                    (leaf(rng, 2, 2), leaf(rng, 2, 2), leaf(rng, 2, 2)), second=True)


def _kl_by_integration(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)) in 1-D by the trapezoid rule over mu +- 12 sigma."""
    sigma = math.exp(logvar / 2)
    z = np.linspace(mu - 12 * sigma, mu + 12 * sigma, 20001)
    log_q = -0.5 * ((z - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    log_p = -0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)
    f = np.exp(log_q) * (log_q - log_p)
    return ((f[1:] + f[:-1]) / 2 * np.diff(z)).sum()


KL_SHAPE_HINT = "one KL per example: sum over the last dim (axis=-1), the latent dims, not over the examples"


def kl_properties(candidate):
    """KL = 0 at the prior (mu = 0, logvar = 0), KL >= 0 on a grid of (mu, logvar), one value per example: (N,)"""
    compare("KL(N(0, I) || N(0, I)) for 2 examples of 3 latent dims", gaussian_kl(Tensor(np.zeros((2, 3))),
                                                                                  Tensor(np.zeros((2, 3)))),
            np.zeros(2), hint="KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)), summed over the last dim",
            shape_hint=KL_SHAPE_HINT)
    mu, logvar = (a.reshape(-1, 1) for a in np.meshgrid(np.linspace(-3, 3, 13), np.linspace(-6, 6, 49)))
    kl = np.asarray(gaussian_kl(Tensor(mu), Tensor(logvar)).data).reshape(-1)
    if (kl < -1e-12).any():
        worst = np.argmin(kl)
        guess = ("it is negative everywhere but at the prior: is the sign flipped?" if (kl <= 1e-12).all() else
                 "each dim's KL, -ln sigma + sigma^2 / 2 + mu^2 / 2 - 1/2, is >= 0: check each term, "
                 "and that sigma^2 = exp(logvar)")
        fail(f"KL must be >= 0 (Gibbs' inequality), got {kl[worst]:.6g} at mu = {mu[worst, 0]:.4g}, logvar = "
             f"{logvar[worst, 0]:.4g} (1-D latent; {int((kl < -1e-12).sum())} of {kl.size} grid points are "
             f"negative)\n  hint: {guess}")


def kl_integration(candidate):
    """KL equals numerical integration of q ln(q / p), in 1-D and summed over 2-D latents"""
    pairs = [(0.5, 0.0), (-1.0, -1.5), (0.0, 1.0), (2.0, 0.7)]
    expected = np.array([_kl_by_integration(m, lv) for m, lv in pairs])
    mu, logvar = (Tensor(np.array([[p[k]] for p in pairs])) for k in (0, 1))
    got = gaussian_kl(mu, logvar)
    std_as_var = -0.5 * (1 + logvar.data - mu.data ** 2 - np.exp(logvar.data / 2)).sum(axis=-1)
    compare("KL of (mu, logvar) = " + ", ".join(map(str, pairs)), got, expected, atol=1e-6,
            hint=hint_when(got, std_as_var, "sigma^2 = exp(logvar), not exp(logvar / 2) (that is sigma): per dim "
                                            "-ln sigma + sigma^2 / 2 + mu^2 / 2 - 1/2"), shape_hint=KL_SHAPE_HINT)
    both = gaussian_kl(Tensor(np.array([[0.5, -1.0]])), Tensor(np.array([[0.0, -1.5]])))
    compare("KL of a 2-D latent (sum over the last dim)", both, [expected[0] + expected[1]], atol=1e-6,
            shape_hint=KL_SHAPE_HINT)


def kl_gradients(candidate):
    """gradcheck: your forward agrees with the backward's dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2"""
    rng = _rng()
    check_gradients("gaussian_kl(mu (3, 2), logvar (3, 2))", gaussian_kl, (leaf(rng, 3, 2), leaf(rng, 3, 2)))
