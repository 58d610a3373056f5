"""Autoencoders: f = dec o enc, trained so that f(x_i) is close to x_i.

    min over enc, dec of  sum_i || dec(enc(x_i)) - x_i ||^2          (slide: the autoencoder objective)

The code z = enc(x) is narrower than x (the bottleneck), so f cannot copy x: it must
keep what matters about digits. Three uses, each below:
- a denoising autoencoder sees a corrupted x~_i and must return the clean x_i:
      min sum_i || dec(enc(x~_i)) - x_i ||^2
- the reconstruction error || f(x) - x ||^2 is an outlier score: small for inputs like
  the training data, large for others (anomaly_score);
- the rank-based AUROC and the ROC curve say how well a score separates two sets.

Both nets end in logits: the decoder's last layer has no sigmoid, ``reconstruct`` applies
it. The MSE loss compares sigmoid(logits) with x; the BCE loss takes the logits directly
(binary_cross_entropy_with_logits, stable for any logit).
"""
import math

import numpy as np

import minigen
from minigen import nn, optim
from minigen.data import DataLoader
from minigen.models.classifier import as_input
from minigen.nn import functional as F
from minigen.models.training import train_epoch

LOSSES = ("mse", "bce")


class Autoencoder(nn.Module):
    """What both autoencoders share. Subclasses define ``encoder`` (x -> z) and ``decoder``
    (z -> logits of x's shape). x: (N, 1, 28, 28) with values in [0, 1]; z: (N, bottleneck)."""

    def encode(self, x):
        """z = enc(x): (N, 1, 28, 28) -> (N, bottleneck)."""
        return self.encoder(x)

    def decode(self, z):
        """Logits of the reconstruction: (N, bottleneck) -> (N, 1, 28, 28); sigmoid gives pixels."""
        return self.decoder(z)

    def forward(self, x):
        """Logits of f(x) = dec(enc(x)), of x's shape."""
        return self.decode(self.encode(x))

    def reconstruct(self, x):
        """f(x) as pixels in [0, 1]: sigmoid of the decoder's logits."""
        return F.sigmoid(self(x))

    @minigen.no_grad()
    def anomaly_score(self, images, batch_size=500):
        """Reconstruction error per example, || f(x) - x ||^2 / D (the per-pixel MSE), in eval mode.

        images: uint8 (N, 28, 28) or floats in [0, 1] of shape (N, 28, 28) / (N, 1, 28, 28).
        Returns a NumPy array (N,): larger means less like the training data.
        """
        self.eval()
        x = as_input(images)
        device = next(iter(self.parameters())).device
        scores = []
        for i in range(0, len(x), batch_size):
            batch = minigen.tensor(x[i:i + batch_size], device=device)
            error = (self.reconstruct(batch) - batch) ** 2
            scores.append(error.numpy().reshape(len(batch), -1).mean(axis=1))
        return np.concatenate(scores)


class DenseAutoencoder(Autoencoder):
    """Fully connected: in_dim -> hidden... -> bottleneck -> ...hidden -> in_dim, ReLU between.

    Takes x: (N, 1, 28, 28) (any (N, ...) with in_dim values per example) and returns
    logits of shape (N, 1, 28, 28); image_shape says how decode unflattens.
    """

    def __init__(self, in_dim=784, hidden=(256,), bottleneck=32, image_shape=(1, 28, 28)):
        super().__init__()
        if math.prod(image_shape) != in_dim:
            raise ValueError(f"DenseAutoencoder: image_shape {tuple(image_shape)} does not hold in_dim={in_dim} "
                             f"values")
        widths = [in_dim, *hidden, bottleneck]
        down, up = [nn.Flatten()], []
        for a, b in zip(widths[:-1], widths[1:]):
            down += [nn.Linear(a, b), nn.ReLU()]
        for a, b in zip(widths[:0:-1], widths[-2::-1]):
            up += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*down[:-1])  # the code z is linear: no ReLU at the bottleneck
        self.decoder = nn.Sequential(*up[:-1], nn.Unflatten(1, image_shape))  # logits: no ReLU at the end


class ConvAutoencoder(Autoencoder):
    """Convolutional: two stride-2 convolutions take 28x28 to 7x7, a Linear layer to the
    bottleneck; back with a Linear layer and two stride-2 transposed convolutions.

        (1, 28, 28) -> (16, 14, 14) -> (32, 7, 7) -> z (bottleneck) -> (32, 7, 7) -> (16, 14, 14) -> (1, 28, 28)
    """

    def __init__(self, bottleneck=32, channels=(16, 32)):
        super().__init__()
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),                      # c1 x 14 x 14
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),                     # c2 x 7 x 7
            nn.Flatten(), nn.Linear(c2 * 7 * 7, bottleneck))
        self.decoder = nn.Sequential(
            nn.Linear(bottleneck, c2 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # c1 x 14 x 14
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1))              # 1 x 28 x 28 logits


