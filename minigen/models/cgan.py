"""The class-conditional DCGAN: G(z, y) draws the digit y asked for, D(x, y) judges the pair.

Conditioning (Mirza & Osindero, 2014) gives both nets the label y as an extra input, and
the game becomes

    min_G max_D  E_{(x, y) ~ data} log sigma(D(x, y)) + E_{z, y ~ p(y)} log(1 - sigma(D(G(z, y), y))).

- ``ConditionalGenerator``: the DCGAN generator fed [z, one_hot(y)], the label concatenated
  to the noise (Mirza & Osindero).
- ``ProjectionDiscriminator``: the DCGAN discriminator's features phi(x), scored by the
  projection of Miyato & Koyama (2018):

      D(x, y) = psi(phi(x)) + e_y . phi(x)        (psi: a linear layer, e_y: y's embedding)

  The label enters as an inner product with the features, the form the optimal D takes
  when p(y | x) is log-linear in phi(x); docs/gan.md says why it was chosen over label maps
  concatenated to the image.

Both nets take (input, labels) with labels an integer Tensor (N,) in [0, n_classes); the
trainer (minigen.models.gan.GANTrainer, its ``labels=`` in fit) passes them on.
``evaluate_conditional_samples`` scores what G draws with the judge.
"""
import numpy as np

from minigen import nn
from minigen.models import judge
from minigen.models.gan import Discriminator, evaluate_samples, init_dcgan_weights_
from minigen.nn.functional import one_hot
from minigen.nn.init import normal_
from minigen.ops import cat

N_CLASSES = 10


def check_labels(where, labels, n, n_classes):
    """labels must be an integer Tensor (n,) with values in [0, n_classes): a ValueError naming
    what is wrong otherwise."""
    dtype, shape = getattr(labels, "dtype", None), tuple(getattr(labels, "shape", ()))
    if dtype is None or dtype.kind not in "iu" or shape != (n,):
        raise ValueError(f"{where}: labels must be an integer Tensor of shape ({n},), one class per input; got "
                         f"{type(labels).__name__} of dtype {dtype} and shape {shape}")
    low, high = (int(labels.min().item()), int(labels.max().item())) if n else (0, 0)
    if low < 0 or high >= n_classes:
        raise ValueError(f"{where}: labels must be in [0, {n_classes}), got values from {low} to {high}")


class ConditionalGenerator(nn.Module):
    """(z (N, latent_dim), labels (N,)) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, latent_dim=64, n_classes=N_CLASSES):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.layers = nn.Sequential(
            nn.Linear(latent_dim + n_classes, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),       # 64 x 14 x 14
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())                              # 1 x 28 x 28
        init_dcgan_weights_(self)

    def forward(self, z, labels):
        check_labels("ConditionalGenerator", labels, z.shape[0], self.n_classes)
        y = one_hot(labels, self.n_classes).to(z.dtype)
        return self.layers(cat([z, y], dim=1))  # G(z, y): the one-hot label concatenated to the noise


class ProjectionDiscriminator(nn.Module):
    """(x (N, 1, 28, 28), labels (N,)) -> logits D(x, y) (N, 1); batch_norm as in Discriminator."""

    sigmoid = False  # it returns logits, as GANTrainer needs

    def __init__(self, n_classes=N_CLASSES, batch_norm=True):
        super().__init__()
        self.n_classes, self.batch_norm = n_classes, batch_norm
        self.phi = Discriminator(batch_norm=batch_norm).layers[:-1]  # the DCGAN's features, (N, 128*7*7)
        self.psi = nn.Linear(128 * 7 * 7, 1)
        self.embed = nn.Embedding(n_classes, 128 * 7 * 7)
        init_dcgan_weights_(self)
        normal_(self.embed.weight, 0.0, 0.02)  # as DCGAN's linear weights, not Embedding's N(0, 1)

    def forward(self, x, labels):
        check_labels("ProjectionDiscriminator", labels, x.shape[0], self.n_classes)
        features = self.phi(x)
        return self.psi(features) + (self.embed(labels) * features).sum(dim=1, keepdim=True)  # psi(phi) + e_y.phi


def evaluate_conditional_samples(samples, labels, real, model):
    """The judge on digits generated for labels (N,) in [0, N_CLASSES): evaluate_samples'
    classifier score, Frechet distance to the real digits and label histogram, with the judge's
    accuracy on the label asked for, overall and per label (nan for a label not asked for)."""
    labels = np.asarray(labels)
    hits = judge.predict_logits(model, samples).argmax(axis=1) == labels  # does the judge read y in G(z, y)?
    per_label = [round(float(hits[labels == d].mean()), 3) if np.any(labels == d) else float("nan")
                 for d in range(N_CLASSES)]
    return {"judge_accuracy": float(hits.mean()), "judge_accuracy_per_label": per_label,
            **evaluate_samples(samples, real, model)}
