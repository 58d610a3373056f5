"""Checks of the GANs' exercises: the discriminator's loss, WGAN-GP's gradient penalty, the
class-conditional discriminator's loss and pix2pix's generator loss. Each takes the candidate and
raises CheckFailure; none runs the candidate's answer through a reference of its own making: the
expected numbers come from NumPy on the same small critics.
"""
import math

import numpy as np

import minigen
from minigen.autograd import Tensor
from minigen.exercises.checking import check_gradients, compare, fail, leaf
from minigen.models.gan import gradient_penalty as reference_gradient_penalty


def _rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ the unconditional GAN
def discriminator_loss_values(candidate):
    """values against -mean ln sigma(D(x)) - mean ln(1 - sigma(D(G(z)))) and the critic's mean D(G(z)) - mean D(x)"""
    rng = _rng()
    real, fake = rng.standard_normal((5, 1)), rng.standard_normal((5, 1))
    sigma = 1 / (1 + np.exp(-np.concatenate([real, fake])))
    expected = -np.log(sigma[:5]).mean() - np.log(1 - sigma[5:]).mean()
    for kind in ("minimax", "non_saturating"):
        compare(f'kind "{kind}" at logits 0: 2 ln 2', candidate(Tensor(np.zeros((3, 1))), Tensor(np.zeros((3, 1))),
                                                              kind), 2 * math.log(2))
        compare(f'kind "{kind}" on random logits', candidate(Tensor(real), Tensor(fake), kind), expected,
                hint="the real logits go with ln sigma, the fake ones with ln(1 - sigma); the loss is the negative")
    compare('kind "wgan-gp": mean D(G(z)) - mean D(x)', candidate(Tensor(real), Tensor(fake), "wgan-gp"),
            fake.mean() - real.mean())


def discriminator_loss_stable(candidate):
    """finite for confident logits: D(x) = -1000 and D(G(z)) = 1000 give a loss of 2000, not inf"""
    for kind in ("minimax", "non_saturating"):
        compare(f'kind "{kind}" with real logit -1000 and fake logit 1000',
                candidate(Tensor(np.array([[-1000.0]])), Tensor(np.array([[1000.0]])), kind), 2000.0,
                hint="ln sigma(x) = -softplus(-x) and ln(1 - sigma(x)) = -softplus(x) never overflow; "
                     "log(sigmoid(x)) is log(0) = -inf for x = -1000")


def discriminator_loss_gradients(candidate):
    """d loss / d D(x)_i = -(1 - sigma(D(x)_i)) / N, and a gradcheck in both logits"""
    rng = _rng()
    real = Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    candidate(real, Tensor(rng.standard_normal((4, 1))), "non_saturating").backward()
    compare("d loss / d real_logits", real.grad, -(1 - 1 / (1 + np.exp(-real.data))) / 4)
    check_gradients("discriminator_loss(real (4, 1), fake (4, 1), 'minimax')",
                    lambda r, f: candidate(r, f, "minimax"), (leaf(rng, 4, 1), leaf(rng, 4, 1)))


class _Critic:
    """critic(x) = sum over the pixels of w * x^power, one value per sample: (N, 1)."""

    def __init__(self, w, power):
        self.w, self.power = w, power

    def __call__(self, x):
        return (self.w * x ** self.power).reshape(x.shape[0], -1).sum(dim=1, keepdim=True)


def gradient_penalty_linear(candidate):
    """a linear critic w.x has gradient w everywhere: the penalty is lam (||w|| - 1)^2"""
    rng = _rng()
    w = Tensor(rng.standard_normal((1, 2, 2)))
    real, fake = Tensor(rng.standard_normal((3, 1, 2, 2))), Tensor(rng.standard_normal((3, 1, 2, 2)))
    expected = 10.0 * (np.linalg.norm(w.data) - 1) ** 2
    compare("gradient_penalty of a linear critic with ||w|| = %.4g" % np.linalg.norm(w.data),
            candidate(_Critic(w, 1), real, fake, 10.0), expected,
            hint="g = grad of critic(xhat).sum() in xhat; penalty = lam * mean over samples of (||g_i||_2 - 1)^2, "
                 "the norm taken over each sample's pixels (not squared)")


def gradient_penalty_per_sample(candidate):
    """a quadratic critic with a given eps: per-sample gradient norms at xhat = eps real + (1 - eps) fake"""
    rng = _rng()
    critic = _Critic(Tensor(rng.standard_normal((1, 2, 2))), 2)
    real, fake = Tensor(rng.standard_normal((4, 1, 2, 2))), Tensor(rng.standard_normal((4, 1, 2, 2)))
    eps = Tensor(rng.uniform(0, 1, (4, 1, 1, 1)))
    compare("gradient_penalty with eps given", candidate(critic, real, fake, 10.0, eps),
            reference_gradient_penalty(critic, real, fake, 10.0, eps),
            hint="xhat = eps * real + (1 - eps) * fake, detached, then requires_grad; one norm per sample (dim 0)")


