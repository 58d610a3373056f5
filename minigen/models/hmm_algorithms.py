"""Hidden Markov model algorithms as plain functions: forward, backward, posteriors, Viterbi, Baum-Welch.

Every function works on a batch of B sequences at once, on the array module (NumPy or
CuPy) of its inputs, and comes in two variants: *scaled* (Rabiner: alpha_n is normalized
by c_n and ln p(X) = sum_n ln c_n) and *log* (log-probabilities throughout, logsumexp).

The arguments' names and shapes follow NOTATION, just below (the HMM exercises show it
too). These functions trust their inputs; the models in minigen.models.hmm validate at
their door.

One step of Python per time step is the cost for very long sequences: minigen.models.hmm_scan
computes ln p(X) and Viterbi of one such sequence by chunks, from the recurrences here.
"""
import numpy as np

from minigen import backend

NOTATION = """Notation (the lecture's; K states, T steps of the longest sequence)::

    startprob (K,)       pi_k = p(z_1 = k)
    transmat  (K, K)     transmat[i, j] = p(z_n = j | z_{n-1} = i), rows sum to 1 (hmmlearn's layout;
                         the lecture's column-wise A is transmat.T)
    B_obs     (B, T, K)  B_obs[b, n, k] = p(x_n | z_n = k) for sequence b (scaled variant)
    log_B     (B, T, K)  its logarithm (log variant)
    mask      (B, T)     True on the steps of each sequence; sequences start at step 0 and
                         are padded at the end (see pad_sequences)

Padding steps change nothing: alpha is carried over them unchanged, beta is 1 there,
gamma and xi are 0 there."""


# ------------------------------------------------------------------ batches
@backend.on_data_device
def pad_sequences(X, lengths=None, fill=0):
    """hmmlearn's concatenated ``X`` (N, ...) and ``lengths`` -> padded (B, T, ...) and mask (B, T).

    ``lengths=None`` means one sequence. Raises ValueError for lengths that are not positive
    or do not sum to len(X).
    """
    xp = backend.array_module(X)
    lengths = np.asarray([len(X)] if lengths is None else lengths, dtype=np.int64).reshape(-1)
    if lengths.size == 0 or (lengths <= 0).any():
        raise ValueError(f"lengths must be positive (empty sequences are not allowed), got {lengths.tolist()}")
    if lengths.sum() != len(X):
        raise ValueError(f"lengths sum to {lengths.sum()} but X has {len(X)} rows")
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]
    padded = xp.full(mask.shape + X.shape[1:], fill, dtype=X.dtype)
    mask = backend.to_device(mask, backend.device_of(X))
    padded[mask] = X  # boolean indexing visits sequence after sequence, step after step
    return padded, mask


@backend.on_data_device
def unpad(values, mask):
    """Padded (B, T, ...) values -> concatenated (N, ...) in hmmlearn's order (the inverse of pad_sequences)."""
    return values[mask]


def _logsumexp(x, axis):
    """ln sum exp(x) over ``axis`` on raw arrays; -inf when every term is -inf. Overwrites x (a temporary)."""
    xp = backend.array_module(x)
    m = x.max(axis=axis, keepdims=True)
    m[~xp.isfinite(m)] = 0
    x -= m
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(x, out=x).sum(axis=axis)) + m.squeeze(axis)


@backend.on_data_device
def safe_log(p):
    """ln p with ln 0 = -inf and no warning (zeros of left-to-right models)."""
    with np.errstate(divide="ignore"):
        return backend.array_module(p).log(p)


# ------------------------------------------------------------------ scaled variant
@backend.on_data_device
def forward_scaled(startprob, transmat, B_obs, mask):
    """Scaled forward pass. Returns alpha_hat (B, T, K) and c (B, T).

    alpha_hat_1 = pi * B_1 / c_1;  alpha_hat_n = (alpha_hat_{n-1} @ transmat) * B_n / c_n,
    c_n chosen so that alpha_hat_n sums to 1; c_n = p(x_n | x_1..x_{n-1}), ln p(X) = sum_n ln c_n.
    c is 1 on padding steps. Raises ValueError when a sequence has probability zero at some
    step (every alpha_n vanishes, so there is nothing to normalize).
    """
    xp = backend.array_module(B_obs)
    n_seq, n_steps, _ = B_obs.shape
    alpha, c = xp.empty_like(B_obs), xp.ones((n_seq, n_steps), dtype=B_obs.dtype)
    a = startprob * B_obs[:, 0]
    for n in range(n_steps):
        if n > 0:
            a = xp.where(mask[:, n, None], (alpha[:, n - 1] @ transmat) * B_obs[:, n], alpha[:, n - 1])
        c[:, n] = a.sum(axis=1)
        with np.errstate(invalid="ignore"):
            alpha[:, n] = a / c[:, n, None]
    _check_nonzero(c, mask)
    return alpha, c


