"""Long HMM sequences by chunks: ln p(X) and Viterbi of ONE sequence in T / chunks Python steps.

The recurrences of minigen.models.hmm_algorithms take one Python step per time step. For a
sequence of 100,000 steps that loop is the cost, so CategoricalHMM.score and decode hand
sequences of hmm.SCAN_MIN_STEPS steps and more to the two functions here:

    log_likelihood_scan  p(X) = (pi * b_1)^T M_2 M_3 ... M_T 1 with M_n = transmat * b_n,
                         the matrix products grouped by chunks (an associative scan)
    viterbi_scan         the max-plus recursion of viterbi_log, all chunks at once from an
                         arbitrary start, then fixed up (rank convergence)

Both give the sequential answer to rounding (tests/test_hmm_algorithms.py checks them
against it). This is performance engineering: read hmm_algorithms.py first. Why each step
is sound: docs/hmm.md, "Long sequences by chunks"; the timings: docs/performance.md.
"""
import numpy as np

from minigen import backend
from minigen.models import hmm_algorithms as alg

# log_likelihood_scan rescales a chunk product's rows once one row sum leaves [1e-20, 1e20].
# Rescaling at every step would cost a pass over the products; waiting longer risks
# underflow: from 1e-20, a row still has 1e288 of float64's range (down to ~1e-308) for the
# next step's factor transmat_ij * b_n[j] to shrink it before it is rescaled.
_RESCALE_BELOW = 1e-20

# Two ln delta vectors "differ by a constant" (viterbi_scan's fix-up stops) when their
# differences agree to 1e-11 of the vectors' size: a chunk's ln delta sums up to a few
# thousand float64 terms, each rounded at ~1e-16, so honest rounding stays well below
# 1e-11, and two paths whose log-probabilities differ by less are ties to this scan.
_PARALLEL_RTOL = 1e-11