def gradient_penalty_differentiable(candidate):
    """the penalty reaches the critic's weights (the gradient was recorded with create_graph=True)"""
    rng = _rng()
    w = Tensor(rng.standard_normal((1, 2, 2)), requires_grad=True)
    real, fake = Tensor(rng.standard_normal((3, 1, 2, 2))), Tensor(rng.standard_normal((3, 1, 2, 2)))
    eps = Tensor(rng.uniform(0, 1, (3, 1, 1, 1)))
    penalty = candidate(_Critic(w, 2), real, fake, 10.0, eps)
    if not penalty.requires_grad:
        fail("the penalty does not depend on the critic's weights in the graph: compute the gradient with "
             "minigen.grad(critic(xhat).sum(), xhat, create_graph=True) so it can be differentiated again")
    got, = minigen.grad(penalty, w)
    w_ref = Tensor(w.data.copy(), requires_grad=True)
    expected, = minigen.grad(reference_gradient_penalty(_Critic(w_ref, 2), real, fake, 10.0, eps), w_ref)
    compare("d penalty / d critic weights", got, expected)


# ------------------------------------------------------------------ the class-conditional GAN
class _LabelledCritic:
    """D(x, y) = sum over the pixels of w * x, plus b[y]: (N, 1); y an integer Tensor (N,)."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x, labels):
        return (self.w * x).reshape(x.shape[0], -1).sum(dim=1, keepdim=True) + self.b[labels].reshape(-1, 1)


def _labelled_case(rng, scale=1.0):
    w = Tensor(rng.standard_normal((1, 2, 2)) * scale, requires_grad=True)
    b = Tensor(rng.standard_normal(10) * scale, requires_grad=True)
    real, fake = Tensor(rng.standard_normal((5, 1, 2, 2))), Tensor(rng.standard_normal((5, 1, 2, 2)))
    return _LabelledCritic(w, b), real, fake, Tensor(np.array([7, 0, 3, 3, 9]))


def _by_numpy(critic, x, labels):
    return (critic.w.data * x.data).reshape(len(x.data), -1).sum(axis=1, keepdims=True) + \
        critic.b.data[labels.data].reshape(-1, 1)


def _returned(result):
    if not isinstance(result, tuple) or len(result) != 3:
        fail(f"return a tuple (loss, real_logits, fake_logits); got {type(result).__name__}")
    return result


def conditional_d_loss_values(candidate):
    """each image scored with its own label: the logits D(x_i, y_i), D(G(z_i, y_i), y_i) and the loss of each kind"""
    critic, real, fake, labels = _labelled_case(_rng())
    l, f = _by_numpy(critic, real, labels), _by_numpy(critic, fake, labels)
    sigma = 1 / (1 + np.exp(-np.concatenate([l, f])))
    for kind in ("minimax", "non_saturating"):
        loss, real_logits, fake_logits = _returned(candidate(critic, real, fake, labels, kind))
        compare("real_logits D(x_i, y_i)", real_logits, l, hint="score each real image with its own label y_i")
        compare("fake_logits D(G(z_i, y_i), y_i)", fake_logits, f,
                hint="score each fake with the label it was generated for, the same y_i as its real partner")
        compare(f'kind "{kind}"', loss, -np.log(sigma[:5]).mean() - np.log(1 - sigma[5:]).mean(),
                hint="the loss is -mean ln sigma(D(x, y)) - mean ln(1 - sigma(D(G(z, y), y)))")
    compare('kind "wgan-gp": mean D(G(z, y), y) - mean D(x, y)',
            _returned(candidate(critic, real, fake, labels, "wgan-gp"))[0], f.mean() - l.mean())


def conditional_d_loss_stable(candidate):
    """finite for confident logits: D(x, y) ~ -1000 and D(G(z, y), y) ~ +1000 give a finite loss of about 2000"""
    critic = _LabelledCritic(Tensor(np.ones((1, 2, 2))), Tensor(np.zeros(10)))  # D(x, y) = sum of x's 4 pixels
    real, fake = Tensor(np.full((2, 1, 2, 2), -250.0)), Tensor(np.full((2, 1, 2, 2), 250.0))
    loss = _returned(candidate(critic, real, fake, Tensor(np.array([1, 2])), "non_saturating"))[0]
    compare("the loss with real logits -1000 and fake logits 1000", loss, 2000.0,
            hint="ln sigma(x) = -softplus(-x) and ln(1 - sigma(x)) = -softplus(x) never overflow")


def conditional_d_loss_gradients(candidate):
    """the loss reaches D's weights and its label embedding: d loss / d b[y] against the reference"""
    critic, real, fake, labels = _labelled_case(_rng())
    loss = _returned(candidate(critic, real, fake, labels, "non_saturating"))[0]
    if not getattr(loss, "requires_grad", False):
        fail("no gradient reached D's per-label weights: compute the logits with the discriminator, in the graph")
    loss.backward()
    l, f = _by_numpy(critic, real, labels), _by_numpy(critic, fake, labels)
    d_real, d_fake = -(1 - 1 / (1 + np.exp(-l))) / 5, 1 / (1 + np.exp(-f)) / 5  # d loss / d logits
    expected = np.zeros(10)
    np.add.at(expected, labels.data, (d_real + d_fake).ravel())
    compare("d loss / d b (the per-label weights)", critic.b.grad, expected)


