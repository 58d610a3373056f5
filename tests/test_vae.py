"""The VAE's Functions against autograd and against statistics; the model against exact answers.

Monte-Carlo tests use fixed seeds and bounds of K standard errors, so they are deterministic
and would fail only by a K-sigma accident for a correct implementation.
"""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.models.vae import VAE, gaussian_kl, reparameterize

K = 5  # standard errors allowed between a Monte-Carlo estimate and its expected value


def _leaves(*arrays):
    return [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ hand-written = autograd of the formula
def _assert_same_gradients(fn, composite, inputs):
    """First and second derivatives of fn and of its composite formula agree to float64 precision."""
    direction = mg.tensor(_random(fn(*inputs).shape, 7), dtype=mg.float64)
    grads = [mg.grad([(f(*inputs) * direction).sum()], inputs, create_graph=True) for f in (fn, composite)]
    for by_hand, by_autograd in zip(*grads):
        np.testing.assert_allclose(by_hand.numpy(), by_autograd.numpy(), rtol=1e-13, atol=1e-13)
    second = [mg.grad([sum((g * g).sum() for g in gs)], inputs, allow_unused=True) for gs in grads]
    for x, by_hand, by_autograd in zip(inputs, *second):  # None: the gradient does not depend on x
        zero = np.zeros(x.shape)
        np.testing.assert_allclose(zero if by_hand is None else by_hand.numpy(),
                                   zero if by_autograd is None else by_autograd.numpy(), rtol=1e-12, atol=1e-12)


def test_reparameterize_gradient_equals_autograd_through_mu_plus_sigma_eps():
    inputs = _leaves(_random((4, 3), 0), _random((4, 3), 1), _random((5, 4, 3), 2))
    _assert_same_gradients(reparameterize, lambda mu, logvar, eps: mu + mg.exp(logvar / 2) * eps, inputs)


def test_gaussian_kl_gradient_equals_autograd_through_the_closed_form():
    inputs = _leaves(_random((4, 3), 0), _random((4, 3), 1))
    formula = lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - mg.exp(logvar)).sum(-1)  # noqa: E731
    _assert_same_gradients(gaussian_kl, formula, inputs)


def test_gaussian_kl_is_zero_at_the_prior_and_one_value_per_example():
    kl = gaussian_kl(mg.zeros(6, 2), mg.zeros(6, 2))
    assert kl.shape == (6,) and np.all(kl.numpy() == 0)


def test_gaussian_kl_rejects_shapes_that_differ():
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl(mg.zeros(3, 2), mg.zeros(3, 4))


# ------------------------------------------------------------------ statistics
def _per_sample_gradients(mu, logvar, f, n):
    """Reparameterization: the gradient of f(z_s) with respect to mu and logvar, one row per sample."""
    mu_s, logvar_s = _leaves(np.tile(mu, (n, 1)), np.tile(logvar, (n, 1)))
    eps = mg.randn(n, len(mu), dtype=mg.float64)
    f(reparameterize(mu_s, logvar_s, eps)).sum().backward()
    return mu_s.grad.numpy(), logvar_s.grad.numpy(), (mu + np.exp(logvar / 2) * eps.numpy())


def test_reparameterization_and_score_function_estimate_the_same_gradient_with_less_variance():
    """f(z) = ||z - c||^2 with z ~ N(mu, sigma^2): E f = ||mu - c||^2 + sum sigma^2, so
    grad_mu E f = 2 (mu - c). Score function (REINFORCE): f(z) (z - mu) / sigma^2."""
    mg.manual_seed(1)
    mu, logvar, c = np.array([0.5, -1.0, 2.0]), np.array([0.0, -1.0, 0.6]), np.array([1.0, 0.0, -1.0])
    n = 20_000
    reparam, _, z = _per_sample_gradients(mu, logvar, lambda z: ((z - mg.tensor(c)) ** 2).sum(-1), n)
    score = ((z - c) ** 2).sum(1, keepdims=True) * (z - mu) / np.exp(logvar)
    exact = 2 * (mu - c)
    for estimate in (reparam, score):
        standard_error = estimate.std(0) / math.sqrt(n)
        assert np.all(np.abs(estimate.mean(0) - exact) < K * standard_error), (estimate.mean(0), exact)
    assert np.all(reparam.var(0) < score.var(0) / 10), (reparam.var(0), score.var(0))


def test_reparameterization_gradient_in_logvar_matches_the_closed_form():
    """d/dlogvar (||mu - c||^2 + sum exp(logvar)) = exp(logvar)."""
    mg.manual_seed(2)
    mu, logvar, c = np.array([0.5, -1.0]), np.array([0.3, -0.7]), np.array([1.0, 0.0])
    n = 20_000
    _, grad_logvar, _ = _per_sample_gradients(mu, logvar, lambda z: ((z - mg.tensor(c)) ** 2).sum(-1), n)
    standard_error = grad_logvar.std(0) / math.sqrt(n)
    assert np.all(np.abs(grad_logvar.mean(0) - np.exp(logvar)) < K * standard_error)


def test_closed_form_kl_matches_a_monte_carlo_estimate():
    """KL(q || p) = E_q[ln q(z) - ln p(z)], estimated with z = mu + sigma eps."""
    mg.manual_seed(3)
    mu, logvar = np.array([0.8, -0.3, 1.5]), np.array([-0.5, 0.4, -1.2])
    n = 50_000
    eps = mg.randn(n, 3, dtype=mg.float64)
    z = reparameterize(mg.tensor(mu), mg.tensor(logvar), eps).numpy()
    log_q = (-0.5 * (eps.numpy() ** 2 + logvar + math.log(2 * math.pi))).sum(1)
    log_p = (-0.5 * (z ** 2 + math.log(2 * math.pi))).sum(1)
    samples = log_q - log_p
    exact = gaussian_kl(mg.tensor(mu), mg.tensor(logvar)).item()
    assert abs(samples.mean() - exact) < K * samples.std() / math.sqrt(n), (samples.mean(), exact)


