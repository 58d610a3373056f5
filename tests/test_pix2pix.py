import numpy as np
import pytest

import minigen as mg
from minigen import nn
from minigen.models import gan
from minigen.models.gan import GANTrainer, Discriminator, Generator, generator_loss, pix2pix_generator_loss
from minigen.models.pix2pix import (HALF, PatchDiscriminator, UNet, completion_scores, edge_strength, fit_l1,
                                    receptive_field, decided_share, upper_half)
from minigen.models.gan_sampling import translate
from minigen.serialization import CheckpointError


def digits(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)


def nets(channels=8):
    mg.manual_seed(0)
    return UNet(channels=channels), PatchDiscriminator(channels=channels)


def pix2pix_trainer(**options):
    return GANTrainer(*nets(), **{"l1_lambda": 100.0, **options})


# ------------------------------------------------------------------ the task and the nets
def test_upper_half_blanks_the_lower_rows_and_leaves_its_argument_alone():
    images = digits(3)
    inputs = upper_half(images)
    np.testing.assert_array_equal(inputs[..., :HALF, :], images[..., :HALF, :])
    assert np.all(inputs[..., HALF:, :] == -1) and not np.all(images[..., HALF:, :] == -1)


def test_the_nets_shapes_and_the_unets_range():
    G, D = nets()
    x = mg.tensor(upper_half(digits(3)))
    y = G(x)
    assert G.latent_dim is None and y.shape == (3, 1, 28, 28) and np.abs(y.numpy()).max() <= 1
    assert D(y, x).shape == (3, 1, 7, 7)


def test_the_skips_carry_the_input_past_a_dead_bottleneck():
    G, _ = nets()
    for p in G.down3.parameters():  # the bottleneck now outputs a constant: only the skips see x
        p.data[...] = 0
    G.eval()
    G.p = 0.0  # no dropout noise, so that the outputs compare
    a, b = G(mg.tensor(digits(1, 1))).numpy(), G(mg.tensor(digits(1, 2))).numpy()
    assert np.abs(a - b).max() > 1e-3


def test_dropout_stays_on_in_eval_mode_as_the_papers_noise():
    G, _ = nets()
    G.eval()
    x = mg.tensor(digits(2))
    assert not np.array_equal(G(x).numpy(), G(x).numpy())  # equal without dropout: eval mode is deterministic


def test_the_discriminator_judges_the_pair():
    _, D = nets()
    D.eval()
    y, x1, x2 = (mg.tensor(digits(1, s)) for s in (1, 2, 3))
    assert np.abs(D(y, x1).numpy() - D(y, x2).numpy()).max() > 1e-4


@pytest.mark.parametrize("layers, expected", [
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)), 5),
    (nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3)), 7),
    (nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2)), 5),
    (PatchDiscriminator().layers, 18)])
def test_receptive_field_of_known_stacks(layers, expected):
    assert receptive_field(layers) == expected


def test_each_patch_logit_sees_an_18_by_18_square_of_the_pair():
    _, D = nets()
    D.eval()  # BatchNorm with running statistics: a sample's logits depend on its own pixels only
    y = mg.tensor(digits(1)).requires_grad_()
    logits = D(y, mg.tensor(digits(1, 1)))
    g, = mg.grad(logits[0, 0, 3, 3], y)  # the middle patch, away from the padded border
    rows, cols = np.nonzero(np.abs(g.numpy()[0, 0]) > 0)
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == receptive_field(D.layers) == 18


# ------------------------------------------------------------------ the loss
def test_pix2pix_generator_loss_is_the_gan_term_plus_lambda_l1():
    _, D = nets()
    D.eval()
    fake, target, x = (mg.tensor(digits(2, s)) for s in (1, 2, 3))
    fake.requires_grad_()
    loss, l_gan, l1 = pix2pix_generator_loss(D, fake, target, x, "non_saturating", lam=100.0)
    logits = D(fake, x).numpy()
    assert l_gan.item() == pytest.approx(np.log1p(np.exp(-logits)).mean(), rel=1e-5)  # -mean ln sigma(D(G(x), x))
    assert l1.item() == pytest.approx(np.abs(target.numpy() - fake.numpy()).mean(), rel=1e-6)
    assert loss.item() == pytest.approx(l_gan.item() + 100 * l1.item(), rel=1e-6)
    g, = mg.grad(loss, fake)
    g_gan, = mg.grad(generator_loss(D(fake, x), "non_saturating"), fake)
    l1_part = 100 * np.sign(fake.numpy() - target.numpy()) / fake.numpy().size  # d lam mean|y - G| / dG
    np.testing.assert_allclose(g.numpy(), g_gan.numpy() + l1_part, rtol=1e-4, atol=1e-7)