def _check_nonzero(c, mask):
    zero = backend.to_host((c <= 0) & mask)
    if zero.any():
        b, n = np.argwhere(zero)[0]
        raise ValueError(f"sequence {b} has probability zero at step {n}: every alpha_{n} vanished "
                         "(an observation no state can emit there, or an underflow); "
                         'the log variant (implementation="log") returns -inf instead')


@backend.on_data_device
def log_likelihood_scaled(c):
    """ln p(X) = sum_n ln c_n for each sequence: (B,)."""
    return backend.array_module(c).log(c).sum(axis=1)


@backend.on_data_device
def backward_scaled(transmat, B_obs, c, mask):
    """Scaled backward pass. Returns beta_hat (B, T, K).

    beta_hat_T = 1;  beta_hat_n = transmat @ (B_{n+1} * beta_hat_{n+1}) / c_{n+1}.
    """
    xp = backend.array_module(B_obs)
    beta = xp.ones_like(B_obs)
    for n in range(B_obs.shape[1] - 2, -1, -1):
        b = (B_obs[:, n + 1] * beta[:, n + 1]) @ transmat.T / c[:, n + 1, None]
        beta[:, n] = xp.where(mask[:, n + 1, None], b, 1)
    return beta


@backend.on_data_device
def xi_steps_scaled(transmat, B_obs, alpha, beta, c, mask):
    """xi (B, T-1, K, K): xi[b, n-1, i, j] = p(z_{n-1} = i, z_n = j | X)
    = alpha_hat_{n-1,i} transmat_ij B_{n,j} beta_hat_{n,j} / c_n (0 on padding)."""
    return alpha[:, :-1, :, None] * transmat * _xi_right_factor(B_obs, beta, c, mask)[:, :, None, :]


def _xi_right_factor(B_obs, beta, c, mask):
    """w_{n,j} = B_{n,j} beta_hat_{n,j} / c_n for n >= 2 (B, T-1, K), 0 on padding: xi's factor that depends on j."""
    return B_obs[:, 1:] * beta[:, 1:] / c[:, 1:, None] * mask[:, 1:, None]


@backend.on_data_device
def posteriors_scaled(transmat, B_obs, alpha, beta, c, mask):
    """gamma (B, T, K) = alpha_hat * beta_hat (0 on padding) and xi summed over time (B, K, K).

    The sum over n of xi_steps_scaled, computed as one batched product without the (B, T, K, K) array.
    """
    gamma = alpha * beta * mask[..., None]
    w = _xi_right_factor(B_obs, beta, c, mask)
    xi_sum = transmat * (alpha[:, :-1].transpose(0, 2, 1) @ w)  # sum_n alpha_{n-1,i} w_{n,j}
    return gamma, xi_sum


@backend.on_data_device
def viterbi_scaled(startprob, transmat, B_obs, mask):
    """Viterbi with max-normalized products. Returns log-probability (B,) and path (B, T) (-1 on padding).

    delta_n = max_i delta_{n-1,i} transmat_ij B_{n,j}, divided by its maximum d_n each step;
    ln max_Z p(X, Z) = sum_n ln d_n. A path of probability zero gives -inf.
    """
    xp = backend.array_module(B_obs)
    n_seq, n_steps, n_states = B_obs.shape
    psi = xp.empty((n_seq, n_steps, n_states), dtype=np.int64)
    logprob = xp.zeros(n_seq, dtype=B_obs.dtype)
    delta = startprob * B_obs[:, 0]
    for n in range(n_steps):
        if n > 0:
            scores = delta[:, :, None] * transmat
            psi[:, n] = _argmax_or_stay(scores, mask[:, n])
            delta = xp.where(mask[:, n, None], scores.max(axis=1) * B_obs[:, n], delta)
        d = delta.max(axis=1)
        with np.errstate(divide="ignore"):
            logprob += xp.where(mask[:, n], xp.log(d), 0)
        delta = delta / xp.where(d > 0, d, 1)[:, None]
    return logprob, _backtrack(psi, delta.argmax(axis=1), mask)


