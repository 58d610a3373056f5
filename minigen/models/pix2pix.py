"""pix2pix (Isola, Zhu, Zhou & Efros, CVPR 2017) on digits: complete a digit from its upper half.

Read it in this order:

1. The task: ``upper_half`` keeps rows 0..13 of a digit and blanks the rest. The lower half
   is ambiguous (a 7 or a 9? a 3 or a 5? where does the tail of the 2 end?), so the answer
   must be *drawn*, not averaged: docs/gan.md says why L1 alone blurs it.
2. ``UNet``: G(x), an encoder-decoder whose decoder layers also get the encoder's layer
   of the same size (skip connections), with dropout as its only noise, kept on at
   sampling time as in the paper (no z: latent_dim is None).
3. ``PatchDiscriminator``: D(y, x) scores each overlapping 18 x 18 patch of the pair
   (y, x), a 7 x 7 map of logits (``receptive_field`` computes the 18).
4. The loss, in minigen.models.gan: G minimizes L_cGAN + lam L1 (``pix2pix_generator_loss``,
   lam = 100), D the conditional discriminator's loss on (y, x) and (G(x), x). Both train
   through ``GANTrainer`` (``fit(targets, inputs=x)``, ``l1_lambda=100``); ``fit_l1``
   trains the same U-Net on the L1 term alone, the baseline.
5. How to score a completion: ``completion_scores`` (L1 error, sharpness as ``edge_strength``, the judge).

Shapes: images (N, 1, 28, 28) in [-1, 1], as the DCGAN's.
"""
import numpy as np

import minigen
from minigen import nn, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.models.gan import init_dcgan_weights_
from minigen.models.training import train_epoch
from minigen.nn.functional import dropout
from minigen.ops import cat

HALF = 14          # rows 0..13 are given, rows 14..27 are to be drawn
L1_LAMBDA = 100.0  # the paper's lam in L_cGAN + lam L1
NEAR = 0.1         # a pixel within NEAR of 0 or 1 (in [0, 1]) is decided: ink or paper


# ------------------------------------------------------------------ the task
def upper_half(images):
    """The task's input: digits (N, 1, 28, 28) in [-1, 1] with rows 14..27 blanked to -1 (paper)."""
    inputs = np.array(images, dtype=np.float32)
    inputs[..., HALF:, :] = -1
    return inputs


# ------------------------------------------------------------------ the nets
def _down(c_in, c_out, kernel, norm=True):
    """Encoder block: a stride-2 convolution halves the size; LeakyReLU(0.2) as the paper's encoder."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, 2, 1), *([nn.BatchNorm2d(c_out)] if norm else []),
                         nn.LeakyReLU(0.2))


def _up(c_in, c_out, kernel):
    """Decoder block: a stride-2 transposed convolution doubles the size; BatchNorm, ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, kernel, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    """x (N, 1, 28, 28) -> G(x) (N, 1, 28, 28) in [-1, 1] (a tanh).

    28 -> 14 -> 7 -> 4 down, 4 -> 7 -> 14 -> 28 up; each decoder layer's output is
    concatenated with the encoder's output of its size (the skips carry the given half
    straight across). Dropout(p) after the innermost decoder layer is G's noise: it stays on
    in eval mode, as the paper's ("dropout, applied ... at both training and test time"),
    which puts it in the inner decoder layers only. (Dropout after the 14 x 14 layer too
    was tried: both nets' strokes came out grainier and it did not help pix2pix.)
    """

    latent_dim = None  # no z: GANTrainer passes x alone (fit's inputs=, translate)

    def __init__(self, channels=32, p=0.5):
        super().__init__()
        c, self.p = channels, p
        self.down1 = _down(1, c, 4, norm=False)  # c x 14 x 14 (no norm on the first layer, as the paper)
        self.down2 = _down(c, 2 * c, 4)           # 2c x 7 x 7
        self.down3 = _down(2 * c, 4 * c, 3)       # 4c x 4 x 4, the bottleneck
        self.up3 = _up(4 * c, 2 * c, 3)           # 2c x 7 x 7
        self.up2 = _up(4 * c, c, 4)               # c x 14 x 14, from [up3, down2]
        self.up1 = nn.Sequential(nn.ConvTranspose2d(2 * c, 1, 4, 2, 1), nn.Tanh())  # 1 x 28 x 28, from [up2, down1]
        init_dcgan_weights_(self)

    def forward(self, x):
        e1 = self.down1(x)
        e2 = self.down2(e1)
        d3 = dropout(self.up3(self.down3(e2)), self.p, training=True)  # the noise: on at sampling time too
        d2 = self.up2(cat([d3, e2], dim=1))
        return self.up1(cat([d2, e1], dim=1))  # the skips: [decoder, encoder] along the channels


