"""The exercises: every reference passes its checks, typical wrong versions (the bug zoo) fail
them with a message that helps, and the command line lists, starts, checks and resets."""
import atexit
import inspect
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigen
from minigen import backend
from minigen.autograd import Tensor
from minigen.exercises import EXERCISES, get, run_checks, swapped
from minigen.exercises.checking import install
from minigen.exercises.__main__ import main
from minigen.exercises.student import report_calls, use_student_versions
from minigen.models import hmm_algorithms as alg
from minigen.models.gan import discriminator_loss, generator_loss
from minigen.models.gaussian import logsumexp
from minigen.models.mixture import e_step as reference_e_step
from minigen.models.mixture import log_gaussian
from minigen.models.mixture import m_step as reference_m_step
from minigen.ops import exp, softplus, sigmoid
from minigen.ops.shape import reshape, sum_to, transpose, unsqueeze


# ------------------------------------------------------------------ the bug zoo
def mul_no_sum_to(self, gy):
    x, y = self.inputs
    return gy * y, gy * x


def mul_swapped(self, gy):
    x, y = self.inputs
    return sum_to(gy * x, x.shape), sum_to(gy * y, y.shape)


def mul_raw_arrays(self, gy):
    x, y = self.inputs
    return sum_to(Tensor(gy.data * y.data), x.shape), sum_to(Tensor(gy.data * x.data), y.shape)


def matmul_transposed(self, gy):
    a, b = self.inputs
    return gy @ transpose(b), transpose(gy) @ a


def matmul_2d_only(self, gy):
    a, b = self.inputs
    return gy @ transpose(b), transpose(a) @ gy


def sum_to_leading_only(x, shape):
    return x.sum(axis=tuple(range(x.ndim - len(shape)))) if x.ndim > len(shape) else x


def sum_to_wrong_axes(x, shape):
    lead = x.ndim - len(shape)
    summed = x.sum(axis=tuple(range(lead))) if lead else x
    return summed.mean(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True) \
        if 1 in shape else summed


def topological_not_reversed(roots):
    order, seen, stack = [], set(), [(fn, False) for fn in roots]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
        elif fn not in seen:
            seen.add(fn)
            stack.append((fn, True))
            stack += [(x.grad_fn, False) for x in fn.inputs if x.grad_fn is not None]
    return order


def topological_recursive(roots):
    order, seen = [], set()

    def visit(fn):
        if fn in seen:
            return
        seen.add(fn)
        for x in fn.inputs:
            if x.grad_fn is not None:
                visit(x.grad_fn)
        order.append(fn)
    for fn in roots:
        visit(fn)
    return order[::-1]


def topological_breadth_first(roots):
    order, queue = [], list(roots)
    while queue:
        fn = queue.pop(0)
        if fn not in order:
            order.append(fn)
            queue += [x.grad_fn for x in fn.inputs if x.grad_fn is not None]
    return order


def log_softmax_naive(self, x, dim):
    self.dim = dim
    xp = backend.array_module(x)
    return xp.log(xp.exp(x) / xp.exp(x).sum(axis=dim, keepdims=True))


def log_softmax_last_axis(self, x, dim):
    self.dim = dim
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _im2col(self, x, geometry, dilated=True, batch_first=False):
    self.image_shape, self.geometry = x.shape, geometry
    (n, c, _, _), ((kh, kw), (sh, sw), (dh, dw), (ho, wo)) = x.shape, geometry
    dh, dw = (dh, dw) if dilated else (1, 1)
    cols = np.empty((c, kh, kw, ho, wo, n))
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = x[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] \
                .transpose(1, 2, 3, 0)
    if batch_first:
        cols = cols.transpose(0, 1, 2, 5, 3, 4)
    return cols.reshape(c * kh * kw, ho * wo * n)


def im2col_no_dilation(self, x, geometry):
    return _im2col(self, x, geometry, dilated=False)


def im2col_batch_first(self, x, geometry):
    return _im2col(self, x, geometry, batch_first=True)


def col2im_assigns(self, cols, image_shape, geometry):
    self.geometry = geometry
    (n, c, h, w), ((kh, kw), (sh, sw), (dh, dw), (ho, wo)) = image_shape, geometry
    blocks, image = cols.reshape(c, kh, kw, ho, wo, n), np.zeros(image_shape)
    for i in range(kh):
        for j in range(kw):
            image[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] = \
                blocks[:, i, j].transpose(3, 0, 1, 2)
    return image