# ------------------------------------------------------------------ training through GANTrainer
def test_fit_passes_each_batchs_inputs_to_both_nets_and_g_sees_no_noise(monkeypatch):
    trainer, seen = pix2pix_trainer(), []
    for net in (trainer.generator, trainer.discriminator):
        forward = net.forward
        monkeypatch.setattr(net, "forward", lambda *args, forward=forward, net=net: (
            seen.append((type(net).__name__, args)), forward(*args))[1])
    targets = digits(8)
    inputs = upper_half(targets)
    trainer.fit(targets, epochs=1, batch_size=4, inputs=inputs, show_progress=False)
    chosen = np.random.default_rng(0).permutation(8)[:4]  # epoch 0's first batch (seed 0)
    generator_args = [args for name, args in seen if name == "UNet"]
    assert all(len(args) == 1 for args in generator_args)  # G(x): no z
    np.testing.assert_array_equal(generator_args[0][0].numpy(), inputs[chosen])
    real_y, real_x = next(args for name, args in seen if name == "PatchDiscriminator")
    np.testing.assert_array_equal(real_y.numpy(), targets[chosen])
    np.testing.assert_array_equal(real_x.numpy(), inputs[chosen])


def test_g_steps_loss_is_pix2pixs_with_the_batchs_targets_and_inputs(monkeypatch):
    calls = []

    def spy(discriminator, fake, target, inputs, kind, lam):
        calls.append((target.numpy(), inputs.numpy(), kind, lam))
        result = pix2pix_generator_loss(discriminator, fake, target, inputs, kind, lam)
        calls[-1] += (result[0].item(),)
        return result

    monkeypatch.setattr(gan, "pix2pix_generator_loss", spy)
    targets = digits(8)
    inputs = upper_half(targets)
    trainer = pix2pix_trainer().fit(targets, epochs=1, batch_size=4, inputs=inputs, show_progress=False)
    chosen = np.random.default_rng(0).permutation(8)[:4]  # epoch 0's first batch (seed 0)
    assert len(calls) == 2 and calls[0][2:4] == ("non_saturating", 100.0)
    np.testing.assert_array_equal(calls[0][0], targets[chosen])
    np.testing.assert_array_equal(calls[0][1], inputs[chosen])
    assert trainer.history_["loss_g"] == [pytest.approx(call[4]) for call in calls]


def test_fit_refuses_a_missing_or_misshapen_input():
    with pytest.raises(ValueError, match="an image-to-image generator needs inputs=.*UNet, neither given"):
        pix2pix_trainer().fit(digits(8), epochs=1, batch_size=4, show_progress=False)
    with pytest.raises(ValueError, match="UNet, labels given"):
        pix2pix_trainer().fit(digits(8), epochs=1, batch_size=4, labels=np.zeros(8, int), show_progress=False)
    with pytest.raises(ValueError, match=r"inputs must hold one image per target image.*got shape \(7, 1, 28, 28\)"):
        pix2pix_trainer().fit(digits(8), epochs=1, batch_size=4, inputs=digits(7), show_progress=False)
    with pytest.raises(ValueError, match="takes neither labels= nor inputs= .generator Generator, inputs given"):
        GANTrainer(Generator(), Discriminator()).fit(digits(8), epochs=1, batch_size=4, inputs=digits(8),
                                                     show_progress=False)


