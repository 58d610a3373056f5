"""The deep convolutional GAN (Radford, Metz & Chintala, 2016) on 28x28 digits.

Read it in this order:

1. ``Generator`` and ``Discriminator``: the DCGAN nets of benchmarks/bench_layers.py,
   started from ``init_dcgan_weights_``. The discriminator returns logits D(x) in R;
   the slides' probability is sigma(D(x)).
2. The losses of the slides, written with log-sigmoids that never overflow:

       log sigma(x)     = -softplus(-x)
       log(1 - sigma(x)) = -softplus(x)

   "minimax" (the game as stated), "non_saturating" (the generator maximizes
   log D(G(z)) instead) and "wgan-gp" (Gulrajani et al., 2017, with ``gradient_penalty``).
3. ``GANTrainer``: k_d discriminator steps, then k_g generator steps, per round
   (``train_round``); Adam for both; ``fit`` loops over rounds, with an end-of-epoch hook
   for evaluation (``evaluate_samples``: the judge's scores). Checkpoints that resume to
   the very numbers of an uninterrupted run: minigen/models/gan_checkpoint.py. A class-
   conditional GAN (minigen/models/cgan.py) trains through it too: ``fit(..., labels=y)``.
4. Using G: ``samples``, ``generate`` and ``decode`` (``translate`` for pix2pix), in
   minigen/models/gan_sampling.py; the codes to decode, ``lerp``, ``slerp`` and
   ``latent_walk``, in minigen/models/latent.py.

Shapes: images x (N, 1, 28, 28) in [-1, 1], noise z (N, latent_dim), logits (N, 1).
"""
import numpy as np

import minigen
from minigen import nn, optim
from minigen.checks import check_int, is_int
from minigen.creation import rand, randn
from minigen.models import judge
from minigen.models.gan_checkpoint import ResumableRun
from minigen.models.gan_sampling import N_FIXED_NOISE, GeneratorSampling, checked_labels
from minigen.models.gan_sampling import to_gan_range, to_unit_range  # noqa: F401  (the demos import them from here)
from minigen.nn.init import normal_, zeros_
from minigen.ops import sigmoid, softplus
from minigen.progress import progress

LOSSES = ("minimax", "non_saturating", "wgan-gp")


# ------------------------------------------------------------------ the nets
def init_dcgan_weights_(module):
    """DCGAN's initialization, in place: conv and linear weights ~ N(0, 0.02^2) and biases 0;
    BatchNorm weights ~ N(1, 0.02^2) and biases 0 (PyTorch's DCGAN example). Returns module."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            normal_(m.weight, 1.0, 0.02)
            zeros_(m.bias)
    return module


class Generator(nn.Module):
    """z: (N, latent_dim) -> images (N, 1, 28, 28) in [-1, 1] (a tanh)."""

    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.layers = nn.Sequential(
            nn.Linear(latent_dim, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),       # 64 x 14 x 14
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())                              # 1 x 28 x 28
        init_dcgan_weights_(self)

    def forward(self, z):
        return self.layers(z)


class Discriminator(nn.Module):
    """x: (N, 1, 28, 28) -> logits (N, 1), or probabilities with ``sigmoid=True``.

    batch_norm=False drops the BatchNorm: a WGAN-GP critic needs it so, as BatchNorm mixes
    the samples of a batch and the penalty is on each sample's own gradient.
    """

    def __init__(self, sigmoid=False, batch_norm=True):
        super().__init__()
        self.sigmoid, self.batch_norm = sigmoid, batch_norm
        self.layers = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),                               # 64 x 14 x 14
            nn.Conv2d(64, 128, 4, 2, 1), *([nn.BatchNorm2d(128)] if batch_norm else []), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1), *([nn.Sigmoid()] if sigmoid else []))
        init_dcgan_weights_(self)

    def forward(self, x):
        return self.layers(x)


# ------------------------------------------------------------------ the losses
def _check_kind(kind):
    if kind not in LOSSES:
        raise ValueError(f"kind must be one of {', '.join(LOSSES)}; got {kind!r}")


def _check_int(where, name, value, lowest=1):
    """checks.check_int, in this module's words: "a positive integer" for lowest 1."""
    check_int(where, name, value, lowest, expected="a positive integer" if lowest == 1 else None)