def _batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
                correction=0, std_as_var=False, detach=False, dims=None, unbiased_running=True):
    dims = dims or (0,) + tuple(range(2, x.ndim))
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mu, sigma2 = x.mean(dims, keepdim=True), x.var(dims, keepdim=True, correction=correction)
        if detach:
            mu = Tensor(mu.data)
        count = x.data.size // x.shape[1]
        if running_mean is not None:
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * mu.data.reshape(-1)
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * sigma2.data.reshape(-1) * (
                count / (count - 1) if unbiased_running else 1)
    else:
        mu, sigma2 = reshape(running_mean, per_channel), reshape(running_var, per_channel)
    y = (x - mu) / ((sigma2 + eps) if std_as_var else (sigma2 + eps).sqrt())
    return y * reshape(weight, per_channel) + reshape(bias, per_channel)


def batch_norm_biased_running_var(*args, **kwargs):
    return _batch_norm(*args, **kwargs, unbiased_running=False)


def batch_norm_unbiased(*args, **kwargs):
    return _batch_norm(*args, **kwargs, correction=1)


def batch_norm_std_as_var(*args, **kwargs):
    return _batch_norm(*args, **kwargs, std_as_var=True)


def batch_norm_detached_mean(*args, **kwargs):
    return _batch_norm(*args, **kwargs, detach=True)


def _adam(self, p, g, state, group, bias_correction=True, eps_inside=False):
    lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
    state["step"] = t = state["step"] + 1
    if group["decoupled_weight_decay"]:
        p *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    if group["amsgrad"]:
        v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
    if bias_correction:
        m, v = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    p -= lr * m / (np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps)


def adam_no_bias_correction(self, p, g, state, group):
    _adam(self, p, g, state, group, bias_correction=False)


def adam_eps_inside_sqrt(self, p, g, state, group):
    _adam(self, p, g, state, group, eps_inside=True)


def _markov(sequences, K, pseudocount=0, column_wise=False, all_states=False, uniform=True):
    counts = np.full((K, K), float(pseudocount))
    for s in sequences:
        for i, j in zip(s[:-1], s[1:]):
            counts[(j, i) if column_wise else (i, j)] += 1
    first = np.bincount(np.concatenate(sequences) if all_states else [s[0] for s in sequences], minlength=K)
    first = first + float(pseudocount)
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        transmat = np.where(rows > 0, counts / rows, 1 / K) if uniform else counts / rows
    return first / first.sum(), transmat


def markov_column_wise(sequences, K, pseudocount=0):
    return _markov(sequences, K, pseudocount, column_wise=True)


def markov_all_states_start(sequences, K, pseudocount=0):
    return _markov(sequences, K, pseudocount, all_states=True)


def markov_nan_row(sequences, K, pseudocount=0):
    return _markov(sequences, K, pseudocount, uniform=False)


def _nb_joint(X, feature_log_prob, class_log_prior, off_pixels=True):
    log_q = np.log1p(-np.exp(feature_log_prob)) if off_pixels else 0 * feature_log_prob
    return X @ (feature_log_prob - log_q).T + log_q.sum(axis=1) + class_log_prior


def nb_forgets_off_pixels(X, feature_log_prob, class_log_prior):
    a = _nb_joint(X, feature_log_prob, class_log_prior, off_pixels=False)
    return a - np.log(np.exp(a - a.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)) - a.max(axis=1, keepdims=True)


def nb_joint_not_posterior(X, feature_log_prob, class_log_prior):
    return _nb_joint(X, feature_log_prob, class_log_prior)


def nb_unstable(X, feature_log_prob, class_log_prior):
    joint = np.exp(_nb_joint(X, feature_log_prob, class_log_prior))
    return np.log(joint / joint.sum(axis=1, keepdims=True))


def _forward(startprob, transmat, B_obs, mask, transpose=False, normalize=True, start=True):
    alpha, c = np.empty_like(B_obs), np.ones(mask.shape)
    a = (startprob if start else 1.0) * B_obs[:, 0]
    A = transmat.T if transpose else transmat
    for n in range(B_obs.shape[1]):
        if n > 0:
            a = np.where(mask[:, n, None], (alpha[:, n - 1] @ A) * B_obs[:, n], alpha[:, n - 1])
        c[:, n] = a.sum(axis=1) if normalize else 1.0
        alpha[:, n] = a / c[:, n, None]
    return alpha, c


def forward_column_wise(startprob, transmat, B_obs, mask):
    return _forward(startprob, transmat, B_obs, mask, transpose=True)