def _ceil_div(n, k):
    """ceil(n / k) for positive ints, exactly (no float)."""
    return -(-n // k)


def _row_sums(P):
    """P.sum(axis=-1) of a (C, K, K) stack of chunk products, computed as the product P @ 1.

    The same numbers; the product runs ~10x faster than a sum over a short last axis
    (docs/performance.md, "The HMM scan").
    """
    return P @ backend.array_module(P).ones(P.shape[-1], dtype=P.dtype)


# ------------------------------------------------------------------ ln p(X) by chunks
@backend.on_data_device
def log_likelihood_scan(startprob, transmat, B_obs, n_chunks=256, allow_zero=False):
    """ln p(X) of ONE sequence, B_obs (T, K), computed as an associative scan over time.

    p(X) = (pi * b_1)^T M_2 M_3 ... M_T 1  with  M_n = transmat * b_n (b_n along the columns).
    Matrix products may be grouped in any order, so the T - 1 factors are cut into
    ``n_chunks`` chunks, whose products grow all at once (_chunk_products); then alpha
    passes through the chunk products in order (_through_chunks). Same value as
    forward_scaled, to rounding. A zero found this way is confirmed by the sequential log
    pass (forward_log); a sequence of probability zero raises ValueError, or gives -inf
    with ``allow_zero=True``.
    """
    xp = backend.array_module(B_obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        P, log_scale = _chunk_products(transmat, B_obs, n_chunks)
        log_alpha = _through_chunks(alg.safe_log(startprob * B_obs[0]), P, log_scale)
        total = alg._logsumexp(log_alpha, axis=0)
        if not bool(xp.isfinite(total)):  # confirm a zero with the sequential pass, exact in log space
            log_B = alg.safe_log(B_obs)[None]
            mask = xp.ones(log_B.shape[:2], bool)
            total = alg.forward_log(alg.safe_log(startprob), alg.safe_log(transmat), log_B, mask)[1][0]
    if not bool(xp.isfinite(total)):
        if allow_zero:
            return xp.asarray(-np.inf)
        raise ValueError("the sequence has probability zero (an observation no reachable state can emit); "
                         'the log variant (implementation="log") returns -inf instead')
    return total


def _chunk_products(transmat, B_obs, n_chunks):
    """The products of M_2..M_T by chunks, P (C, K, K) with rows rescaled, and their row log-scales (C, K).

    One step of all chunks per array operation (a (C * K, K) @ (K, K) product): T / C
    Python steps instead of T, for K times more arithmetic. Row i of a chunk's product (the
    paths that enter the chunk in state i) grows on its own, so each row is rescaled to
    sum 1, as alpha is by c_n, and keeps its own log-scale, ln p(the chunk's observations so
    far | it starts in state i): one start state far less likely than another (a reducible
    chain) cannot underflow the other's row.
    """
    xp = backend.array_module(B_obs)
    n_steps, k = B_obs.shape
    n_chunks = max(1, min(n_chunks, n_steps - 1))
    length = _ceil_div(n_steps - 1, n_chunks)  # steps per chunk; the last chunk is padded with b = 1
    b = xp.ones((n_chunks * length, k), dtype=B_obs.dtype)
    b[:n_steps - 1] = B_obs[1:]
    b = b.reshape(n_chunks, length, k).transpose(1, 0, 2).copy()  # b[n, c]: step n of chunk c
    P = xp.broadcast_to(xp.eye(k, dtype=B_obs.dtype), (n_chunks, k, k)).copy()
    log_scale = xp.zeros((n_chunks, k))  # ln of what row i of chunk c was divided by
    for n in range(length):  # P <- P M_n for every chunk
        P = (P.reshape(-1, k) @ transmat).reshape(n_chunks, k, k)
        P *= b[n][:, None, :]
        row_sums = _row_sums(P)
        if _rows_left_range(row_sums):
            log_scale += xp.log(row_sums)  # -inf: no path from that start state survives
            P *= (1 / xp.where(row_sums > 0, row_sums, 1))[:, :, None]  # each row back to sum 1
    return P, log_scale


def _through_chunks(log_alpha, P, log_scale):
    """ln alpha_T from ln alpha_1: alpha <- alpha diag(e^log_r) P_c for each chunk c in order, in log space."""
    xp = backend.array_module(P)
    for chunk, log_r in zip(P, log_scale):
        w = log_alpha + log_r
        top = w.max()
        log_alpha = xp.log(xp.exp(w - top) @ chunk) + top
    return log_alpha


def _rows_left_range(row_sums):
    """True when a row sum has left [1e-20, 1e20], so the rows need rescaling. On a GPU always
    True: reading the answer back to the host would stall the device at every step, and the
    rescaling pass costs less than that wait (docs/gpu.md)."""
    if not isinstance(row_sums, np.ndarray):
        return True
    return not _RESCALE_BELOW < row_sums.min() or row_sums.max() > 1 / _RESCALE_BELOW


# ------------------------------------------------------------------ Viterbi by chunks
@backend.on_data_device
def viterbi_scan(log_startprob, log_transmat, log_B, n_chunks=256, max_rounds=4):
    """Log-space Viterbi of ONE sequence, log_B (T, K), by chunks.

    Returns ln max_Z p(X, Z) (a scalar) and the path (T,).

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
        logprob, path = alg.viterbi_log(log_startprob, log_transmat, log_B[None], mask)
        return logprob[0], path[0]
    return _path_log_prob(log_startprob, log_transmat, log_B, path), path


def _viterbi_chunks(log_startprob, log_transmat, log_B, n_chunks, max_rounds):
    """The best path (T,) by chunks, or None when a phase still changes after ``max_rounds`` rounds."""
    xp = backend.array_module(log_B)
    n_steps, k = log_B.shape
    length = _ceil_div(n_steps, max(1, min(n_chunks, n_steps)))  # steps per chunk
    n_chunks, pad = _ceil_div(n_steps, length), -n_steps % length  # chunk 0 begins with ``pad`` dummy steps
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
