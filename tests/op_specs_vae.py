"""Entries of the op-spec table (tests/op_specs.py) for the VAE's two hand-differentiated
Functions, reparameterize and gaussian_kl (minigen/models/vae.py).

Imported at the end of op_specs.py, so tests/test_ops.py runs forward-vs-NumPy, gradcheck
and gradgradcheck on them like on every other op.
"""
import numpy as np

from minigen.models.vae import gaussian_kl, reparameterize
from op_specs import Case, _spec
from strategies import arrays, broadcast_pair, reals, shapes


@_spec("reparameterize")
def _reparameterize(draw):
    """mu, logvar and eps of shapes that broadcast together (eps may add a sample dim)."""
    s_mu, s_logvar, s_eps = draw(broadcast_pair(num_shapes=3)).input_shapes
    mu, logvar, eps = draw(arrays(s_mu)), draw(arrays(s_logvar, reals(-2, 2))), draw(arrays(s_eps))
    return Case([mu, logvar, eps], reparameterize, lambda mu, logvar, eps: mu + np.exp(logvar / 2) * eps)


@_spec("gaussian_kl")
def _gaussian_kl(draw):
    shape = draw(shapes(min_dims=1))
    mu, logvar = draw(arrays(shape)), draw(arrays(shape, reals(-2, 2)))
    return Case([mu, logvar], gaussian_kl,
                lambda mu, logvar: -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=-1))
