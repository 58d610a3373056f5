"""Paths through a latent space: the codes to decode when exploring what a generator learned.

``lerp`` and ``slerp`` interpolate between two codes, ``latent_walk`` steps along a
direction; decode them with GANTrainer.decode (or a VAE's decoder). They are plain NumPy,
for any model with Gaussian codes z ~ N(0, I).
"""
import numpy as np

from minigen.checks import check_int


def lerp(z0, z1, steps):
    """z_t = (1 - t) z0 + t z1 for t evenly in [0, 1]: (steps, D), both ends included.
    Raises ValueError for steps < 2."""
    check_int("lerp", "steps", steps, lowest=2)
    t = np.linspace(0, 1, steps)[:, None]
    return (1 - t) * np.asarray(z0) + t * np.asarray(z1)


def slerp(z0, z1, steps):
    """Spherical interpolation (Shoemake, 1985), (steps, D), both ends included:

        z_t = sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1,   cos(omega) = z0.z1 / (|z0| |z1|)

    It follows the great circle, where a Gaussian's mass lies in high dimensions, while
    lerp cuts through the low-norm middle. Falls back to lerp for codes on one line through
    the origin: (anti)parallel codes, or a zero code, which has no angle. Raises ValueError
    for steps < 2.
    """
    check_int("slerp", "steps", steps, lowest=2)
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    norms = np.linalg.norm(z0) * np.linalg.norm(z1)
    omega = np.arccos(np.clip(z0 @ z1 / norms, -1, 1)) if norms > 0 else 0.0
    if np.sin(omega) < 1e-6:
        return lerp(z0, z1, steps)
    t = np.linspace(0, 1, steps)[:, None]
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def latent_walk(z, direction, span=3.0, steps=9):
    """z + s u for s evenly in [-span, span], u the unit vector along direction: (steps, D),
    both ends included. Raises ValueError for steps < 2 and a zero direction."""
    check_int("latent_walk", "steps", steps, lowest=2)
    u = np.asarray(direction, dtype=np.float64)
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError("latent_walk: direction must not be the zero vector")
    return np.asarray(z) + np.linspace(-span, span, steps)[:, None] * (u / norm)