class PatchDiscriminator(nn.Module):
    """(y (N, 1, 28, 28), x (N, 1, 28, 28)) -> logits (N, 1, 7, 7): one per 18 x 18 patch of the pair.

    The PatchGAN: a fully convolutional net whose every output sees only its receptive field,
    so D judges local texture (is this stroke sharp and digit-like?) and leaves the global
    layout to the L1 term. The pair enters as two channels [x, y], so D judges whether y fits x.
    """

    sigmoid = False  # it returns logits, as GANTrainer needs

    def __init__(self, channels=32):  # as the U-Net's (64 channels cost 4x the multiplications)
        super().__init__()
        c = channels
        self.layers = nn.Sequential(
            nn.Conv2d(2, c, 4, 2, 1), nn.LeakyReLU(0.2),                               # c x 14 x 14
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),    # 2c x 7 x 7
            nn.Conv2d(2 * c, 1, 3, 1, 1))                                              # 1 x 7 x 7: a logit per patch
        init_dcgan_weights_(self)

    def forward(self, y, x):
        return self.layers(cat([x, y], dim=1))


def receptive_field(layers):
    """The side of the input square one output of a stack of convolutions sees: r = 1, then for
    each layer from the output back, r <- (r - 1) s + d (k - 1) + 1 (stride s, kernel k,
    dilation d). 18 for PatchDiscriminator's layers."""
    r = 1
    for layer in reversed([m for m in layers.modules() if isinstance(m, nn.Conv2d)]):
        (k, _), (s, _), (d, _) = layer.kernel_size, layer.stride, layer.dilation
        r = (r - 1) * s + d * (k - 1) + 1
    return r


# ------------------------------------------------------------------ the L1-only baseline
def fit_l1(generator, inputs, targets, epochs, batch_size=64, lr=2e-4, betas=(0.5, 0.999), seed=0, device="cpu",
           show_progress=True):
    """The baseline: the same G trained to minimize mean |y - G(x)| alone, with pix2pix's Adam.
    inputs, targets: (N, 1, 28, 28) in [-1, 1]. Returns the loss per epoch."""
    generator.to(device)
    minigen.manual_seed(seed)
    loader = DataLoader(np.asarray(inputs, np.float32), np.asarray(targets, np.float32), batch_size=batch_size,
                        shuffle=True, drop_last=True, seed=seed, device=device)
    optimizer = optim.Adam(generator.parameters(), lr=lr, betas=betas)

    def l1(x, y):
        return ((y - generator(x)).abs().mean(),)  # L_L1 = E ||y - G(x)||_1, per pixel

    return [train_epoch(generator, loader, optimizer, l1, desc=f"L1 epoch {e + 1}/{epochs}",
                        show_progress=show_progress)[0] for e in range(epochs)]


# ------------------------------------------------------------------ scoring completions
def decided_share(images):
    """The share of pixels within NEAR of 0 or 1 in the lower halves of images (N, 28, 28) in
    [0, 1]: decided pixels, ink or paper. A blur is grey and lowers it, but a blank half (all
    paper) scores 1: sharpness is measured by edge_strength."""
    lower = np.asarray(images)[:, HALF:, :]
    return float(np.mean((lower <= NEAR) | (lower >= 1 - NEAR)))


def edge_strength(images):
    """The sharpness measure: the mean gradient magnitude sqrt(dx^2 + dy^2) over the lower halves
    (forward differences). Sharp strokes have steep edges, a blur shallow ones, a blank half none."""
    lower = np.asarray(images, dtype=np.float64)[:, HALF:, :]
    dx, dy = np.diff(lower, axis=2)[:, :-1, :], np.diff(lower, axis=1)[:, :, :-1]
    return float(np.sqrt(dx ** 2 + dy ** 2).mean())


def completion_scores(completed, targets, labels, model):
    """A completion's scores against the real digits, all (N, 28, 28) in [0, 1]: the per-pixel L1
    error of the lower halves, their edge strength and decided share, and the judge's accuracy on
    the completed digits (does it read the digit the upper half came from?)."""
    completed, targets = np.asarray(completed, np.float32), np.asarray(targets, np.float32)
    predicted = judge.predict_logits(model, completed).argmax(axis=1)
    return {"l1_lower_half": float(np.abs(completed - targets)[:, HALF:, :].mean()),
            "decided_share": decided_share(completed), "edge_strength": edge_strength(completed),
            "judge_accuracy": float(np.mean(predicted == np.asarray(labels)))}
