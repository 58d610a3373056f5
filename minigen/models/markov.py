"""Markov chains of order k over K discrete states (Bishop PRML 13.1).

    chain = MarkovChain(transmat, startprob, states=["Sun", "Rain", "Cloud"])
    chain.prob(["Sun", "Sun", "Cloud"], given_first=True)   # 0.8 * 0.15
    chain.stationary_distribution()                          # pi with pi transmat = pi
    MarkovChain(order=2).fit(sequences)                      # p(z_n | z_{n-2}, z_{n-1}) by counting

p(z_1, ..., z_N) = p(z_1) prod_{n=2}^N p(z_n | z_{n-1})                               (PRML 13.2)
p(z_1, ..., z_N) = p(z_1, ..., z_k) prod_{n=k+1}^N p(z_n | z_{n-k}, ..., z_{n-1})     (order k, PRML 13.4)
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigen import backend
from minigen.checks import check_int, is_int

_ATOL = 1e-8  # rows of a stochastic matrix must sum to 1 within this
_MAX_CONTEXT_STEPS = 2 ** 24  # an order-k fit (k > 1) counts on a (K^k, K^k) table: at most this many entries


def _check_distribution(name, p, shape, rows=True):
    """p as float64 of ``shape``, finite, non-negative, summing to 1 along the last axis
    (``rows=False``: over all its entries); else ValueError."""
    p = backend.to_host(p) if backend.is_array(p) else np.asarray(p, dtype=np.float64)
    p = p.astype(np.float64)
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {p.tolist()}")
    sums = p.sum(axis=-1) if rows else p.sum()
    bad = np.argwhere(np.abs(np.atleast_1d(sums) - 1) > _ATOL)
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        where = f"row {index[0] if len(index) == 1 else index} " if rows and p.ndim >= 2 else ""
        got = float(np.atleast_1d(sums)[index])
        raise ValueError(f"{name} {where}must sum to 1 (within {_ATOL}), got sum {got!r}")
    return p


def markov_mle(sequences, K, pseudocount=0):
    """Maximum likelihood startprob (K,) and transmat (K, K) of a chain, as NumPy float64 arrays.

    sequences: a list of NumPy int arrays of state indices in [0, K), each of length >= 1.
    transmat[i, j] = (n_ij + c) / sum_j' (n_ij' + c), n_ij the number of i -> j steps;
    startprob[k] = (m_k + c) / sum_k' (m_k' + c), m_k the number of sequences starting in k;
    c = pseudocount. A row with no counts (a state never left, c = 0) is uniform.
    Raises ValueError for no sequences, an empty one, or one of non-integers or states outside [0, K).
    """
    sequences = [np.asarray(s) for s in sequences]
    if not sequences:
        raise ValueError("markov_mle: sequences is empty: give at least one sequence of states")
    for i, s in enumerate(sequences):
        if len(s) == 0:
            raise ValueError(f"markov_mle: sequence {i} is empty; each needs at least one state")
        if not np.issubdtype(s.dtype, np.integer):
            raise ValueError(f"markov_mle: sequence {i} must hold integer states, got {s.dtype}")
        outside = np.unique(s[(s < 0) | (s >= K)])
        if outside.size:
            raise ValueError(f"markov_mle: sequence {i} holds states outside [0, {K}): {outside[:10].tolist()}")
    pairs = np.concatenate([s[:-1] * K + s[1:] for s in sequences])       # i -> j as i K + j
    counts = np.bincount(pairs, minlength=K * K).reshape(K, K).astype(np.float64) + pseudocount
    first = np.bincount([s[0] for s in sequences], minlength=K).astype(np.float64) + pseudocount
    rows = counts.sum(axis=1, keepdims=True)
    transmat = np.where(rows > 0, counts / np.where(rows > 0, rows, 1), 1.0 / K)
    return first / first.sum(), transmat


def context_codes(z, K, order):
    """The contexts (z_{n-order+1}, ..., z_n) of a sequence as integers c = sum_m z_m K^(order-1-m)
    in [0, K^order), one for each n from ``order`` to N (C order, so transmat.reshape(-1, K)[c])."""
    return sliding_window_view(z, order) @ K ** np.arange(order - 1, -1, -1)


def markov_mle_order(sequences, K, order, pseudocount=0):
    """Maximum likelihood startprob (K,)*order and transmat (K,)*(order + 1) of an order-k chain.

    An order-k chain is a first-order chain on the K^k contexts (z_{n-k+1}, ..., z_n): markov_mle
    counts it, a context c can only go on to c' = (c K + j) mod K^k, so transmat[c, j] is the
    entry [c, c'] of the contexts' table, renormalized over j (which restores add-c smoothing over
    the K next states, and a uniform row for a context never left). startprob is the first context's.
    sequences: NumPy int arrays of states in [0, K), each of length >= order.
    """
    C = K ** order
    startprob, context_transmat = markov_mle([context_codes(z, K, order) for z in sequences], C, pseudocount)
    c = np.arange(C)[:, None]
    transmat = np.asarray(context_transmat)[c, c * K % C + np.arange(K)]  # p(c -> c') for the K next states j
    transmat /= transmat.sum(axis=1, keepdims=True)                  # (n_cj + pc) / sum_j' (n_cj' + pc)
    return startprob.reshape((K,) * order), transmat.reshape((K,) * (order + 1))


@backend.on_data_device_methods
class MarkovChain:
    """A Markov chain with K states, of order 1 (the default) or k = ``order``.

    transmat (K, K): row-stochastic, ``transmat[i, j] = p(z_n = j | z_{n-1} = i)`` (hmmlearn's
        convention: rows sum to 1). The lecture's A is its transpose,
        ``A[i, j] = p(z_n = i | z_{n-1} = j) = transmat[j, i]`` (columns sum to 1).
        Order k: (K,)*(k + 1), ``transmat[i_1, ..., i_k, j] = p(z_n = j | z_{n-k} = i_1, ..., z_{n-1} = i_k)``.
    startprob (K,): p(z_1 = k); None means uniform. Order k: (K,)*k, the joint p(z_1, ..., z_k).
    states: K distinct names (e.g. ["Sun", "Rain", "Cloud"]); sequences may then be given as
        names or as indices. Without names, states are the indices 0..K-1.
    order: k >= 1, how many previous states the next one depends on.

    transmat may be None when the chain is to be learnt with ``fit`` (then K comes from
    ``states`` or from the data). The chain's parameters are ``transmat_`` and ``startprob_``,
    NumPy or CuPy arrays on the device of the given transmat (CPU if none was given).
    Raises ValueError for a matrix that is not square or not stochastic (negative entries, a row
    whose sum is off 1 by more than 1e-8), for shapes that do not fit, for repeated names and
    for an order that is not a positive integer.
    """

    def __init__(self, transmat=None, startprob=None, states=None, order=1):
        self.transmat, self.startprob, self.states, self.order = transmat, startprob, states, order
        self._device = backend.device_of(transmat) if backend.is_array(transmat) else "cpu"
        check_int("MarkovChain", "order", order, expected="a positive integer")
        if states is not None and len(set(states)) != len(states):
            raise ValueError(f"states must be distinct names, got {list(states)}")
        if transmat is None:
            if startprob is not None:
                raise ValueError("startprob was given without transmat")
            return
        shape = np.shape(transmat)
        if len(shape) != order + 1 or len(set(shape)) != 1:
            expected = ("a square (K, K) matrix" if order == 1 else
                        f"a ({', '.join('K' * (order + 1))}) array for order={order}")
            raise ValueError(f"transmat must be {expected}, got shape {shape}")
        K = shape[0]
        if states is not None and len(states) != K:
            raise ValueError(f"states names {len(states)} states but transmat has K = {K}: {list(states)}")
        self.transmat_ = self._on_device(_check_distribution("transmat", transmat, shape))
        startprob = np.full((K,) * order, 1.0 / K ** order) if startprob is None else startprob
        self.startprob_ = self._on_device(_check_distribution("startprob", startprob, shape[:-1], rows=False))

    def _on_device(self, array):
        return backend.to_device(array, self._device)

    @property
    def device(self):
        """Where transmat_ and startprob_ live."""
        return self._device

    @property
    def n_states(self):
        """K, from transmat_ (or from states before fit)."""
        if hasattr(self, "transmat_"):
            return self.transmat_.shape[-1]
        return None if self.states is None else len(self.states)

    def _check_fitted(self):
        if not hasattr(self, "transmat_"):
            raise RuntimeError("MarkovChain has no transmat_: give transmat or call fit(sequences) first")

    def _check_first_order(self, method):
        self._check_fitted()
        if self.order != 1:
            raise ValueError(f"{method} needs a first-order chain, this one has order={self.order}")

    def indices(self, seq):
        """State names or indices (names win where they clash) -> a NumPy int64 array of indices.

        Raises ValueError naming the states that are neither a name nor an index in [0, K).
        """
        if backend.is_array(seq):
            seq = backend.to_host(seq)
        names, K = list(self.states or []), self.n_states
        index, unknown = [], []
        for s in seq:
            if s in names:
                index.append(names.index(s))
            elif is_int(s) and 0 <= s and (K is None or s < K):
                index.append(int(s))
            else:
                unknown.append(s)
        if unknown:
            known = names or (f"indices 0..{K - 1}" if K else "non-negative integer indices")
            raise ValueError(f"unknown states {unknown[:5]}: expected {known}")
        return np.array(index, dtype=np.int64)

    def names(self, seq):
        """State indices -> their names (a list); needs ``states``."""
        if self.states is None:
            raise ValueError("this chain has no state names (states=None)")
        return [self.states[i] for i in self.indices(seq)]

    # ---------------------------------------------------------------- probability of a sequence
    def log_prob(self, seq, given_first=False):
        """ln p(z_1, ..., z_N) = ln p(z_1) + sum_n ln transmat[z_{n-1}, z_n]  (PRML 13.2), a float.

        Order k: ln p(z_1, ..., z_k) + sum_{n>k} ln transmat[z_{n-k}, ..., z_{n-1}, z_n] (PRML 13.4);
        a sequence shorter than k gets the marginal of startprob_.
        given_first=True conditions on the first state (the first k): ln p(z_2, ..., z_N | z_1)
        (the slide's "given that the first day is sunny"). seq: names or indices, at least one state.
        -inf for a sequence of probability zero.
        """
        self._check_fitted()
        z = self.indices(seq)
        if len(z) == 0:
            raise ValueError("seq must hold at least one state, got an empty sequence")
        transmat, startprob, k = backend.to_host(self.transmat_), backend.to_host(self.startprob_), self.order
        steps = sliding_window_view(z, k + 1) if len(z) > k else np.empty((0, k + 1), np.int64)  # (z_{n-k}..z_n)
        with np.errstate(divide="ignore"):
            log_p = np.log(transmat[tuple(steps.T)]).sum()
            if not given_first:
                first = startprob.sum(axis=tuple(range(len(z), k)))   # p(z_1..z_N) when N < k: a marginal
                log_p += np.log(first[tuple(z[:k])])
        return float(log_p)

    def prob(self, seq, given_first=False):
        """p(z_1, ..., z_N), or p(z_2, ..., z_N | z_1) with given_first=True: exp(log_prob)."""
        return float(np.exp(self.log_prob(seq, given_first=given_first)))

    # ---------------------------------------------------------------- sampling
    def sample(self, n, random_state=None):
        """n states z_1..z_n as an int64 array of indices on the chain's device (``names`` turns them into names).

        z_1 ~ startprob, z_t ~ transmat[z_{t-1}] (order k: (z_1..z_k) ~ startprob, then
        z_t ~ transmat[z_{t-k}, ..., z_{t-1}]). random_state: an int seed or a numpy Generator;
        None uses minigen's stream (minigen.manual_seed). Drawn on the host (the chain is sequential).
        """
        self._check_fitted()
        check_int("MarkovChain.sample", "n", n, lowest=0, expected="a non-negative integer")
        rng = backend.host_rng() if random_state is None else np.random.default_rng(random_state)
        K, k = self.n_states, self.order
        cumulative = np.cumsum(backend.to_host(self.transmat_).reshape(-1, K), axis=1)  # one row per context
        u = rng.random(n)
        z = np.empty(max(n, k), dtype=np.int64)
        if n:
            context = rng.choice(K ** k, p=backend.to_host(self.startprob_).reshape(-1))  # (z_1..z_k) coded
            z[:k] = np.unravel_index(context, (K,) * k)
        for t in range(k, n):
            z[t] = min(np.searchsorted(cumulative[context], u[t], side="right"), K - 1)
            context = context * K % K ** k + z[t]  # drop z_{t-k}, append z_t
        return self._on_device(z[:n])

    # ---------------------------------------------------------------- learning
    def fit(self, sequences, pseudocount=0):
        """Maximum likelihood from a list of sequences (each a list of names or indices); returns self.

        transmat_[i, j] = (n_ij + c) / sum_j' (n_ij' + c) with n_ij the number of i -> j steps and
        startprob_[k] = (m_k + c) / sum_k' (m_k' + c) with m_k the number of sequences starting in k,
        c = pseudocount (add-c smoothing). A state never left (a zero row with c = 0) gets a
        uniform row. K comes from transmat, else from states, else from the largest index seen.
        One sequence must be wrapped: ``fit([seq])``. Order k: the same with the context
        (z_{n-k}, ..., z_{n-1}) in place of z_{n-1} (``markov_mle_order``); every sequence needs k states.
        """
        if not isinstance(pseudocount, (int, float)) or pseudocount < 0:
            raise ValueError(f"pseudocount must be a non-negative number, got {pseudocount!r}")
        if isinstance(sequences, str) or len(sequences) == 0 or any(
                isinstance(s, str) or np.ndim(s) != 1 for s in sequences):
            raise ValueError("fit expects a non-empty list of sequences (wrap a single sequence: fit([seq]))")
        sequences = [self.indices(s) for s in sequences]
        if any(len(s) < self.order for s in sequences):
            raise ValueError(f"fit: every sequence must hold at least order = {self.order} state(s), got one of "
                             f"length {min(len(s) for s in sequences)}")
        K = self.n_states or 1 + max(int(s.max()) for s in sequences)
        if self.order > 1 and K ** (2 * self.order) > _MAX_CONTEXT_STEPS:
            raise ValueError(f"fit: an order-{self.order} chain over {K} states has {K ** self.order} contexts, too "
                             f"many to count on a (K^k, K^k) table ({_MAX_CONTEXT_STEPS} entries at most)")
        startprob, transmat = markov_mle_order(sequences, K, self.order, pseudocount)
        self.startprob_, self.transmat_ = self._on_device(startprob), self._on_device(transmat)
        return self

    # ---------------------------------------------------------------- the long run
    def n_step(self, k):
        """transmat^k (K, K): entry [i, j] = p(z_{n+k} = j | z_n = i); first-order chains only."""
        self._check_first_order("n_step")
        check_int("MarkovChain.n_step", "k", k, lowest=0, expected="a non-negative integer")
        return backend.array_module(self.transmat_).linalg.matrix_power(self.transmat_, int(k))

    def stationary_distribution(self):
        """pi (K,) with pi transmat = pi (i.e. A pi = pi), pi >= 0, sum pi = 1.

        Solves the linear system (transmat^T - I) pi = 0 together with sum_k pi_k = 1 by least
        squares. Unique for an irreducible chain; with several closed classes it returns one of
        the stationary distributions (the one of least norm). First-order chains only.
        """
        self._check_first_order("stationary_distribution")
        xp = backend.array_module(self.transmat_)
        K = self.n_states
        system = xp.concatenate([self.transmat_.T - xp.eye(K), xp.ones((1, K))])
        rhs = xp.concatenate([xp.zeros(K), xp.ones(1)])
        pi = xp.linalg.lstsq(system, rhs, rcond=None)[0]
        pi = xp.clip(pi.real, 0, None)  # round-off may leave -1e-17
        return pi / pi.sum()