def _argmax_or_stay(scores, step_mask):
    """argmax over the previous state i of scores (B, K_i, K_j); on padding steps, j itself."""
    xp = backend.array_module(scores)
    return xp.where(step_mask[:, None], scores.argmax(axis=1), xp.arange(scores.shape[2]))


def _backtrack(psi, last, mask):
    """Follow the back pointers psi (B, T, K) from the last states (B,); -1 on padding."""
    xp = backend.array_module(psi)
    path = xp.empty(mask.shape, dtype=np.int64)
    path[:, -1] = last
    rows = xp.arange(len(last))
    for n in range(mask.shape[1] - 1, 0, -1):
        path[:, n - 1] = psi[rows, n, path[:, n]]
    return xp.where(mask, path, -1)


# ------------------------------------------------------------------ log variant
@backend.on_data_device
def forward_log(log_startprob, log_transmat, log_B, mask):
    """Log-space forward pass. Returns log_alpha (B, T, K) and ln p(X) (B,).

    ln alpha_1 = ln pi + ln B_1;  ln alpha_n,j = logsumexp_i(ln alpha_{n-1,i} + ln transmat_ij) + ln B_n,j;
    ln p(X) = logsumexp_k ln alpha_{T,k} (-inf for a sequence of probability zero).
    """
    xp = backend.array_module(log_B)
    log_alpha = xp.empty_like(log_B)
    log_alpha[:, 0] = log_startprob + log_B[:, 0]
    for n in range(1, log_B.shape[1]):
        a = _logsumexp(log_alpha[:, n - 1, :, None] + log_transmat, axis=1) + log_B[:, n]
        log_alpha[:, n] = xp.where(mask[:, n, None], a, log_alpha[:, n - 1])
    return log_alpha, _logsumexp(log_alpha[:, -1].copy(), axis=1)


@backend.on_data_device
def backward_log(log_transmat, log_B, mask):
    """Log-space backward pass. Returns log_beta (B, T, K).

    ln beta_T = 0;  ln beta_n,i = logsumexp_j(ln transmat_ij + ln B_{n+1,j} + ln beta_{n+1,j}).
    """
    xp = backend.array_module(log_B)
    log_beta = xp.zeros_like(log_B)
    for n in range(log_B.shape[1] - 2, -1, -1):
        b = _logsumexp(log_transmat + (log_B[:, n + 1] + log_beta[:, n + 1])[:, None, :], axis=2)
        log_beta[:, n] = xp.where(mask[:, n + 1, None], b, 0)
    return log_beta


def _log_norms(log_alpha, log_beta):
    """ln sum_k alpha_nk beta_nk (B, T): ln p(X) as step n sees it, the same at every n in exact
    arithmetic. Dividing each step's posteriors by its own, not by the one ln p(X), keeps
    rounding from drifting along long sequences (as the scaled variant's c_n do)."""
    return _logsumexp(log_alpha + log_beta, axis=2)


@backend.on_data_device
def xi_steps_log(log_transmat, log_B, log_alpha, log_beta, mask):
    """xi (B, T-1, K, K) = exp(ln alpha_{n-1,i} + ln transmat_ij + ln B_{n,j} + ln beta_{n,j} - ln p(X)),
    0 on padding."""
    return _xi_steps_log(log_transmat, log_B, log_alpha, log_beta, mask, _log_norms(log_alpha, log_beta))


def _xi_steps_log(log_transmat, log_B, log_alpha, log_beta, mask, log_norm):
    xp = backend.array_module(log_B)
    log_w = xp.where(mask[:, 1:, None], log_B[:, 1:] + log_beta[:, 1:] - log_norm[:, 1:, None], -np.inf)
    log_xi = log_alpha[:, :-1, :, None] + log_transmat + log_w[:, :, None, :]
    return xp.exp(log_xi, out=log_xi)