# ------------------------------------------------------------------ pix2pix
class _PairCritic:
    """A PatchGAN in miniature: D(y, x) = w * y + v * x pixel by pixel, one logit per pixel (N, 1, 2, 2)."""

    def __init__(self, w, v):
        self.w, self.v = w, v

    def __call__(self, y, x):
        return self.w * y + self.v * x


def _pair_case(rng):
    critic = _PairCritic(Tensor(rng.standard_normal((1, 2, 2))), Tensor(rng.standard_normal((1, 2, 2))))
    fake, target, inputs = (Tensor(rng.standard_normal((3, 1, 2, 2))) for _ in range(3))
    return critic, fake, target, inputs


def _pix2pix_returned(result):
    if not isinstance(result, tuple) or len(result) != 3:
        fail(f"return a tuple (loss, l_gan, l1); got {type(result).__name__}")
    return result


def _softplus(x):
    return np.logaddexp(0, x)


def pix2pix_loss_values(candidate):
    """L_cGAN on the pair (G(x), x), the per-pixel L1 to the target, and loss = L_cGAN + lam L1, for lam 100 and 3"""
    critic, fake, target, inputs = _pair_case(_rng())
    f = critic.w.data * fake.data + critic.v.data * inputs.data  # D(G(x), x), one logit per patch
    l1 = np.abs(target.data - fake.data).mean()
    for kind, l_gan in (("non_saturating", _softplus(-f).mean()), ("minimax", -_softplus(f).mean()),
                        ("wgan-gp", -f.mean())):
        for lam in (100.0, 3.0):
            loss, got_gan, got_l1 = _pix2pix_returned(candidate(critic, fake, target, inputs, kind, lam))
            compare(f'l_gan, kind "{kind}"', got_gan, l_gan,
                    hint="D judges the pair (G(x), x): discriminator(fake, inputs), the fake with its own input; "
                         "then generator_loss's term of the kind, averaged over every patch")
            compare("l1 = mean |y - G(x)|", got_l1, l1,
                    hint="the L1 term is the mean over every pixel of |target - fake| (not squared, not a sum)")
            compare(f"loss with lam = {lam:g}", loss, l_gan + lam * l1,
                    hint="loss = l_gan + lam * l1, with the lam given (the paper's 100 is only the default)")


def pix2pix_loss_stable(candidate):
    """finite where D rejects the fakes outright: logits -1000 give l_gan = 1000 (non-saturating), not inf"""
    critic = _PairCritic(Tensor(np.ones((1, 2, 2))), Tensor(np.zeros((1, 2, 2))))
    fake = Tensor(np.full((2, 1, 2, 2), -1000.0))
    _, l_gan, _ = _pix2pix_returned(candidate(critic, fake, fake, fake, "non_saturating", 100.0))
    compare("l_gan with fake logits -1000", l_gan, 1000.0,
            hint="-ln sigma(x) = softplus(-x) never overflows; -log(sigmoid(x)) is -log(0) = inf at x = -1000")


def pix2pix_loss_gradients(candidate):
    """d loss / d G(x) = d l_gan / d G(x) + lam sign(G(x) - y) / n, and a gradcheck in the fake"""
    rng = _rng()
    critic, _, target, inputs = _pair_case(rng)
    fake = Tensor(rng.standard_normal((3, 1, 2, 2)), requires_grad=True)
    loss = _pix2pix_returned(candidate(critic, fake, target, inputs, "non_saturating", 100.0))[0]
    if not getattr(loss, "requires_grad", False):
        fail("no gradient reaches the fake: compute both terms from fake in the graph (no .detach(), no .numpy())")
    g, = minigen.grad(loss, fake)
    f = critic.w.data * fake.data + critic.v.data * inputs.data
    n = fake.data.size
    expected = -critic.w.data / (1 + np.exp(f)) / n + 100.0 * np.sign(fake.data - target.data) / n
    compare("d loss / d fake", g, expected,
            hint="both terms depend on the fake: the adversarial one through D(fake, x)")
    check_gradients("pix2pix_generator_loss(D, fake (3, 1, 2, 2), ...)[0] in the fake",
                    lambda G: candidate(critic, G, target, inputs, "non_saturating", 100.0)[0],
                    (leaf(rng, 3, 1, 2, 2),))