def forward_without_pi(startprob, transmat, B_obs, mask):
    return _forward(startprob, transmat, B_obs, mask, start=False)


def forward_unscaled_padding(startprob, transmat, B_obs, mask):
    alpha, c = get("hmm_forward").reference(startprob, transmat, B_obs, mask)
    c[~mask] = 0.5
    return alpha, c


def forward_alpha_not_divided(startprob, transmat, B_obs, mask):
    alpha, c = get("hmm_forward").reference(startprob, transmat, B_obs, mask)
    return alpha * c[..., None], c


def forward_padding_zeroed(startprob, transmat, B_obs, mask):
    alpha, c = get("hmm_forward").reference(startprob, transmat, B_obs, mask)
    return np.where(mask[..., None], alpha, 0.0), c


def backward_padding_zeroed(transmat, B_obs, c, mask):
    beta = get("hmm_backward").reference(transmat, B_obs, c, mask)
    return np.where(mask[..., None], beta, 0.0)


def _backward(transmat, B_obs, c, mask, transpose=True, step=1):
    beta = np.ones_like(B_obs)
    for n in range(B_obs.shape[1] - 2, -1, -1):
        b = (B_obs[:, n + step] * beta[:, n + 1]) @ (transmat.T if transpose else transmat) / c[:, n + 1, None]
        beta[:, n] = np.where(mask[:, n + 1, None], b, 1)
    return beta


def backward_not_transposed(transmat, B_obs, c, mask):
    return _backward(transmat, B_obs, c, mask, transpose=False)


def backward_same_step(transmat, B_obs, c, mask):
    return _backward(transmat, B_obs, c, mask, step=0)


def _viterbi(log_startprob, log_transmat, log_B, mask, shift=0, reduce=np.max):
    psi = np.zeros(log_B.shape, dtype=np.int64)
    log_delta = log_startprob + log_B[:, 0]
    for n in range(1, log_B.shape[1]):
        scores = log_delta[:, :, None] + log_transmat
        psi[:, n] = np.where(mask[:, n, None], scores.argmax(axis=1), np.arange(log_B.shape[2]))
        log_delta = np.where(mask[:, n, None], reduce(scores, axis=1) + log_B[:, n], log_delta)
    path = np.empty(mask.shape, dtype=np.int64)
    path[:, -1] = log_delta.argmax(axis=1)
    rows = np.arange(len(path))
    for n in range(mask.shape[1] - 1, 0, -1):
        path[:, n - 1] = psi[rows, min(n + shift, mask.shape[1] - 1), path[:, n]]
    return log_delta.max(axis=1), np.where(mask, path, -1)


def _logs(startprob, transmat, B_obs):
    with np.errstate(divide="ignore"):
        return np.log(startprob), np.log(transmat), np.log(B_obs)


def viterbi_off_by_one(startprob, transmat, B_obs, mask):
    return _viterbi(*_logs(startprob, transmat, B_obs), mask, shift=-1)


def viterbi_sum_not_max(startprob, transmat, B_obs, mask):
    return _viterbi(*_logs(startprob, transmat, B_obs), mask, reduce=lambda s, axis: np.logaddexp.reduce(s, axis))


def viterbi_no_padding(startprob, transmat, B_obs, mask):
    logprob, path = _viterbi(*_logs(startprob, transmat, B_obs), mask)
    return logprob, np.where(path < 0, 0, path)


def m_step_columns(start_counts, trans_counts, startprob, transmat):
    return start_counts / start_counts.sum(), trans_counts / trans_counts.sum(axis=0, keepdims=True)


def m_step_transposed(start_counts, trans_counts, startprob, transmat):
    startprob, transmat = get("baum_welch_m_step").reference(start_counts, trans_counts, startprob, transmat)
    return startprob, transmat.T


def m_step_nan_rows(start_counts, trans_counts, startprob, transmat):
    with np.errstate(invalid="ignore"):
        return start_counts / start_counts.sum(), trans_counts / trans_counts.sum(axis=1, keepdims=True)


def reparameterize_missing_half(self, gz):
    mu, logvar, eps = self.inputs
    sigma = exp(logvar / 2)
    return sum_to(gz, mu.shape), sum_to(gz * eps * sigma, logvar.shape), sum_to(gz * sigma, eps.shape)


def reparameterize_std_as_var(self, gz):
    mu, logvar, eps = self.inputs
    sigma = exp(logvar)
    return sum_to(gz, mu.shape), sum_to(gz * eps * sigma / 2, logvar.shape), sum_to(gz * sigma, eps.shape)