def discriminator_loss(real_logits, fake_logits, kind):
    """The discriminator's loss to minimize, a scalar Tensor.

    real_logits: D(x), fake_logits: D(G(z)), both (N, 1). For "minimax" and "non_saturating"
    D maximizes mean log sigma(D(x)) + mean log(1 - sigma(D(G(z)))), so the loss is its
    negative; for "wgan-gp" the critic minimizes mean D(G(z)) - mean D(x) (add the
    gradient penalty). Raises ValueError for an unknown kind.
    """
    _check_kind(kind)
    if kind == "wgan-gp":
        return fake_logits.mean() - real_logits.mean()
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()  # -log sigma(r) - log(1 - sigma(f))


def generator_loss(fake_logits, kind):
    """The generator's loss to minimize, a scalar Tensor; fake_logits: D(G(z)), (N, 1).

    "minimax": mean log(1 - sigma(D(G(z)))) (flat where D rejects the fakes: the slide's
    saturation); "non_saturating": -mean log sigma(D(G(z))); "wgan-gp": -mean D(G(z)).
    Raises ValueError for an unknown kind.
    """
    _check_kind(kind)
    if kind == "minimax":
        return -softplus(fake_logits).mean()
    if kind == "non_saturating":
        return softplus(-fake_logits).mean()
    return -fake_logits.mean()


def conditional_discriminator_loss(discriminator, real, fake, labels, kind):
    """The class-conditional discriminator's loss: D scores each real image with its own label
    and each fake with the label it was generated for. Returns (loss, real_logits, fake_logits).

    real, fake: (N, ...) batches; labels: (N,) integer Tensor, y_i the label of real_i and of
    fake_i (for pix2pix: the input images x_i, real_i their targets and fake_i = G(x_i));
    kind as in discriminator_loss. For "minimax" and "non_saturating" the loss is

        -mean_i log sigma(D(x_i, y_i)) - mean_i log(1 - sigma(D(G(z_i, y_i), y_i)))
    """
    real_logits, fake_logits = discriminator(real, labels), discriminator(fake, labels)  # D(x, y), D(G(z, y), y)
    return discriminator_loss(real_logits, fake_logits, kind), real_logits, fake_logits


def pix2pix_generator_loss(discriminator, fake, target, inputs, kind="non_saturating", lam=100.0):
    """pix2pix's generator loss L_cGAN + lam L1 (Isola et al., 2017, eq. 4): fool D on the pair
    (G(x), x), and stay near the target y pixel by pixel. Returns (loss, l_gan, l1).

    fake: G(x), target: y, inputs: x, all (N, C, H, W); discriminator(images, inputs) -> logits
    (one per patch for a PatchGAN); kind as in generator_loss.
    """
    l_gan = generator_loss(discriminator(fake, inputs), kind)  # L_cGAN: -mean log sigma(D(G(x), x)) (non-saturating)
    l1 = (target - fake).abs().mean()                           # L_L1 = E ||y - G(x)||_1, per pixel
    return l_gan + lam * l1, l_gan, l1


def gradient_penalty(critic, real, fake, lam=10.0, eps=None):
    """WGAN-GP's lam * mean_i (||grad_xhat critic(xhat_i)||_2 - 1)^2, a scalar Tensor.

    real, fake: (N, ...) batches, taken as constants. xhat = eps real + (1 - eps) fake, a
    point on the line between them, with eps: (N, 1, ..., 1) ~ U(0, 1) per sample unless
    given. The gradient is recorded (create_graph=True), so the penalty can be
    differentiated with respect to the critic's weights.
    """
    if eps is None:
        eps = rand(real.shape[0], *[1] * (real.ndim - 1), dtype=real.dtype, device=real.device)
    xhat = (eps * real + (1 - eps) * fake).detach().requires_grad_()
    g, = minigen.grad(critic(xhat).sum(), xhat, create_graph=True)
    norm = (g * g).reshape(g.shape[0], -1).sum(dim=1).sqrt()  # ||g_i||_2 over (C, H, W)
    return lam * ((norm - 1) ** 2).mean()