def test_resumed_pix2pix_run_equals_the_uninterrupted_run(tmp_path):
    targets = digits(12)  # batch_size 4: 3 rounds an epoch
    inputs = upper_half(targets)
    whole = pix2pix_trainer().fit(targets, epochs=2, batch_size=4, inputs=inputs, show_progress=False)
    path = tmp_path / "pix2pix.npz"
    pix2pix_trainer().fit(targets, epochs=1, batch_size=4, inputs=inputs, checkpoint_path=path, show_progress=False)
    mg.manual_seed(123)  # a fresh process: other weights and another random stream before loading
    fresh = GANTrainer(UNet(channels=8), PatchDiscriminator(channels=8), l1_lambda=100.0)
    resumed = fresh.fit(targets, epochs=2, batch_size=4, inputs=inputs, checkpoint_path=path, resume=True,
                        show_progress=False)
    assert resumed.step_ == whole.step_ == 6 and resumed.history_ == whole.history_
    for a, b in zip(resumed.generator.state_dict().values(), whole.generator.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(CheckpointError, match="l1_lambda 100.0, this run has l1_lambda 10.0"):
        GANTrainer(*nets(), l1_lambda=10.0).load_checkpoint(path)


def test_translate_is_seeded_and_leaves_the_training_stream_alone():
    trainer = pix2pix_trainer()
    x = upper_half(digits(3))
    state = mg.get_rng_state()
    a = trainer.translate(x, seed=1)
    assert mg.get_rng_state() == state
    assert a.shape == (3, 28, 28) and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, trainer.translate(x, seed=1))
    assert not np.array_equal(a, trainer.translate(x, seed=2))  # another seed, other dropout masks
    assert trainer.generator.training  # back in training mode


def test_noise_methods_and_translate_refuse_the_other_kind_of_generator():
    with pytest.raises(ValueError, match=r"generate: UNet translates images, it takes no noise z; use translate"):
        pix2pix_trainer().generate(4)
    with pytest.raises(ValueError, match="samples: UNet translates images"):
        pix2pix_trainer().samples(4)
    with pytest.raises(ValueError, match="translate: Generator draws from noise z"):
        GANTrainer(Generator(), Discriminator()).translate(digits(2))


def test_a_pix2pix_round_on_every_device(device):
    mg.manual_seed(0)
    trainer = GANTrainer(UNet(channels=4), PatchDiscriminator(channels=4), l1_lambda=100.0, device=device)
    targets = digits(4)
    trainer.fit(targets, epochs=1, batch_size=4, inputs=upper_half(targets), show_progress=False)
    assert np.isfinite(trainer.history_["loss_g"][0]) and trainer.translate(upper_half(targets)).shape == (4, 28, 28)
    baseline = UNet(channels=4)
    assert np.isfinite(fit_l1(baseline, upper_half(targets), targets, 1, batch_size=4, device=device,
                              show_progress=False)[0])
    assert translate(baseline, upper_half(targets), device=device).shape == (4, 28, 28)


# ------------------------------------------------------------------ the L1 baseline
def test_fit_l1_lowers_the_l1_error_and_repeats_with_its_seed():
    targets = digits(8)
    losses = fit_l1(nets()[0], upper_half(targets), targets, epochs=5, batch_size=4, show_progress=False)
    assert losses[-1] < losses[0]
    assert fit_l1(nets()[0], upper_half(targets), targets, epochs=5, batch_size=4, show_progress=False) == losses


# ------------------------------------------------------------------ scoring
def test_decided_share_counts_decided_pixels_of_the_lower_half():
    ink_or_paper = np.zeros((2, 28, 28))
    ink_or_paper[:, HALF:, ::2] = 1
    assert decided_share(ink_or_paper) == 1.0
    grey = np.full((2, 28, 28), 0.5)
    grey[:, :HALF] = 0  # the upper half does not count
    assert decided_share(grey) == 0.0
    mixed = np.zeros((1, 28, 28))
    mixed[0, HALF:HALF + 7] = 0.5
    assert decided_share(mixed) == 0.5


def test_edge_strength_of_a_step_and_of_a_flat_image():
    assert edge_strength(np.full((1, 28, 28), 0.7)) == 0.0
    step = np.zeros((1, 28, 28))
    step[0, :, 10:] = 1  # one vertical edge: |dx| = 1 in one of the 27 columns of differences, each row
    assert edge_strength(step) == pytest.approx(1 / 27)


def test_completion_scores_of_the_targets_themselves():
    class Oracle(nn.Module):  # a judge that reads the label written in pixel (0, 0)
        def forward(self, x):
            return mg.tensor(np.eye(10, dtype=np.float32)[np.rint(x.numpy().reshape(len(x), -1)[:, 0] * 9).astype(int)])

    targets = np.zeros((3, 28, 28), np.float32)
    targets[:, 0, 0] = np.array([2, 5, 7]) / 9
    scores = completion_scores(targets, targets, np.array([2, 5, 0]), Oracle())
    assert scores["l1_lower_half"] == 0 and scores["decided_share"] == 1.0
    assert scores["judge_accuracy"] == pytest.approx(2 / 3)