def reparameterize_no_sum_to(self, gz):
    mu, logvar, eps = self.inputs
    sigma = exp(logvar / 2)
    return gz, gz * eps * sigma / 2, gz * sigma


def kl_wrong_sign(self, mu, logvar):
    return 0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(axis=-1)


def kl_missing_one(self, mu, logvar):
    return -0.5 * (logvar - mu ** 2 - np.exp(logvar)).sum(axis=-1)


def kl_std_as_var(self, mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar / 2)).sum(axis=-1)


def kl_mean_over_latent(self, mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).mean(axis=-1)


def gmm_e_step_exp_first(X, pi, mu, U, covariance_type):
    joint = np.exp(log_gaussian(X, mu, U, covariance_type)) * pi
    p_x = joint.sum(axis=1)
    return np.log(p_x), np.log(joint / p_x[:, None])


def gmm_e_step_without_pi(X, pi, mu, U, covariance_type):
    log_joint = log_gaussian(X, mu, U, covariance_type)
    log_px = logsumexp(log_joint, axis=1)
    return log_px, log_joint - log_px[:, None]


def gmm_e_step_returns_gamma(X, pi, mu, U, covariance_type):
    log_px, log_gamma = reference_e_step(X, pi, mu, U, covariance_type)
    return log_px, np.exp(log_gamma)


def gmm_m_step_divides_by_N(X, gamma, covariance_type, reg_covar):
    pi, mu, Sigma = reference_m_step(X, gamma, covariance_type, reg_covar)
    return pi, mu * pi[:, None], Sigma


def gmm_m_step_counts_not_weights(X, gamma, covariance_type, reg_covar):
    pi, mu, Sigma = reference_m_step(X, gamma, covariance_type, reg_covar)
    return pi * len(X), mu, Sigma


def gmm_m_step_without_reg(X, gamma, covariance_type, reg_covar):
    return reference_m_step(X, gamma, covariance_type, 0.0)


def gmm_m_step_unweighted(X, gamma, covariance_type, reg_covar):
    pi, mu, _ = reference_m_step(X, gamma, covariance_type, reg_covar)
    return pi, mu, reference_m_step(X, np.full_like(gamma, 1 / gamma.shape[1]), covariance_type, reg_covar)[2]


def d_loss_swapped(real_logits, fake_logits, kind):
    if kind == "wgan-gp":
        return real_logits.mean() - fake_logits.mean()
    return softplus(real_logits).mean() + softplus(-fake_logits).mean()


def d_loss_unstable(real_logits, fake_logits, kind):
    if kind == "wgan-gp":
        return fake_logits.mean() - real_logits.mean()
    return -sigmoid(real_logits).log().mean() - (1 - sigmoid(fake_logits)).log().mean()


def d_loss_sum(real_logits, fake_logits, kind):
    if kind == "wgan-gp":
        return fake_logits.sum() - real_logits.sum()
    return softplus(-real_logits).sum() + softplus(fake_logits).sum()


def cd_loss_other_labels_for_fakes(discriminator, real, fake, labels, kind):
    real_logits, fake_logits = discriminator(real, labels), discriminator(fake, (labels + 1) % 10)
    return discriminator_loss(real_logits, fake_logits, kind), real_logits, fake_logits


def cd_loss_labels_reversed(discriminator, real, fake, labels, kind):
    real_logits, fake_logits = discriminator(real, labels.flip(0)), discriminator(fake, labels.flip(0))
    return discriminator_loss(real_logits, fake_logits, kind), real_logits, fake_logits


def cd_loss_unstable(discriminator, real, fake, labels, kind):
    real_logits, fake_logits = discriminator(real, labels), discriminator(fake, labels)
    return d_loss_unstable(real_logits, fake_logits, kind), real_logits, fake_logits


def cd_loss_swapped(discriminator, real, fake, labels, kind):
    real_logits, fake_logits = discriminator(real, labels), discriminator(fake, labels)
    return d_loss_swapped(real_logits, fake_logits, kind), real_logits, fake_logits


def cd_loss_only_the_loss(discriminator, real, fake, labels, kind):
    return discriminator_loss(discriminator(real, labels), discriminator(fake, labels), kind)


def cd_loss_detached(discriminator, real, fake, labels, kind):
    real_logits, fake_logits = discriminator(real, labels).detach(), discriminator(fake, labels).detach()
    return discriminator_loss(real_logits, fake_logits, kind), real_logits, fake_logits