# ------------------------------------------------------------------ corruption for denoising
def gaussian_noise(std):
    """x -> clip(x + std eps, 0, 1), eps ~ N(0, I): a corruption for ``train_autoencoder(noise=...)``.
    The returned function takes (x, rng): a float array and a numpy Generator."""
    def corrupt(x, rng):
        return np.clip(x + std * rng.standard_normal(x.shape, dtype=np.float32), 0, 1)
    return corrupt


def salt_and_pepper(p):
    """Each pixel, with probability p, becomes 0 or 1 (even odds); the others stay."""
    def corrupt(x, rng):
        hit = rng.random(x.shape) < p
        return np.where(hit, (rng.random(x.shape) < 0.5).astype(np.float32), x)
    return corrupt


# ------------------------------------------------------------------ training
def reconstruction_loss(logits, x, loss="mse"):
    """The mean over pixels and examples of (sigmoid(logits) - x)^2 ("mse", the slide's
    sum_i ||f(x_i) - x_i||^2 divided by N D, which has the same minimizer) or of the
    binary cross-entropy of x under Bernoulli(sigmoid(logits)) ("bce")."""
    if loss == "mse":
        return F.mse_loss(F.sigmoid(logits), x)
    return F.binary_cross_entropy_with_logits(logits, x)


def train_autoencoder(model, images, epochs=10, batch_size=64, lr=1e-3, loss="mse", noise=None, seed=0,
                      device="cpu", show_progress=True):
    """Fit ``model`` (an Autoencoder, moved to ``device``) with Adam; returns the per-epoch mean losses.

    images: uint8 (N, 28, 28) or floats in [0, 1] of shape (N, 28, 28) / (N, 1, 28, 28).
    loss: "mse" or "bce" (see reconstruction_loss). noise: None, or a function (x, rng) -> x~
    (gaussian_noise, salt_and_pepper) that corrupts each training batch: the model sees x~
    and is scored against the clean x (a denoising autoencoder). Only training batches are
    corrupted; encode, reconstruct and anomaly_score never call it.
    seed: the order of the batches and the noise. Raises ValueError for an unknown loss.
    """
    if loss not in LOSSES:
        raise ValueError(f"train_autoencoder: loss must be 'mse' or 'bce', got {loss!r}")
    if noise is not None and not callable(noise):
        raise TypeError(f"train_autoencoder: noise must be None or a function (x, rng) -> x~, got {noise!r}")
    model.to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    x = as_input(images)

    def corrupted_and_clean(batch):
        return (batch if noise is None else noise(batch, rng)), batch

    loader = DataLoader(x, batch_size=batch_size, shuffle=True, seed=seed, device=device,
                        transform=corrupted_and_clean)
    def loss_terms(inputs, targets):
        return (reconstruction_loss(model(inputs), targets, loss),)

    return [train_epoch(model, loader, opt, loss_terms, f"epoch {epoch + 1}/{epochs}", show_progress)[0]
            for epoch in range(epochs)]


# ------------------------------------------------------------------ scoring
def psnr(clean, noisy):
    """Peak signal-to-noise ratio in dB for images in [0, 1]: 10 log10(1 / MSE), the MSE over
    all pixels of all images. Identical images give inf."""
    mse = float(np.mean((np.asarray(clean, dtype=np.float64) - np.asarray(noisy, dtype=np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def _scores_and_labels(scores, labels):
    scores, labels = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels must have the same length, got {scores.shape} and {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (negative) or 1 (positive)")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("the ROC needs at least one positive and one negative example")
    return scores, labels


def auroc(scores, labels):
    """Area under the ROC curve, rank-based: the Mann-Whitney U over n_pos n_neg,

        AUROC = (1 / (n_pos n_neg)) sum over positives p, negatives n of [s_p > s_n] + 1/2 [s_p = s_n],

    the probability that a random positive scores above a random negative, ties counted half.
    scores: (N,), larger means "more positive"; labels: (N,) of 0 and 1.
    """
    scores, labels = _scores_and_labels(scores, labels)
    negatives = np.sort(scores[~labels])
    below = np.searchsorted(negatives, scores[labels], side="left")        # negatives with s_n < s_p
    not_above = np.searchsorted(negatives, scores[labels], side="right")   # negatives with s_n <= s_p
    u = np.sum(below + 0.5 * (not_above - below))
    return float(u / (labels.sum() * (~labels).sum()))


def roc_curve(scores, labels):
    """The ROC curve: (false positive rates, true positive rates), one point per distinct
    threshold from +inf down, starting at (0, 0) and ending at (1, 1). Calling "positive"
    every score >= t gives one point; tied scores move together (a diagonal step), so the
    trapezoidal area under the curve equals ``auroc``."""
    scores, labels = _scores_and_labels(scores, labels)
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # where the threshold moves on
    true_pos = np.cumsum(labels)[last_of_each]
    false_pos = last_of_each + 1 - true_pos
    return np.r_[0, false_pos / (~labels).sum()], np.r_[0, true_pos / labels.sum()]