# ------------------------------------------------------------------ the model
def _tiny(likelihood="bernoulli", latent=1, in_dim=3):
    mg.manual_seed(0)
    return VAE(in_dim=in_dim, hidden=4, latent=latent, likelihood=likelihood).to(dtype=mg.float64)


def _exact_nll(model, x, grid=np.linspace(-10, 10, 20_001)):
    """-ln p(x) = -ln of the integral of p(x|z) N(z; 0, 1) dz over a 1-d latent, by the trapezoid rule."""
    z = mg.tensor(grid[:, None], dtype=mg.float64)
    with mg.no_grad():
        log_likelihood = model.log_likelihood(x[:, None, :], model.decode(z)).numpy()    # (N, grid)
    log_joint = log_likelihood - 0.5 * (grid ** 2 + math.log(2 * math.pi))
    peak = log_joint.max(1, keepdims=True)
    return -(np.log(np.trapezoid(np.exp(log_joint - peak), grid, axis=1)) + peak[:, 0])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_iwae_approaches_the_exact_negative_log_likelihood_and_bounds_it_from_above(likelihood):
    model = _tiny(likelihood)
    x = mg.tensor(np.random.default_rng(0).random((4, 3)), dtype=mg.float64)
    exact = _exact_nll(model, x)
    with mg.no_grad():
        negative_elbo = -model.elbo(x, n_samples=2000).numpy()
        iwae = model.iwae_nll(x, k=100_000).numpy()
    np.testing.assert_allclose(iwae, exact, atol=1e-2)  # the estimate's spread here is about 2e-3
    assert np.all(negative_elbo >= exact - 1e-3), (negative_elbo, exact)  # KL(q || posterior) >= 0


def test_gaussian_likelihood_is_a_normalized_density():
    model = _tiny("gaussian", in_dim=1)
    grid = np.linspace(-12, 12, 24_001)
    out = mg.tensor(np.full((len(grid), 1), 0.3))
    with mg.no_grad():
        density = np.exp(model.log_likelihood(mg.tensor(grid[:, None]), out).numpy())
    assert abs(np.trapezoid(density, grid) - 1) < 1e-9


def test_loss_is_minus_elbo_for_the_same_noise():
    """reconstruction + kl with one sample = -ELBO with one sample (bernoulli: no constant)."""
    model = _tiny(latent=2)
    x = mg.tensor(np.random.default_rng(0).random((5, 3)), dtype=mg.float64)
    mg.manual_seed(4)
    reconstruction, kl = model.loss(x)
    mg.manual_seed(4)
    elbo = model.elbo(x)
    assert reconstruction.shape == kl.shape == ()
    np.testing.assert_allclose((reconstruction + kl).item(), -elbo.mean().item(), rtol=1e-12)


def test_shapes_of_encode_decode_sample_and_interpolate():
    model = VAE()
    x = mg.rand(6, 784)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (6, 20)
    assert model.decode(mu).shape == (6, 784)
    assert model.sample(7).shape == (7, 784)
    assert model.interpolate(x[0], x[1], 5).shape == (5, 784)
    assert model.interpolate(x[:2], x[2:4], 5).shape == (2, 5, 784)
    assert model.iwae_nll(x, k=3).shape == model.elbo(x, n_samples=2).shape == (6,)


def test_interpolation_ends_decode_the_two_encodings():
    model = VAE()
    x_a, x_b = mg.rand(784), mg.rand(784)
    path = model.interpolate(x_a, x_b, 4).numpy()
    for end, x in ((path[0], x_a), (path[-1], x_b)):
        np.testing.assert_allclose(end, model.mean(model.decode(model.encode(x)[0])).numpy(), rtol=1e-5, atol=1e-6)


def test_samples_are_probabilities_for_the_bernoulli_likelihood():
    pixels = VAE().sample(10).numpy()
    assert pixels.min() >= 0 and pixels.max() <= 1


def test_rejects_an_unknown_likelihood():
    with pytest.raises(ValueError, match="likelihood"):
        VAE(likelihood="poisson")


def test_same_seed_gives_the_same_loss_on_every_device(device):
    mg.manual_seed(5)
    model = VAE()
    x = mg.rand(8, 784)
    losses = []
    for where in ("cpu", device):
        mg.manual_seed(6)
        losses.append(sum(model.to(where).loss(x.to(where))).item())
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


@pytest.mark.parametrize("n_samples", [0, -1, 1.5])
def test_elbo_needs_at_least_one_sample(n_samples):
    model = VAE(6, 8, 2)
    with pytest.raises(ValueError, match=f"n_samples must be a positive int, got {n_samples!r}"):
        model.elbo(mg.tensor(np.full((4, 6), 0.5, dtype=np.float32)), n_samples=n_samples)


def test_a_checkpoint_with_the_old_head_names_fc21_fc22_still_loads():
    model, old = VAE(6, 5, 2), VAE(6, 5, 2)
    renamed = {"mu_head": "fc21", "logvar_head": "fc22"}
    state = {renamed.get(name.split(".")[0], name.split(".")[0]) + name[name.index("."):]: value
             for name, value in old.state_dict().items()}
    assert "fc21.weight" in state and "mu_head.weight" not in state
    model.load_state_dict(state)
    for (name, value), (_, expected) in zip(model.state_dict().items(), old.state_dict().items()):
        np.testing.assert_array_equal(value.numpy(), expected.numpy(), err_msg=name)
