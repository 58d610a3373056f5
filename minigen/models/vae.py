"""The variational autoencoder (Kingma & Welling, 2014) on flattened digits.

Read it in this order:

1. ``reparameterize``: z = mu + exp(logvar / 2) * eps, a Function with its gradient by hand.
2. ``gaussian_kl``: KL(N(mu, exp(logvar)) || N(0, I)) in closed form, gradient by hand.
3. ``VAE``: the MLP encoder q(z|x) and decoder p(x|z) of PyTorch's example, the loss of
   the slides (reconstruction + KL), the ELBO and the importance-weighted bound (IWAE).
4. ``train_vae``: Adam on the loss, with per-epoch curves.

Shapes: x (N, D) with D = in_dim, mu and logvar (N, L) with L = latent.
"""
import collections.abc
import math

import numpy as np

import minigen
from minigen import backend, nn, optim
from minigen.checks import check_int
from minigen.autograd import Function, no_grad
from minigen.creation import randn, randn_like
from minigen.data import DataLoader
from minigen.nn import functional as F
from minigen.ops import broadcast_to, exp, logsumexp, relu, sigmoid, unsqueeze
from minigen.ops.shape import sum_to
from minigen.models.training import train_epoch

LIKELIHOODS = ("bernoulli", "gaussian")


# ------------------------------------------------------------------ the reparameterization trick
class Reparameterize(Function):
    """z = mu + sigma * eps with sigma = exp(logvar / 2); mu, logvar, eps broadcast together.

    Sampling z ~ N(mu, sigma^2) directly is a random draw: no path leads from z back to
    mu and sigma, so backprop stops there. Drawing eps ~ N(0, 1) first, outside the graph,
    makes z a deterministic, differentiable function of (mu, logvar) for that eps:

        dz/dmu     = 1
        dz/dlogvar = dsigma/dlogvar * eps = (1/2) exp(logvar / 2) * eps = (1/2) sigma eps
        dz/deps    = sigma

    (d exp(logvar/2) / dlogvar = exp(logvar/2) / 2 by the chain rule.) The backward
    multiplies the incoming gradient by these, written with Tensor ops so that it can
    itself be differentiated, and sums each back to its input's shape (broadcasting).
    """

    def forward(self, mu, logvar, eps):
        return mu + backend.array_module(mu).exp(logvar / 2) * eps

    def backward(self, gz):
        mu, logvar, eps = self.inputs
        sigma = exp(logvar / 2)
        return (sum_to(gz, mu.shape),                          # dz/dmu = 1
                sum_to(gz * eps * sigma / 2, logvar.shape),    # dz/dlogvar = eps sigma / 2
                sum_to(gz * sigma, eps.shape))                 # dz/deps = sigma


