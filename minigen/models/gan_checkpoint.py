"""Checkpoints and exact resume for GANTrainer: the bookkeeping kept out of the adversarial loop.

minigen.models.gan teaches the game (GANTrainer.train_round); this module makes a long run
survive a stop. A resumed run gives the very numbers of an uninterrupted one, because:

- a checkpoint holds everything the run's future depends on: both nets, both optimizers,
  minigen's random stream, the counters (rounds ``step_``, real batches ``batch_``), the
  history and the evaluations (save_checkpoint);
- the order of the real batches depends on the batch counter alone (_batches);
- an evaluation made as a fit stopped inside an epoch is dropped when training goes on, and
  that epoch evaluated at its end, where the uninterrupted run evaluates it (``cut_short_``).

GANTrainer inherits these methods; they read its nets, optimizers and settings.
"""
import os

import numpy as np

import minigen
from minigen.creation import tensor
from minigen.serialization import CheckpointError

CHECKPOINT_KEYS = ("settings", "generator", "discriminator", "optimizer_g", "optimizer_d", "rng", "step", "batch",
                   "history", "evaluations", "cut_short")


class ResumableRun:
    """The resume bookkeeping of GANTrainer (a base class, not used on its own)."""

    # -------------------------------------------------------------- the run's data and epochs
    def _batches(self, images, batch_size, condition=None):
        """Real batches from batch_ on, without end: batch b is slot b % B of epoch b // B
        (B = N // batch_size, the last partial batch dropped), in the order of
        default_rng(seed + epoch). The order depends on b alone, so a resumed run sees
        the very batches the uninterrupted one saw. With a condition (N, ...), labels or
        pix2pix's inputs, each batch is a tuple (images, their condition)."""
        per_epoch = len(images) // batch_size
        while True:
            epoch, slot = divmod(self.batch_, per_epoch)
            order = np.random.default_rng(self.seed + epoch).permutation(len(images))
            self.batch_ += 1
            chosen = order[slot * batch_size:(slot + 1) * batch_size]
            real = tensor(images[chosen], device=self.device)
            yield real if condition is None else (real, tensor(condition[chosen], device=self.device))

    def _start_run(self, images, batch_size, rounds, resume_from=None):
        """Before fit's loop: restore the checkpoint at resume_from (if given), check that this run
        continues the trainer's (same batch_size and number of images), reopen an epoch that the
        last fit cut short when there are rounds left; returns the round to start from."""
        run = {"batch_size": batch_size, "n_images": len(images)}
        if resume_from is not None:
            self._restore(self._read_checkpoint(resume_from, {**self._settings(), **run}))
        if self.batch_size_ not in (None, batch_size) or self.n_images_ not in (None, len(images)):
            raise ValueError(f"fit: this trainer has trained with batch_size {self.batch_size_} on {self.n_images_} "
                             f"images, and batch_ counts those batches; got batch_size {batch_size} on "
                             f"{len(images)} images")
        self.batch_size_, self.n_images_ = batch_size, len(images)
        if rounds > self.step_:
            self._reopen_cut_short_epoch()
        return self.step_

    def _end_epoch(self, on_epoch_end, epoch, cut_short=False):
        result = on_epoch_end(self, epoch)
        if result is not None:
            self.evaluations_.append({"epoch": epoch, **result})
        self.cut_short_ = cut_short and result is not None

    def _reopen_cut_short_epoch(self):
        """Drop the evaluation made as a fit stopped inside an epoch: training goes on, and
        that epoch is evaluated at its end, where an uninterrupted run evaluates it."""
        if self.cut_short_:
            self.evaluations_.pop()
            self.cut_short_ = False

    # -------------------------------------------------------------- checkpoints
    def _settings(self):
        """What defines the run besides its data and progress: a checkpoint resumes only a
        trainer with the same (None: not fixed yet, matches anything). k_d is saved under
        its earlier name, d_steps, so that checkpoints keep their format."""
        return {"loss": self.loss, "d_steps": self.k_d, "k_g": self.k_g, "lr": self.lr,
                "betas": list(self.betas), "gp_lambda": self.gp_lambda, "l1_lambda": self.l1_lambda,
                "seed": self.seed,
                "latent_dim": self.generator.latent_dim, "batch_size": self.batch_size_, "n_images": self.n_images_}

    def save_checkpoint(self, path):
        """Save the run's settings, both nets, both optimizers, minigen's random stream, the
        counters, the history and the evaluations to one .npz file (minigen.save, atomic).
        The stream's state holds 128-bit Python ints; save keeps ints in its JSON header,
        which stores them exactly."""
        minigen.save({"settings": self._settings(), "generator": self.generator.state_dict(),
                      "discriminator": self.discriminator.state_dict(),
                      "optimizer_g": self.optimizer_g.state_dict(), "optimizer_d": self.optimizer_d.state_dict(),
                      "rng": minigen.get_rng_state(), "step": self.step_, "batch": self.batch_,
                      "history": self.history_, "evaluations": self.evaluations_, "cut_short": self.cut_short_}, path)

    def load_checkpoint(self, path):
        """Restore what save_checkpoint wrote; returns self.

        Raises FileNotFoundError, and CheckpointError (a ValueError) before changing anything
        when the file is unreadable or not a GANTrainer checkpoint, was written with other
        settings (loss, d_steps, k_g, lr, betas, gp_lambda, l1_lambda, seed, latent_dim, batch_size,
        n_images: it names the setting and both values), or holds nets of another shape.
        """
        return self._restore(self._read_checkpoint(path, self._settings()))

    def _read_checkpoint(self, path, settings):
        """The checkpoint at path, checked against settings and this trainer's nets."""
        path = os.fspath(path)
        state = minigen.load(path, map_location=self.device)
        missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
        if missing:
            raise CheckpointError(f"load_checkpoint: {path!r} is not a GANTrainer checkpoint: it lacks "
                                  f"{', '.join(map(repr, missing))}")
        for name, value in settings.items():
            saved = state["settings"].get(name)
            if value is not None and saved is not None and value != saved:
                raise CheckpointError(f"load_checkpoint: {path!r} was written with {name} {saved!r}, this run has "
                                      f"{name} {value!r}; resume with the same {name}, or start afresh")
        for name in ("generator", "discriminator"):
            misfit = _misfit(getattr(self, name).state_dict(), state[name])
            if misfit:
                raise CheckpointError(f"load_checkpoint: {path!r} holds a {name} of another shape than this "
                                      f"trainer's: {misfit}")
        return state

    def _restore(self, state):
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        minigen.set_rng_state(state["rng"])
        self.step_, self.batch_, self.history_ = state["step"], state["batch"], state["history"]
        self.evaluations_, self.cut_short_ = state["evaluations"], state["cut_short"]
        self.batch_size_, self.n_images_ = state["settings"]["batch_size"], state["settings"]["n_images"]
        return self


def _misfit(own, saved):
    """Where a saved state_dict differs from a net's own in names or shapes ("" where it fits)."""
    own_shapes = {name: tuple(value.shape) for name, value in own.items()}
    saved_shapes = {name: tuple(value.shape) for name, value in saved.items()}
    differing = [name for name in {**saved_shapes, **own_shapes} if own_shapes.get(name) != saved_shapes.get(name)]
    shown = [f"{name} {saved_shapes.get(name, 'absent')} in the file, {own_shapes.get(name, 'absent')} here"
             for name in differing[:4]]
    return "; ".join(shown + ([f"and {len(differing) - 4} more"] if len(differing) > 4 else []))