# ------------------------------------------------------------------ training
WGAN_N_CRITIC = 5  # WGAN-GP's critic steps per generator step (Gulrajani et al., 2017, Algorithm 1)


class GANTrainer(ResumableRun, GeneratorSampling):
    """Alternating updates: each round, k_d discriminator steps (one real batch each)
    then k_g generator steps, with Adam(lr, betas) for both. A conditional GAN's nets take
    (input, labels): fit's labels= gives each real batch its labels (see train_round). An
    image-to-image GAN (pix2pix: a generator with latent_dim None, G(x) without z) gets
    fit's inputs=, the image x paired with each target y; D judges (y, x) and (G(x), x), and
    l1_lambda > 0 adds pix2pix's lam * L1 to G's loss (pix2pix_generator_loss).

    k_d: 1 by default, WGAN_N_CRITIC (5) with loss "wgan-gp"; n_critic: WGAN's name for
    k_d, accepted in its place. seed: seeds minigen's stream, which draws the fixed noise,
    every z and every eps of the penalty; fit also orders the batches of epoch e by
    ``np.random.default_rng(seed + e)``.

    After training: ``history_`` (one entry per round: the mean over the round's steps of
    loss_d, loss_g, d_real = mean sigma(D(x)) and d_fake = mean sigma(D(G(z)))),
    ``evaluations_`` (what fit's on_epoch_end returned, one dict per epoch), ``step_``
    (rounds done), ``batch_`` (real batches used), ``batch_size_`` and ``n_images_`` (fit's:
    batch_ counts batches of that size from that many images), ``cut_short_`` (True when the
    last evaluation was made as fit stopped inside an epoch; the next fit that trains drops it
    and evaluates that epoch at its end, as an uninterrupted run does). Checkpoints and
    resuming: minigen.models.gan_checkpoint.
    """

    def __init__(self, generator, discriminator, loss="non_saturating", k_d=None, k_g=1, lr=2e-4, betas=(0.5, 0.999),
                 n_critic=None, gp_lambda=10.0, l1_lambda=0.0, seed=0, device="cpu"):
        _check_kind(loss)
        if n_critic is not None and k_d is not None:
            raise ValueError("GANTrainer: give k_d or n_critic (its WGAN name), not both")
        k_d = n_critic if k_d is None else k_d
        k_d = (WGAN_N_CRITIC if loss == "wgan-gp" else 1) if k_d is None else k_d
        for name, value in (("n_critic" if n_critic is not None else "k_d", k_d), ("k_g", k_g)):
            _check_int("GANTrainer", name, value)
        if getattr(discriminator, "sigmoid", False):
            raise ValueError("GANTrainer: the discriminator must return logits (Discriminator(sigmoid=False))")
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.loss, self.k_d, self.k_g, self.lr, self.betas = loss, k_d, k_g, lr, betas
        self.gp_lambda, self.l1_lambda, self.seed, self.device = gp_lambda, l1_lambda, seed, device
        self.optimizer_g = optim.Adam(generator.parameters(), lr=lr, betas=betas)
        self.optimizer_d = optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
        minigen.manual_seed(seed)
        self.fixed_noise = None if generator.latent_dim is None else randn(N_FIXED_NOISE, generator.latent_dim,
                                                                             device=device)
        self.history_ = {"loss_d": [], "loss_g": [], "d_real": [], "d_fake": []}
        self.evaluations_, self.cut_short_ = [], False
        self.step_, self.batch_ = 0, 0
        self.batch_size_, self.n_images_ = None, None

    def _noise(self, n):
        """G's noise inputs for n fakes: (z,), or () for pix2pix, whose noise is G's dropout."""
        latent_dim = self.generator.latent_dim
        return () if latent_dim is None else (randn(n, latent_dim, device=self.device),)

    def _discriminator_step(self, real, *condition):
        """One Adam step of D on a real batch and as many fakes. A conditional GAN passes its
        condition (labels...) after the batch: both nets get it after their input."""
        fake = self.generator(*self._noise(len(real)), *condition).detach()  # D's step must not move G

        def critic(x):
            return self.discriminator(x, *condition)

        if condition:
            loss, real_logits, fake_logits = conditional_discriminator_loss(self.discriminator, real, fake,
                                                                           *condition, self.loss)
        else:
            real_logits, fake_logits = critic(real), critic(fake)
            loss = discriminator_loss(real_logits, fake_logits, self.loss)
        if self.loss == "wgan-gp":
            loss = loss + gradient_penalty(critic, real, fake, self.gp_lambda)
        self.optimizer_d.zero_grad()
        loss.backward()
        self.optimizer_d.step()
        return loss.item(), sigmoid(real_logits).mean().item(), sigmoid(fake_logits).mean().item()

    def _generator_step(self, real, *condition):
        """One Adam step of G on as many fresh fakes as real (condition: as in _discriminator_step);
        with l1_lambda, pix2pix's loss, real the targets of the fakes."""
        fake = self.generator(*self._noise(len(real)), *condition)
        if self.l1_lambda:
            loss = pix2pix_generator_loss(self.discriminator, fake, real, *condition, self.loss, self.l1_lambda)[0]
        else:
            loss = generator_loss(self.discriminator(fake, *condition), self.loss)
        self.optimizer_g.zero_grad()
        loss.backward()  # reaches D's weights too; optimizer_d.zero_grad clears them before D's next step
        self.optimizer_g.step()
        return loss.item()

    def train_round(self, real_batch_iter):
        """One round: k_d discriminator steps, each on the next batch of real_batch_iter
        (Tensors (N, 1, 28, 28) on the trainer's device, or tuples (images, labels) for a
        conditional GAN, (targets, inputs) for pix2pix), then k_g generator steps with the last
        batch's size and condition: the fakes' labels are those of the real batch, drawn from
        the data's p(y); pix2pix's fakes are G(x) of the batch's inputs. Appends to history_
        and returns (loss_d, loss_g) of the round."""
        self.generator.train()
        self.discriminator.train()
        batches = [_as_tuple(next(real_batch_iter)) for _ in range(self.k_d)]
        d = [self._discriminator_step(*batch) for batch in batches]
        real, *condition = batches[-1]
        loss_g = float(np.mean([self._generator_step(real, *condition) for _ in range(self.k_g)]))
        loss_d, d_real, d_fake = (float(np.mean(column)) for column in zip(*d))
        for name, value in (("loss_d", loss_d), ("loss_g", loss_g), ("d_real", d_real), ("d_fake", d_fake)):
            self.history_[name].append(value)
        self.step_ += 1
        return loss_d, loss_g

    def fit(self, images, epochs, batch_size, checkpoint_path=None, checkpoint_every=None, resume=False,
            on_epoch_end=None, show_progress=True, labels=None, inputs=None):
        """Train for epochs * (N // batch_size) // k_d rounds in all; returns self.

        images: float array (N, 1, 28, 28) in [-1, 1]. checkpoint_path: where to save the
        checkpoint, every checkpoint_every rounds and at the end. resume=True first loads
        the checkpoint at checkpoint_path and continues from its round (load_checkpoint's
        errors; CheckpointError also when it was written with another batch_size or number
        of images). on_epoch_end(trainer, epoch): called when the real batches of an epoch
        are used up, and once more when fit stops inside its last epoch; a dict it returns
        is stored in evaluations_ with its epoch, and checkpointed. It must not draw from
        minigen's random stream, or a resumed run would differ. Raises ValueError for bad
        arguments, a run too short for one round, and another batch_size or number of images
        than this trainer has trained with.

        labels: for a conditional GAN, the class of each image (N,) ints; each real batch comes
        with its labels, which D gets with the real images and G (and then D) with the fakes.
        inputs: for pix2pix, the input x of each target image y (N, C, H, W) floats, passed on
        as labels are. Raises ValueError when the generator takes another condition.
        """
        images = np.asarray(images, dtype=np.float32)
        condition = self._condition(images, labels, inputs)
        rounds = self._check_fit(images, epochs, batch_size, checkpoint_path, checkpoint_every, resume)
        start = self._start_run(images, batch_size, rounds, checkpoint_path if resume else None)
        per_epoch, rounds_left = len(images) // batch_size, range(start, rounds)
        batches = self._batches(images, batch_size, condition)
        with progress(total=len(rounds_left), desc="GAN rounds", disable=None if show_progress else True) as bar:
            for _ in rounds_left:
                epoch_before = self.batch_ // per_epoch
                loss_d, loss_g = self.train_round(batches)
                bar.set_postfix(loss_d=loss_d, loss_g=loss_g)
                if on_epoch_end is not None and self.batch_ // per_epoch > epoch_before:
                    self._end_epoch(on_epoch_end, self.batch_ // per_epoch)
                if checkpoint_every is not None and self.step_ % checkpoint_every == 0:
                    self.save_checkpoint(checkpoint_path)
                bar.update()
        if on_epoch_end is not None and self.step_ > start and self.batch_ < epochs * per_epoch:
            self._end_epoch(on_epoch_end, epochs, cut_short=True)  # the rounds ended inside the last epoch
        if checkpoint_path is not None:
            self.save_checkpoint(checkpoint_path)
        return self

    def _condition(self, images, labels, inputs):
        """fit's labels or inputs, checked against what the generator takes: the array whose rows
        come with each real batch, or None for an unconditional GAN."""
        takes = ("labels" if getattr(self.generator, "n_classes", None) is not None  # cgan.ConditionalGenerator's
                 else "inputs" if self.generator.latent_dim is None else None)       # pix2pix.UNet's: G(x), no z
        given = [name for name, value in (("labels", labels), ("inputs", inputs)) if value is not None]
        if given != [takes][:takes is not None]:
            wanted = {"labels": "a conditional generator needs labels=, one class per image",
                      "inputs": "an image-to-image generator needs inputs=, one input image per target",
                      None: "an unconditional one takes neither labels= nor inputs="}[takes]
            raise ValueError(f"fit: {wanted} (generator {type(self.generator).__name__}, "
                             f"{' and '.join(given) or 'neither'} given)")
        if takes == "inputs":
            return _checked_inputs(inputs, images.shape)
        return None if takes is None else checked_labels(labels, len(images))

    def _check_fit(self, images, epochs, batch_size, checkpoint_path, checkpoint_every, resume):
        """fit's arguments, checked; returns the number of rounds of the whole run."""
        if images.ndim < 2 or not is_int(batch_size) or not 1 <= batch_size <= len(images):
            raise ValueError(f"fit: batch_size must be in [1, N] for images of shape {images.shape}, "
                             f"got {batch_size!r}")
        _check_int("fit", "epochs", epochs)
        if checkpoint_every is not None:
            _check_int("fit", "checkpoint_every", checkpoint_every)
        if (resume or checkpoint_every is not None) and checkpoint_path is None:
            raise ValueError("fit: resume and checkpoint_every need a checkpoint_path")
        per_epoch = len(images) // batch_size
        if epochs * per_epoch < self.k_d:
            raise ValueError(f"fit: {epochs} epoch(s) of {per_epoch} batches ({len(images)} images // batch_size "
                             f"{batch_size}) make no round of {self.k_d} discriminator steps; give more "
                             "epochs or a smaller batch_size")
        return epochs * per_epoch // self.k_d


def _as_tuple(batch):
    """A real batch as (images, *condition): a bare Tensor is an unconditional batch."""
    return batch if isinstance(batch, tuple) else (batch,)


def _checked_inputs(inputs, shape):
    """pix2pix's inputs as float32, one per target image: (N, ...) with N = shape[0]."""
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim != len(shape) or len(inputs) != shape[0]:
        raise ValueError(f"fit: inputs must hold one image per target image, shape ({shape[0]}, C, H, W) for "
                         f"targets of shape {shape}; got shape {inputs.shape}")
    return inputs


# ------------------------------------------------------------------ evaluation
def evaluate_samples(samples, real, model):
    """The judge on generated digits, both (N, 28, 28) in [0, 1]: classifier score, Frechet
    distance of the judge's logits to the real digits, and the predicted-label histogram."""
    logits = judge.predict_logits(model, samples)  # the judge runs once on each set
    return {"classifier_score": judge.classifier_score_of_logits(logits),
            "frechet_distance": judge.frechet_distance_of_logits(logits, judge.predict_logits(model, real)),
            "label_histogram": np.bincount(logits.argmax(axis=1), minlength=10).tolist()}