@backend.on_data_device
def posteriors_log(log_transmat, log_B, log_alpha, log_beta, mask):
    """gamma (B, T, K) = exp(ln alpha + ln beta - ln p(X)) (0 on padding) and xi summed over time (B, K, K)."""
    xp = backend.array_module(log_B)
    log_norm = _log_norms(log_alpha, log_beta)
    gamma = xp.exp(log_alpha + log_beta - log_norm[..., None]) * mask[..., None]
    return gamma, _xi_steps_log(log_transmat, log_B, log_alpha, log_beta, mask, log_norm).sum(axis=1)


@backend.on_data_device
def viterbi_log(log_startprob, log_transmat, log_B, mask):
    """Log-space Viterbi. Returns ln max_Z p(X, Z) (B,) and the path (B, T) (-1 on padding).

    ln delta_1 = ln pi + ln B_1;  ln delta_n,j = max_i(ln delta_{n-1,i} + ln transmat_ij) + ln B_n,j,
    psi_n,j = argmax_i(...);  z_T = argmax_k ln delta_T,k, z_{n-1} = psi_n,z_n.
    """
    xp = backend.array_module(log_B)
    psi = xp.empty(log_B.shape, dtype=np.int64)
    log_delta = log_startprob + log_B[:, 0]
    for n in range(1, log_B.shape[1]):
        scores = log_delta[:, :, None] + log_transmat
        psi[:, n] = _argmax_or_stay(scores, mask[:, n])
        log_delta = xp.where(mask[:, n, None], scores.max(axis=1) + log_B[:, n], log_delta)
    return log_delta.max(axis=1), _backtrack(psi, log_delta.argmax(axis=1), mask)


# ------------------------------------------------------------------ Baum-Welch
@backend.on_data_device
def e_step(startprob, transmat, emission, mask, implementation="scaling"):
    """Posteriors of one batch. ``emission`` is B_obs (scaling) or log_B (log).

    Returns ln p(X) (B,), gamma (B, T, K) and xi summed over time (B, K, K).
    The scaled variant raises ValueError for a sequence of probability zero.
    """
    if implementation == "scaling":
        alpha, c = forward_scaled(startprob, transmat, emission, mask)
        beta = backward_scaled(transmat, emission, c, mask)
        return (log_likelihood_scaled(c), *posteriors_scaled(transmat, emission, alpha, beta, c, mask))
    log_transmat = safe_log(transmat)
    log_alpha, log_likelihood = forward_log(safe_log(startprob), log_transmat, emission, mask)
    log_beta = backward_log(log_transmat, emission, mask)
    return (log_likelihood, *posteriors_log(log_transmat, emission, log_alpha, log_beta, mask))


@backend.on_data_device
def expected_counts(gamma, xi_sum):
    """Expected start and transition counts summed over the batch: (K,) and (K, K).

    start_k = sum_b gamma[b, 0, k];  trans_ij = sum_b sum_n xi[b, n, i, j].
    """
    return gamma[:, 0].sum(axis=0), xi_sum.sum(axis=0)


@backend.on_data_device
def categorical_counts(gamma, symbols, n_features):
    """Expected emission counts (K, M): counts[k, m] = sum over steps with x_n = m of gamma_n,k.

    symbols: (B, T) ints (any value on padding, where gamma is 0).
    """
    xp = backend.array_module(gamma)
    one_hot = symbols[..., None] == xp.arange(n_features)  # (B, T, M)
    return xp.einsum("btk,btm->km", gamma, one_hot.astype(gamma.dtype))


@backend.on_data_device
def normalize_rows(counts, previous):
    """M step for a stochastic vector or matrix: counts / row sums.

    A row with no counts (a state never visited) keeps its previous value, so parameters stay
    finite. A zero in ``previous`` has zero counts, so it stays zero (left-to-right models).
    """
    xp = backend.array_module(counts)
    total = counts.sum(axis=-1, keepdims=True)
    return xp.where(total > 0, counts / xp.where(total > 0, total, 1), previous)


@backend.on_data_device
def m_step(start_counts, trans_counts, startprob, transmat):
    """Baum-Welch M step for pi and transmat: pi_k = start_k / sum start, transmat_ij = trans_ij / sum_j trans_ij."""
    return normalize_rows(start_counts, startprob), normalize_rows(trans_counts, transmat)
