"""Hidden Markov model algorithms as plain functions: forward, backward, posteriors, Viterbi, Baum-Welch.

Every function works on a batch of B sequences at once, on the array module (NumPy or
CuPy) of its inputs, and comes in two variants: *scaled* (Rabiner: alpha_n is normalized
by c_n and ln p(X) = sum_n ln c_n) and *log* (log-probabilities throughout, logsumexp).

Notation (the lecture's; K states, T steps of the longest sequence)::

    startprob (K,)       pi_k = p(z_1 = k)
    transmat  (K, K)     transmat[i, j] = p(z_n = j | z_{n-1} = i), rows sum to 1 (hmmlearn's layout;
                         the lecture's column-wise A is transmat.T)
    B_obs     (B, T, K)  B_obs[b, n, k] = p(x_n | z_n = k) for sequence b (scaled variant)
    log_B     (B, T, K)  its logarithm (log variant)
    mask      (B, T)     True on the steps of each sequence; sequences start at step 0 and
                         are padded at the end (see pad_sequences)

Padding steps change nothing: alpha is carried over them unchanged, beta is 1 there,
gamma and xi are 0 there. These functions trust their inputs; the models in
minigen.models.hmm validate at their door.
"""
import numpy as np

from minigen import backend


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


_RESCALE_BELOW = 1e-20  # log_likelihood_scan rescales rows this far from 1: 1e288 of headroom for one step