def reparameterize(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps, differentiable in all three (see Reparameterize).

    mu, logvar, eps: Tensors that broadcast together, e.g. (N, L), (N, L) and (K, N, L)
    for K samples per example. Returns z of the broadcast shape.
    """
    return Reparameterize.apply(mu, logvar, eps)


# ------------------------------------------------------------------ the KL term in closed form
class GaussianKL(Function):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)), summed over the last (latent) dim:

        KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))

    Per dimension, with sigma^2 = exp(logvar): -ln sigma + sigma^2/2 + mu^2/2 - 1/2.
    Its derivatives, one term at a time:

        dKL/dmu_j     = mu_j                       (from mu^2 / 2)
        dKL/dlogvar_j = (exp(logvar_j) - 1) / 2    (from -logvar/2 + exp(logvar)/2)
    """

    def forward(self, mu, logvar):
        xp = backend.array_module(mu)
        return -0.5 * (1 + logvar - mu ** 2 - xp.exp(logvar)).sum(axis=-1)

    def backward(self, gkl):
        mu, logvar = self.inputs
        g = unsqueeze(gkl, -1)  # one KL per example feeds all L latent dims
        return g * mu, g * (exp(logvar) - 1) / 2


def gaussian_kl(mu, logvar):
    """KL(q || p) for q = N(mu, diag(exp(logvar))) and p = N(0, I), in nats.

    mu, logvar: Tensors of the same shape (..., L). Returns (...,): one KL per example,
    summed over the latent dim. Raises ValueError for shapes that differ or 0-d inputs.
    """
    if mu.shape != logvar.shape or mu.ndim == 0:
        raise ValueError(f"gaussian_kl: mu and logvar must have the same shape (..., L), "
                         f"got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return GaussianKL.apply(mu, logvar)


# ------------------------------------------------------------------ the model
class VAE(nn.Module):
    """Encoder q(z|x) = N(mu(x), diag(exp(logvar(x)))), prior p(z) = N(0, I), decoder p(x|z).

    The MLP of PyTorch's VAE example: fc1 in_dim -> hidden, ReLU, then mu_head -> mu and
    logvar_head -> logvar (hidden -> latent; the example's fc21 and fc22); decoder fc3
    latent -> hidden, ReLU, fc4 -> in_dim.
    likelihood "bernoulli": the decoder gives logits, p(x|z) = prod_i sigma(l_i)^x_i (1 - sigma(l_i))^(1 - x_i)
    (x in [0, 1], pixel intensities used as soft targets). "gaussian": the decoder gives the
    mean m, p(x|z) proportional to exp(-||m - x||^2), that is N(m, I/2): the slides' L2 loss.
    """

    def __init__(self, in_dim=784, hidden=400, latent=20, likelihood="bernoulli"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        self.in_dim, self.hidden, self.latent, self.likelihood = in_dim, hidden, latent, likelihood
        self.fc1 = nn.Linear(in_dim, hidden)
        self.mu_head = nn.Linear(hidden, latent)
        self.logvar_head = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, in_dim)

    def extra_repr(self):
        return f"in_dim={self.in_dim}, hidden={self.hidden}, latent={self.latent}, likelihood={self.likelihood!r}"

    def encode(self, x):
        """x: (..., D) -> (mu, logvar), each (..., L)."""
        h = relu(self.fc1(x))
        return self.mu_head(h), self.logvar_head(h)

    def decode(self, z):
        """z: (..., L) -> decoder output (..., D): logits (bernoulli) or means (gaussian)."""
        return self.fc4(relu(self.fc3(z)))

    def forward(self, x):
        """One sample z ~ q(z|x) per example; returns (decoder output, mu, logvar)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, randn_like(mu))
        return self.decode(z), mu, logvar

    def reconstruction_error(self, x, out):
        """-ln p(x|z) per example, up to a constant: summed BCE (bernoulli) or ||out - x||^2
        (gaussian). x and out: (..., D), broadcast together. Returns (...)."""
        shape = np.broadcast_shapes(x.shape, out.shape)
        x, out = broadcast_to(x, shape), broadcast_to(out, shape)
        if self.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(-1)
        return ((out - x) ** 2).sum(-1)

    def log_likelihood(self, x, out):
        """ln p(x|z) per example, normalized: the gaussian N(out, I/2) adds -D/2 ln(pi)."""
        constant = self.in_dim / 2 * math.log(math.pi) if self.likelihood == "gaussian" else 0.0
        return -self.reconstruction_error(x, out) - constant

    def loss(self, x):
        """The slides' objective on a batch x: (N, D), as (reconstruction, kl), each a scalar
        averaged over the N examples: reconstruction = E_q[-ln p(x|z)] with one sample (up to
        the gaussian's constant), kl = KL(q(z|x) || p(z)). Minimize their sum (= -ELBO)."""
        out, mu, logvar = self(x)
        return self.reconstruction_error(x, out).mean(), gaussian_kl(mu, logvar).mean()

    def elbo(self, x, n_samples=1):
        """ELBO per example (N,): mean over n_samples of ln p(x|z), minus the closed-form KL.
        Raises ValueError unless n_samples is a positive int."""
        check_int("elbo", "n_samples", n_samples)
        mu, logvar = self.encode(x)
        eps = randn(n_samples, *mu.shape, dtype=mu.dtype, device=mu.device)
        z = reparameterize(mu, logvar, eps)                                # (S, N, L)
        return self.log_likelihood(x, self.decode(z)).mean(0) - gaussian_kl(mu, logvar)

    def iwae_nll(self, x, k=100):
        """Importance-weighted estimate of -ln p(x) per example (N,), with k samples of q:

            -ln p(x) ~ -ln (1/k) sum_k w_k,   ln w_k = ln p(x|z_k) + ln p(z_k) - ln q(z_k|x)

        taken by logsumexp over the k log weights (no weight is ever exponentiated alone).
        An upper bound on -ln p(x) in expectation, tighter as k grows; k = 1 gives -ELBO.
        """
        check_int("iwae_nll", "k", k)
        mu, logvar = self.encode(x)
        eps = randn(k, *mu.shape, dtype=mu.dtype, device=mu.device)
        z = reparameterize(mu, logvar, eps)                                # (k, N, L)
        half_log_2pi = self.latent / 2 * math.log(2 * math.pi)
        log_pz = -0.5 * (z ** 2).sum(-1) - half_log_2pi                    # N(z; 0, I)
        log_qz = -0.5 * (eps ** 2 + logvar).sum(-1) - half_log_2pi         # N(z; mu, sigma^2), (z - mu)/sigma = eps
        log_w = self.log_likelihood(x, self.decode(z)) + log_pz - log_qz   # (k, N)
        return math.log(k) - logsumexp(log_w, dim=0)

    def mean(self, out):
        """The mean of p(x|z) from a decoder output: sigmoid of the logits, or the output itself."""
        return sigmoid(out) if self.likelihood == "bernoulli" else out

    @no_grad()
    def sample(self, n):
        """n new digits: z ~ N(0, I), decoded to the mean of p(x|z). Returns (n, D)."""
        weight = self.fc3.weight
        return self.mean(self.decode(randn(n, self.latent, dtype=weight.dtype, device=weight.device)))

    @no_grad()
    def interpolate(self, x_a, x_b, steps):
        """Walk the latent line from mu(x_a) to mu(x_b) in ``steps`` even steps and decode.
        x_a, x_b: (..., D) -> (..., steps, D), ends included."""
        check_int("interpolate", "steps", steps, lowest=2)
        mu_a, mu_b = unsqueeze(self.encode(x_a)[0], -2), unsqueeze(self.encode(x_b)[0], -2)  # (..., 1, L)
        t = minigen.tensor(np.linspace(0, 1, steps)[:, None], dtype=mu_a.dtype, device=mu_a.device)  # (steps, 1)
        return self.mean(self.decode(mu_a * (1 - t) + mu_b * t))

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Module.load_state_dict; a checkpoint saved before the heads' rename (fc21, fc22) loads too."""
        if isinstance(state_dict, collections.abc.Mapping):
            state_dict = {_renamed_head(name): value for name, value in state_dict.items()}
        return super().load_state_dict(state_dict, strict, assign)


def _renamed_head(name):
    """'fc21.weight' -> 'mu_head.weight', 'fc22.bias' -> 'logvar_head.bias' (PyTorch's example's
    names, which VAE used before); other names unchanged."""
    module, dot, rest = name.partition(".")
    return {"fc21": "mu_head", "fc22": "logvar_head"}.get(module, module) + dot + rest


# ------------------------------------------------------------------ training
def as_pixels(images):
    """uint8 digits (N, 28, 28) -> float32 (N, 784) intensities in [0, 1]."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


@no_grad()
def evaluate_loss(model, pixels, batch_size=500, device="cpu"):
    """(reconstruction, kl) per example on pixels (N, D), one sample each, averaged."""
    totals = np.zeros(2)
    for start in range(0, len(pixels), batch_size):
        x = minigen.tensor(pixels[start:start + batch_size], device=device)
        reconstruction, kl = model.loss(x)
        totals += len(x) * np.array([reconstruction.item(), kl.item()])
    return tuple(totals / len(pixels))


def train_vae(train_pixels, test_pixels=None, epochs=50, latent=20, likelihood="bernoulli", batch_size=128, lr=1e-3,
              seed=0, device="cpu", show_progress=True):
    """Fit a VAE(784, 400, latent) with Adam on reconstruction + KL, averaged per digit.

    train_pixels, test_pixels: float32 (N, 784) in [0, 1] (see as_pixels).
    Returns (model, history): history holds per-epoch lists "train_reconstruction",
    "train_kl" (batch means, averaged over the epoch) and, with test_pixels,
    "test_reconstruction", "test_kl", "test_loss" (one sample per digit).
    """
    minigen.manual_seed(seed)
    model = VAE(train_pixels.shape[1], 400, latent, likelihood).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(train_pixels, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    history = {name: [] for name in ("train_reconstruction", "train_kl", "test_reconstruction", "test_kl",
                                     "test_loss")}
    for epoch in range(epochs):
        reconstruction, kl = train_epoch(model, loader, opt, model.loss, f"epoch {epoch + 1}/{epochs}", show_progress)
        history["train_reconstruction"].append(reconstruction)
        history["train_kl"].append(kl)
        if test_pixels is not None:
            model.eval()
            reconstruction, kl = evaluate_loss(model, test_pixels, device=device)
            history["test_reconstruction"].append(reconstruction)
            history["test_kl"].append(kl)
            history["test_loss"].append(reconstruction + kl)
    return model, history