def p2p_loss_target_as_partner(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = generator_loss(discriminator(fake, target), kind), (target - fake).abs().mean()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_l1_summed(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = generator_loss(discriminator(fake, inputs), kind), (target - fake).abs().sum()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_squared(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = generator_loss(discriminator(fake, inputs), kind), ((target - fake) ** 2).mean()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_lam_fixed(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = generator_loss(discriminator(fake, inputs), kind), (target - fake).abs().mean()
    return l_gan + 100.0 * l1, l_gan, l1


def p2p_loss_unstable(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = -sigmoid(discriminator(fake, inputs)).log().mean(), (target - fake).abs().mean()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_l1_detached(discriminator, fake, target, inputs, kind, lam=100.0):
    l_gan, l1 = generator_loss(discriminator(fake, inputs), kind), (target - fake.detach()).abs().mean()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_detached(discriminator, fake, target, inputs, kind, lam=100.0):
    fake = fake.detach()
    l_gan, l1 = generator_loss(discriminator(fake, inputs), kind), (target - fake).abs().mean()
    return l_gan + lam * l1, l_gan, l1


def p2p_loss_only_the_loss(discriminator, fake, target, inputs, kind, lam=100.0):
    return generator_loss(discriminator(fake, inputs), kind) + lam * (target - fake).abs().mean()


def _penalty(critic, real, fake, lam=10.0, eps=None, create_graph=True, per_sample=True, squared=False):
    eps = minigen.rand(real.shape[0], *[1] * (real.ndim - 1), dtype=real.dtype) if eps is None else eps
    xhat = (eps * real + (1 - eps) * fake).detach().requires_grad_()
    g, = minigen.grad(critic(xhat).sum(), xhat, create_graph=create_graph)
    squares = (g * g).reshape(g.shape[0] if per_sample else 1, -1).sum(dim=1)
    return lam * (((squares if squared else squares.sqrt()) - 1) ** 2).mean()


def penalty_no_create_graph(critic, real, fake, lam=10.0, eps=None):
    return _penalty(critic, real, fake, lam, eps, create_graph=False)


def penalty_whole_batch_norm(critic, real, fake, lam=10.0, eps=None):
    return _penalty(critic, real, fake, lam, eps, per_sample=False)


def penalty_squared_norm(critic, real, fake, lam=10.0, eps=None):
    return _penalty(critic, real, fake, lam, eps, squared=True)


def penalty_at_real_points(critic, real, fake, lam=10.0, eps=None):
    return _penalty(critic, real, fake, lam, eps=Tensor(np.ones((real.shape[0],) + (1,) * (real.ndim - 1))))


# exercise -> [(wrong version, a word the failure message must contain)]
BUGS = {
    "mul_backward": [(mul_no_sum_to, "sum over a broadcast axis"), (mul_swapped, "are two gradients swapped"),
                     (mul_raw_arrays, "second derivatives")],
    "matmul_backward": [(matmul_transposed, "transposed"), (matmul_2d_only, "broadcast")],
    "sum_to": [(sum_to_leading_only, "expected"), (sum_to_wrong_axes, "then over the dims where the target has size 1")],
    "topological_order": [(topological_not_reversed, "must come later"), (topological_recursive, "explicit stack"),
                          (topological_breadth_first, "must come later")],
    "log_softmax": [(log_softmax_naive, "subtract the max"), (log_softmax_last_axis, "dim=0")],
    "im2col": [(im2col_no_dilation, "dilation (2, 2)"), (im2col_batch_first, "cols[(c kH + i) kW + j")],
    "col2im": [(col2im_assigns, "add (+=)")],
    "batch_norm": [(batch_norm_unbiased, "biased variance"), (batch_norm_std_as_var, "sqrt(var + eps)"),
                   (batch_norm_detached_mean, "gradcheck"),
                   (batch_norm_biased_running_var, "moves towards the unbiased batch variance")],
    "adam_step": [(adam_no_bias_correction, "bias correction"), (adam_eps_inside_sqrt, "eps=0.001")],
    "markov_mle": [(markov_column_wise, "rows (the state you leave) sum to 1"),
                   (markov_all_states_start, "count the first state of each sequence only"),
                   (markov_nan_row, "make it uniform instead of dividing 0 by 0")],
    "bernoulli_nb_log_posterior": [(nb_forgets_off_pixels, "the pixels that are off count too"),
                                   (nb_joint_not_posterior, "divides by p(x)"),
                                   (nb_unstable, "largest a_k out before exp (log-sum-exp)")],
    "hmm_forward": [(forward_column_wise, "p(z_n = j | z_{n-1} = i)"), (forward_without_pi, "pi * B_1"),
                    (forward_unscaled_padding, "padding"),
                    (forward_alpha_not_divided, "normalized to sum to 1"),
                    (forward_padding_zeroed, "carry alpha_{n-1} over unchanged")],
    "hmm_backward": [(backward_not_transposed, "a sum over the NEXT state j"), (backward_same_step, "B_{n+1}"),
                     (backward_padding_zeroed, "beta_hat_n = 1, as at the last")],
    "viterbi": [(viterbi_off_by_one, "an off-by-one here shifts the path"), (viterbi_sum_not_max, "a max, not a sum"),
                (viterbi_no_padding, "padding")],
    "baum_welch_m_step": [(m_step_columns, "normalize each ROW"),
                          (m_step_transposed, "transposed: rows and columns swapped"),
                          (m_step_nan_rows, "previous row")],
    "gmm_e_step": [(gmm_e_step_exp_first, "log-sum-exp: subtract the largest"),
                   (gmm_e_step_without_pi, "did you add ln pi_k to log_gaussian?"),
                   (gmm_e_step_returns_gamma, "return ln gamma (log space)")],
    "gmm_m_step": [(gmm_m_step_divides_by_N, "divide by N_k, not by N"),
                   (gmm_m_step_without_reg, "plus reg_covar on the diagonal"),
                   (gmm_m_step_unweighted, "around the NEW mu_k, weighted by gamma"),
                   (gmm_m_step_counts_not_weights, "pi_k = N_k / N with N_k")],
    "reparameterize_backward": [(reparameterize_missing_half, "constant factor"),
                                (reparameterize_std_as_var, "input 1"),
                                (reparameterize_no_sum_to, "sum over a broadcast axis")],
    "gaussian_kl": [(kl_wrong_sign, "the sign is flipped"), (kl_wrong_sign, "it is negative everywhere but at the prior"),
                    (kl_missing_one, "KL = -1/2 sum_j (1 + logvar_j"), (kl_std_as_var, "not exp(logvar / 2)"),
                    (kl_mean_over_latent, "sum over the last dim")],
    "discriminator_loss": [(d_loss_swapped, "real logits go with"), (d_loss_unstable, "-softplus(-x) and ln(1 - sigma(x))"),
                           (d_loss_unstable, "you return inf or nan"),
                           (d_loss_sum, "expected")],
    "conditional_discriminator_loss": [
        (cd_loss_other_labels_for_fakes, "the same y_i as its real partner"),
        (cd_loss_labels_reversed, "score each real image with its own label y_i"),
        (cd_loss_unstable, "-softplus(-x) and ln(1 - sigma(x)) = -softplus(x) never overflow"),
        (cd_loss_swapped, "the loss is -mean ln sigma(D(x, y))"), (cd_loss_only_the_loss, "return a tuple"),
        (cd_loss_detached, "no gradient reached D's per-label weights")],
    "pix2pix_generator_loss": [
        (p2p_loss_target_as_partner, "the fake with its own input"), (p2p_loss_l1_summed, "not squared, not a sum"),
        (p2p_loss_squared, "not squared, not a sum"), (p2p_loss_lam_fixed, "with the lam given"),
        (p2p_loss_unstable, "softplus(-x) never overflows"), (p2p_loss_l1_detached, "both terms depend on the fake"),
        (p2p_loss_detached, "no gradient reaches the fake"),
        (p2p_loss_only_the_loss, "return a tuple (loss, l_gan, l1)")],
    "gradient_penalty": [(penalty_no_create_graph, "create_graph=True"), (penalty_whole_batch_norm, "one norm per"),
                         (penalty_squared_norm, "the norm taken over each sample's pixels (not squared)"),
                         (penalty_at_real_points, "xhat = eps * real")],
}


def _failures(exercise, candidate):
    return [result for result in run_checks(exercise, candidate) if not result.passed]


def test_every_exercise_has_bugs_in_the_zoo():
    assert len(EXERCISES) >= 15
    assert sorted(BUGS) == sorted(exercise.name for exercise in EXERCISES)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.name)
def test_the_reference_passes_its_checks(exercise):
    assert _failures(exercise, exercise.reference) == []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the wrong versions overflow and divide by zero
@pytest.mark.parametrize("name, bug, hint", [pytest.param(name, bug, hint, id=f"{name}-{bug.__name__}")
                                             for name, bugs in BUGS.items() for bug, hint in bugs])
def test_a_wrong_version_fails_with_a_helpful_message(name, bug, hint):
    failures = _failures(get(name), bug)
    assert failures, f"the checks of {name} passed the wrong version {bug.__name__}"
    messages = "\n".join(result.message for result in failures)
    assert hint in messages, messages


def test_swapped_restores_the_reference_everywhere():
    import minigen.ops.elementwise as elementwise
    exercise = get("sum_to")
    with swapped(exercise, sum_to_leading_only):
        assert elementwise.sum_to is sum_to_leading_only
    assert elementwise.sum_to is exercise.reference and minigen.ops.shape.sum_to is exercise.reference


# ------------------------------------------------------------------ the command line
@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_EXERCISES_DIR", str(tmp_path / "exercises"))
    return tmp_path / "exercises"


def _correct_copy(name, folder):
    """Write a student file for ``name`` that is a copy of the reference."""
    exercise = get(name)
    module = exercise.reference.__module__
    owner = f"{exercise.owner.__name__}." if isinstance(exercise.owner, type) else ""
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(f"import {module}\n{exercise.attr} = {module}.{owner}{exercise.attr}\n")


def test_list_shows_every_exercise_and_its_status(folder, capsys):
    main(["start", "viterbi"])
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if "started" in line]) == len(EXERCISES)
    assert "started" in next(line for line in lines if line.startswith("viterbi")).split()[-1]
    assert "not started" in next(line for line in lines if line.startswith("hmm_forward"))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.name)
def test_start_writes_the_signature_and_docstring(exercise, folder, capsys):
    assert main(["start", exercise.name]) == 0
    text = (folder / f"{exercise.name}.py").read_text()
    assert f"def {exercise.attr}{inspect.signature(exercise.reference)}:" in text
    assert (inspect.getdoc(exercise.reference) or exercise.statement[:40]).splitlines()[0] in text
    compile(text, "stub", "exec")
    assert main(["check", exercise.name]) == 1
    assert "not implemented" in capsys.readouterr().out


def test_start_refuses_to_overwrite(folder, capsys):
    main(["start", "gaussian_kl"])
    assert main(["start", "gaussian_kl"]) == 2
    assert "reset gaussian_kl" in capsys.readouterr().err


def test_check_passes_a_correct_file(folder, capsys):
    _correct_copy("hmm_forward", folder)
    assert main(["check", "hmm_forward"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" not in out


def test_check_without_names_summarizes_every_started_exercise(folder, capsys):
    _correct_copy("viterbi", folder)
    main(["start", "gaussian_kl"])
    assert main(["check"]) == 1
    summary = capsys.readouterr().out.split("exercise ")[-1]
    assert "viterbi" in summary and "passed 3/3" in summary
    assert "gaussian_kl" in summary and "not implemented" in summary


def test_check_reports_an_error_in_the_students_file(folder, capsys):
    folder.mkdir()
    (folder / "sum_to.py").write_text("def sum_to(x, shape):\n    return x.nonexistent\n")
    assert main(["check", "sum_to"]) == 1
    out = capsys.readouterr().out
    assert "AttributeError" in out and "sum_to.py line 2" in out


def test_reset_starts_the_file_over(folder):
    main(["start", "markov_mle"])
    (folder / "markov_mle.py").write_text("my work")
    assert main(["reset", "markov_mle"]) == 0
    assert "raise NotImplementedError" in (folder / "markov_mle.py").read_text()


@pytest.mark.parametrize("command", ["start", "check", "reset"])
def test_an_unknown_name_is_an_error_listing_the_names(command, folder, capsys):
    assert main([command, "hmm_forwards"]) == 2
    err = capsys.readouterr().err
    assert "hmm_forwards" in err and "hmm_forward" in err and "gradient_penalty" in err


# ------------------------------------------------------------------ MINIGEN_EXERCISES: the demos use the student's code
@pytest.fixture
def restore_forward():
    yield
    install(get("hmm_forward"), get("hmm_forward").reference)  # undo use_student_versions
    atexit.unregister(report_calls)


def _counting_forward(folder):
    folder.mkdir(exist_ok=True)
    (folder / "hmm_forward.py").write_text(
        "from minigen.models.hmm_algorithms import forward_scaled as reference\n"
        "calls = []\n"
        "def forward_scaled(startprob, transmat, B_obs, mask):\n"
        "    calls.append(B_obs.shape)\n"
        "    return reference(startprob, transmat, B_obs, mask)\n")


def test_minigen_exercises_installs_the_students_version(folder, monkeypatch, restore_forward, capsys):
    from minigen.models.hmm import CategoricalHMM
    _counting_forward(folder)
    monkeypatch.setenv("MINIGEN_EXERCISES", "hmm_forward")
    assert use_student_versions() == ["hmm_forward"]
    assert "student versions of hmm_forward" in capsys.readouterr().out
    student = alg.forward_scaled
    assert student.__module__ == "student_hmm_forward"
    X = np.random.default_rng(0).integers(0, 3, (20, 1))
    CategoricalHMM(2, n_features=3, n_iter=3, random_state=0).fit(X)
    assert len(student.__wrapped__.__globals__["calls"]) >= 3


def test_a_wrong_student_version_changes_what_the_demos_compute(folder, monkeypatch, restore_forward):
    from minigen.models.hmm import CategoricalHMM
    X = np.random.default_rng(0).integers(0, 3, (30, 1))
    expected = CategoricalHMM(2, n_features=3, n_iter=5, random_state=0).fit(X).score(X)
    folder.mkdir()
    (folder / "hmm_forward.py").write_text(  # the lecture's column-wise A read as hmmlearn's row-wise transmat
        "from minigen.models.hmm_algorithms import forward_scaled as reference\n"
        "def forward_scaled(startprob, transmat, B_obs, mask):\n"
        "    return reference(startprob, transmat.T, B_obs, mask)\n")
    monkeypatch.setenv("MINIGEN_EXERCISES", "hmm_forward")
    use_student_versions()
    assert CategoricalHMM(2, n_features=3, n_iter=5, random_state=0).fit(X).score(X) != pytest.approx(expected)


def test_minigen_exercises_names_a_missing_file(folder, monkeypatch):
    monkeypatch.setenv("MINIGEN_EXERCISES", "viterbi")
    with pytest.raises(FileNotFoundError, match="start viterbi"):
        use_student_versions()


def test_the_demos_call_use_student_versions():
    common = (pathlib.Path(__file__).parents[1] / "demos" / "common.py").read_text()
    assert "use_student_versions()" in common


def test_the_hmm_demo_runs_the_students_forward(folder, tmp_path):
    folder.mkdir()
    (folder / "hmm_forward.py").write_text(
        "import pathlib\n"
        "from minigen.models.hmm_algorithms import forward_scaled as reference\n"
        "def forward_scaled(startprob, transmat, B_obs, mask):\n"
        "    with open(pathlib.Path(__file__).with_suffix('.calls'), 'a') as calls:\n"
        "        calls.write('called\\n')\n"
        "    return reference(startprob, transmat, B_obs, mask)\n")
    demo = pathlib.Path(__file__).parents[1] / "demos" / "hmm_pen_digits.py"
    env = dict(os.environ, MINIGEN_EXERCISES="hmm_forward", MINIGEN_EXERCISES_DIR=str(folder), MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, str(demo), "--quick", "--out", str(tmp_path / "out")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "student versions of hmm_forward" in run.stdout
    assert len((folder / "hmm_forward.calls").read_text().splitlines()) >= 1
    calls = len((folder / "hmm_forward.calls").read_text().splitlines())
    assert run.stdout.splitlines()[-1] == f"minigen: your hmm_forward ran {calls} time{'s' if calls > 1 else ''}"


@pytest.mark.parametrize("source, error", [
    ("def forward_scaled(:\n", "raised SyntaxError: invalid syntax (at {path} line 1: def forward_scaled(:)"),
    ("x = 1 / 0\n", "raised ZeroDivisionError: division by zero (at {path} line 1: x = 1 / 0)")])
def test_a_student_file_that_fails_to_load_stops_the_demos_with_its_error(folder, tmp_path, source, error):
    folder.mkdir()
    (folder / "hmm_forward.py").write_text(source)
    demo = pathlib.Path(__file__).parents[1] / "demos" / "markov_weather.py"
    env = dict(os.environ, MINIGEN_EXERCISES="hmm_forward", MINIGEN_EXERCISES_DIR=str(folder), MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, str(demo), "--out", str(tmp_path / "out")], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip() == (f"MINIGEN_EXERCISES: could not load a student's file from {folder}/: "
                                  + error.format(path=folder / "hmm_forward.py"))