@backend.on_data_device
def log_likelihood_scan(startprob, transmat, B_obs, n_chunks=256, allow_zero=False):
    """ln p(X) of ONE sequence, B_obs (T, K), computed as an associative scan over time.

    p(X) = (pi * b_1)^T M_2 M_3 ... M_T 1  with  M_n = transmat * b_n (b_n along the columns).
    Matrix products may be grouped in any order, so the T - 1 factors are cut into
    ``n_chunks`` chunks and the product of every chunk is grown at once, one step of all
    chunks per array operation (a (chunks * K, K) @ (K, K) product): T / n_chunks Python
    steps instead of T, for K times more arithmetic. Row i of a chunk's product (the paths
    that enter the chunk in state i) grows on its own, so each row is rescaled to sum 1, as
    alpha is by c_n, and keeps its own log-scale, ln p(the chunk's observations so far | it
    starts in state i): one start state far less likely than another (a reducible chain)
    cannot underflow the other's row. Rows are rescaled only once one of them has shrunk
    below 1e-20 (or grown past 1e20), which saves a pass over P on most steps. Then alpha passes through the chunk products in
    order, weighted by those scales in log space. Same value as forward_scaled, to rounding. A zero found this way is confirmed by the sequential log pass (forward_log);
    a sequence of probability zero raises ValueError, or gives -inf with ``allow_zero=True``.
    """
    xp = backend.array_module(B_obs)
    n_steps, k = B_obs.shape
    n_chunks = max(1, min(n_chunks, n_steps - 1))
    length = -(-(n_steps - 1) // n_chunks)  # steps per chunk; the last chunk is padded with b = 1
    b = xp.ones((n_chunks * length, k), dtype=B_obs.dtype)
    b[:n_steps - 1] = B_obs[1:]
    b = b.reshape(n_chunks, length, k).transpose(1, 0, 2).copy()  # b[n, c]: step n of chunk c
    P = xp.broadcast_to(xp.eye(k, dtype=B_obs.dtype), (n_chunks, k, k)).copy()
    log_scale = xp.zeros((n_chunks, k))  # ln of what row i of chunk c was divided by
    ones = xp.ones(k, dtype=B_obs.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        for n in range(length):  # P <- P M_n for every chunk
            P = (P.reshape(-1, k) @ transmat).reshape(n_chunks, k, k)
            P *= b[n][:, None, :]
            row_sums = P @ ones  # a product: 10x faster than a sum over the short last axis
            if _rows_left_range(row_sums):
                log_scale += xp.log(row_sums)  # -inf: no path from that start state survives
                P *= (1 / xp.where(row_sums > 0, row_sums, 1))[:, :, None]  # each row back to sum 1
        log_alpha = safe_log(startprob * B_obs[0])
        for chunk, log_r in zip(P, log_scale):  # alpha <- alpha diag(e^log_r) chunk, in log space
            w = log_alpha + log_r
            top = w.max()
            log_alpha = xp.log(xp.exp(w - top) @ chunk) + top
        total = _logsumexp(log_alpha, axis=0)
        if not bool(xp.isfinite(total)):  # confirm a zero with the sequential pass, exact in log space
            log_B = safe_log(B_obs)[None]
            total = forward_log(safe_log(startprob), safe_log(transmat), log_B, xp.ones(log_B.shape[:2], bool))[1][0]
    if not bool(xp.isfinite(total)):
        if allow_zero:
            return xp.asarray(-np.inf)
        raise ValueError("the sequence has probability zero (an observation no reachable state can emit); "
                         'the log variant (implementation="log") returns -inf instead')
    return total


def _rows_left_range(row_sums):
    """True when a row sum has left [1e-20, 1e20], so the rows need rescaling. On a GPU always
    True: reading the answer back to the host would stall the device at every step, and the
    rescaling pass costs less than that wait (docs/gpu.md)."""
    if not isinstance(row_sums, np.ndarray):
        return True
    return not _RESCALE_BELOW < row_sums.min() or row_sums.max() > 1 / _RESCALE_BELOW


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
    w = B_obs[:, 1:] * beta[:, 1:] / c[:, 1:, None] * mask[:, 1:, None]
    return alpha[:, :-1, :, None] * transmat * w[:, :, None, :]


@backend.on_data_device
def posteriors_scaled(transmat, B_obs, alpha, beta, c, mask):
    """gamma (B, T, K) = alpha_hat * beta_hat (0 on padding) and xi summed over time (B, K, K).

    The sum over n of xi_steps_scaled, computed as one batched product without the (B, T, K, K) array.
    """
    gamma = alpha * beta * mask[..., None]
    w = B_obs[:, 1:] * beta[:, 1:] / c[:, 1:, None] * mask[:, 1:, None]
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
    """xi (B, T-1, K, K) = exp(ln alpha_{n-1,i} + ln transmat_ij + ln B_{n,j} + ln beta_{n,j} - ln p(X)), 0 on padding."""
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


# ------------------------------------------------------------------ Viterbi by chunks
_PARALLEL_RTOL = 1e-11  # two ln delta vectors "differ by a constant" up to this rounding, relative to their size


@backend.on_data_device
def viterbi_scan(log_startprob, log_transmat, log_B, n_chunks=256, max_rounds=4):
    """Log-space Viterbi of ONE sequence, log_B (T, K), by chunks. Returns ln max_Z p(X, Z) (a scalar) and the path (T,).

    The recursion of viterbi_log, ln delta_n,j = max_i(ln delta_{n-1,i} + ln transmat_ij) + ln B_n,j,
    commutes with adding a constant to ln delta, and after a few steps it forgets where it
    started but for such a constant (rank convergence: Maleki, Musuvathi & Mytkowicz 2014).
    So the T steps are cut into ``n_chunks`` chunks that all run at once from an arbitrary
    start, one (K, K, chunks) array operation per step; then each chunk restarts from the end
    of the chunk before until its ln delta differs from the stored one by a constant (the
    fix-up). The back pointers psi_n(z_n) = argmax_i(ln delta_{n-1,i} + ln transmat_{i,z_n})
    only need ln delta up to that constant, so the back-tracking runs by chunks too: every
    chunk from a guessed end state at once, then again from the true one until its path meets
    the guess. Each phase repeats in rounds until nothing changes; the log-probability is that
    of the path, ln pi_z1 + sum_n ln transmat_{z_n-1, z_n} + sum_n ln B_n,z_n. A model that
    never forgets (identity, permutation or left-to-right transmats) would need a round per
    chunk: past ``max_rounds`` rounds in a phase, the sequence goes to viterbi_log instead.

    Same path and value as viterbi_log, to rounding: ties go to the first index, as there,
    wherever they are exact in floating point; two paths whose log-probabilities differ by about
    1e-11 of their size may be told apart differently. A sequence of probability zero gives
    -inf and the same path as viterbi_log (state 0 from the first step where every ln delta is -inf).
    """
    path = _viterbi_chunks(log_startprob, log_transmat, log_B, n_chunks, max_rounds)
    if path is None:  # the chunks do not forget their start: the plain recursion is cheaper
        mask = backend.array_module(log_B).ones((1, len(log_B)), dtype=bool)
        logprob, path = viterbi_log(log_startprob, log_transmat, log_B[None], mask)
        return logprob[0], path[0]
    return _path_log_prob(log_startprob, log_transmat, log_B, path), path


def _viterbi_chunks(log_startprob, log_transmat, log_B, n_chunks, max_rounds):
    """The best path (T,) by chunks, or None when a phase still changes after ``max_rounds`` rounds."""
    xp = backend.array_module(log_B)
    n_steps, k = log_B.shape
    length = -(-n_steps // max(1, min(n_chunks, n_steps)))  # steps per chunk
    n_chunks, pad = -(-n_steps // length), -n_steps % length  # chunk 0 begins with ``pad`` dummy steps
    log_b = xp.concatenate([xp.zeros((pad, k), dtype=log_B.dtype), log_B])
    log_b = log_b.reshape(n_chunks, length, k).transpose(1, 2, 0).copy()  # log_b[l, j, c]: step l of chunk c
    with np.errstate(invalid="ignore"):  # -inf - -inf where both vectors have probability zero
        log_delta = _forward_chunks(log_startprob, log_transmat, log_b, pad)
        if not _fix_up(log_transmat, log_b, log_delta, max_rounds):
            return None
    path = _backtrack_chunks(log_transmat, log_delta, max_rounds)
    return None if path is None else path.T.reshape(-1)[pad:]


def _max_plus(log_delta, log_transmat):
    """max_i(ln delta_i + ln transmat_ij) for every chunk: (K_i, C) -> (K_j, C)."""
    return (log_delta[:, None, :] + log_transmat[:, :, None]).max(axis=0)


def _best_previous(log_delta, log_transmat, z, chunks):
    """psi_n(z_n) = argmax_i(ln delta_{n-1,i} + ln transmat_{i,z_n}) of ``chunks``; ln delta_{n-1}: (K, C)."""
    return (log_delta.T.take(chunks, axis=0) + log_transmat.T.take(z, axis=0)).argmax(axis=1)


def _forward_chunks(log_startprob, log_transmat, log_b, pad):
    """ln delta (L, K, C) of every chunk from an arbitrary start (0); chunk 0 from ln pi after its dummy steps."""
    xp = backend.array_module(log_b)
    log_delta = xp.empty_like(log_b)
    previous = xp.zeros(log_b.shape[1:], dtype=log_b.dtype)
    for n in range(len(log_b)):
        log_delta[n] = _max_plus(previous, log_transmat) + log_b[n]
        if n == pad:
            log_delta[n, :, 0] = log_startprob + log_b[n, :, 0]  # ln delta_1 = ln pi + ln B_1
        previous = log_delta[n]
    return log_delta


def _fix_up(log_transmat, log_b, log_delta, max_rounds):
    """Restart chunks from the end of the chunk before, in rounds, until no stored ln delta changes.

    Returns False if some still change after ``max_rounds`` rounds.
    """
    xp = backend.array_module(log_b)
    n_chunks = log_b.shape[2]
    chunks = xp.arange(1, n_chunks)
    for _ in range(max_rounds):
        if not chunks.size:
            break
        chunks = _fix_up_round(log_transmat, log_b, log_delta, _alive(log_delta, chunks))
        chunks = chunks[chunks < n_chunks - 1] + 1  # a chunk whose end changed moves its successor's start
    return not chunks.size


def _alive(log_delta, chunks):
    """``chunks`` up to the first whose stored end is all -inf; ln delta of the later ones set to -inf.

    A stored ln delta is never -inf where the true one is finite (it started from fewer -inf),
    so such an end is the truth: the sequence has probability zero and nothing after it changes.
    """
    dead = (log_delta[-1] == -np.inf).all(axis=0)
    if not bool(dead.any()):
        return chunks
    first = int(dead.argmax())
    log_delta[:, :, first + 1:] = -np.inf
    return chunks[chunks <= first]


def _fix_up_round(log_transmat, log_b, log_delta, chunks):
    """Step ``chunks`` from the previous chunk's end, overwriting ln delta until it becomes parallel to the
    stored one; return the chunks that never did (their end changed)."""
    incoming = log_delta[-1][:, chunks - 1]
    for n in range(len(log_b)):
        new = _max_plus(incoming, log_transmat) + log_b[n][:, chunks]
        differ = ~_parallel(new, log_delta[n][:, chunks])
        chunks, incoming = chunks[differ], new[:, differ]
        log_delta[n][:, chunks] = incoming
        if not chunks.size:
            break
    return chunks


def _parallel(new, old):
    """(C,) True where the columns of new and old (K, C) differ by a constant: the same -inf entries and
    finite differences equal to rounding. Parallel vectors stay parallel and share their argmaxes."""
    xp = backend.array_module(new)
    finite = xp.isfinite(new)
    same_pattern = (finite == xp.isfinite(old)).all(axis=0)
    diff = new - old
    spread = xp.where(finite, diff, -np.inf).max(axis=0) - xp.where(finite, diff, np.inf).min(axis=0)
    size = xp.where(finite, xp.abs(new), 0).max(axis=0)
    return same_pattern & (spread <= _PARALLEL_RTOL * (1 + size))


def _backtrack_chunks(log_transmat, log_delta, max_rounds):
    """The best path (L, C) by chunks: all from a guessed end state (the last chunk's is exact,
    z_T = argmax_k ln delta_T,k), then each chunk again from the state that its successor's start
    points to, in rounds, until no chunk's start changes; None if some still do after ``max_rounds``."""
    xp = backend.array_module(log_delta)
    path = xp.full(log_delta.shape[::2], -1, dtype=np.int64)
    chunks, ends = xp.arange(log_delta.shape[2]), log_delta[-1].argmax(axis=0)
    for _ in range(max_rounds + 1):  # the first pass is not a round: every chunk starts from its guess
        if not chunks.size:
            break
        chunks = _backtrack_round(log_transmat, log_delta, path, chunks, ends)
        chunks = chunks[chunks > 0] - 1  # a chunk whose start changed moves its predecessor's end
        ends = _best_previous(log_delta[-1], log_transmat, path[0, chunks + 1], chunks)
    return None if chunks.size else path


def _backtrack_round(log_transmat, log_delta, path, chunks, z):
    """Follow z_{n-1} = psi_n(z_n) back from the end states z of ``chunks``, overwriting the path until it
    meets the stored one (from there on they agree); return the chunks that never met it (their start changed)."""
    for n in range(len(log_delta) - 1, -1, -1):
        differ = path[n, chunks] != z
        chunks, z = chunks[differ], z[differ]
        path[n, chunks] = z
        if n == 0 or not chunks.size:
            return chunks
        z = _best_previous(log_delta[n - 1], log_transmat, z, chunks)


def _path_log_prob(log_startprob, log_transmat, log_B, path):
    """ln p(X, Z) = ln pi_z1 + sum_n ln transmat_{z_n-1, z_n} + sum_n ln B_n,z_n of one path (T,)."""
    xp = backend.array_module(log_B)
    return (log_startprob[path[0]] + log_transmat[path[:-1], path[1:]].sum()
            + log_B[xp.arange(len(path)), path].sum())


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
