"""Using a trained generator: GANTrainer's sampling methods, and the images' two ranges.

GANTrainer (minigen/models/gan.py) inherits ``GeneratorSampling``: ``samples`` (the fixed
noise), ``generate`` (fresh noise from a seed), ``decode`` (codes you give, see
minigen/models/latent.py) and, for pix2pix, ``translate`` (input images). All run the
generator in eval mode without recording a graph, and none touches the random stream
that training owns.
"""
import numpy as np

import minigen
from minigen.creation import tensor

N_FIXED_NOISE = 64  # the size of the sample grid drawn from fixed noise


# ------------------------------------------------------------------ images
def to_gan_range(images):
    """uint8 digits (N, 28, 28), 0..255 -> float32 (N, 1, 28, 28) in [-1, 1], the tanh's range."""
    images = np.asarray(images)
    return (images.astype(np.float32) / np.float32(127.5) - 1).reshape(len(images), 1, 28, 28)


def to_unit_range(images):
    """Generator outputs (N, 1, 28, 28) in [-1, 1] -> float32 (N, 28, 28) in [0, 1]."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip((images.reshape(len(images), 28, 28) + 1) / 2, 0, 1)


# ------------------------------------------------------------------ sampling
@minigen.no_grad()
def translate(generator, inputs, seed=0, batch_size=500, device="cpu"):
    """An image-to-image generator's G(x) for input images x (n, C, H, W) in [-1, 1]: float32
    (n, 28, 28) in [0, 1]. Eval mode, so BatchNorm uses its running statistics; pix2pix's
    dropout stays on, its masks drawn from a stream seeded with seed, and minigen's own
    stream, which training owns, is left where it was."""
    inputs, state = np.asarray(inputs, dtype=np.float32), minigen.get_rng_state()
    minigen.manual_seed(seed)
    was_training = generator.training
    generator.eval()
    try:
        images = [generator(tensor(inputs[i:i + batch_size], device=device)).numpy()
                  for i in range(0, len(inputs), batch_size)]
    finally:
        generator.train(was_training)
        minigen.set_rng_state(state)
    return to_unit_range(np.concatenate(images))


class GeneratorSampling:
    """The sampling methods of GANTrainer (a base class, not used on its own): they read its
    generator, device and fixed_noise."""

    @minigen.no_grad()
    def samples(self, n=N_FIXED_NOISE, labels=None):
        """G(z) for the first n of the fixed noise vectors, in eval mode: NumPy (n, 1, 28, 28).
        labels: (n,) ints, the classes asked of a conditional generator."""
        self._check_takes_noise("samples")
        if not 1 <= n <= N_FIXED_NOISE:
            raise ValueError(f"samples: n must be in [1, {N_FIXED_NOISE}], got {n!r}")
        condition = () if labels is None else (tensor(checked_labels(labels, n), device=self.device),)
        self.generator.eval()
        images = self.generator(self.fixed_noise[:n], *condition).numpy()
        self.generator.train()
        return images

    @minigen.no_grad()
    def generate(self, n=None, seed=0, batch_size=500, labels=None):
        """n digits G(z), z ~ N(0, I) drawn from ``np.random.default_rng(seed)`` (not minigen's
        stream, which training owns), in eval mode: float32 (n, 28, 28) in [0, 1]. For a
        conditional generator, ``generate(labels=y)`` draws the digits y (n: len(y))."""
        if n is None and labels is None:
            raise ValueError("generate: give n, the number of digits, or labels, the digits to draw")
        self._check_takes_noise("generate")
        n = len(labels) if n is None else n
        z = np.random.default_rng(seed).standard_normal((n, self.generator.latent_dim)).astype(np.float32)
        return self.decode(z, batch_size, labels)

    @minigen.no_grad()
    def decode(self, z, batch_size=500, labels=None):
        """G(z) (G(z, y) with labels y: (n,) ints) for latent codes z (n, latent_dim), in eval
        mode: float32 (n, 28, 28) in [0, 1]."""
        self._check_takes_noise("decode")
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.generator.latent_dim:
            raise ValueError(f"decode: z must have shape (n, {self.generator.latent_dim}), got {z.shape}")
        inputs = [z] if labels is None else [z, checked_labels(labels, len(z))]  # G's inputs: z (and y)
        self.generator.eval()
        images = [self.generator(*(tensor(x[i:i + batch_size], device=self.device) for x in inputs)).numpy()
                  for i in range(0, len(z), batch_size)]
        self.generator.train()
        return to_unit_range(np.concatenate(images))

    def translate(self, inputs, seed=0, batch_size=500):
        """pix2pix's G(x) for input images x (n, C, H, W) in [-1, 1]: see translate below."""
        if self.generator.latent_dim is not None:
            raise ValueError(f"translate: {type(self.generator).__name__} draws from noise z, it does not translate "
                             "images; use generate or decode")
        return translate(self.generator, inputs, seed, batch_size, self.device)

    def _check_takes_noise(self, where):
        if self.generator.latent_dim is None:
            raise ValueError(f"{where}: {type(self.generator).__name__} translates images, it takes no noise z; "
                             "use translate(inputs)")


def checked_labels(labels, n):
    """labels as an int64 array (n,); ValueError naming the problem otherwise."""
    labels = np.asarray(labels)
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers of shape ({n},), one per image; got dtype {labels.dtype} "
                         f"and shape {labels.shape}")
    return labels.astype(np.int64)
