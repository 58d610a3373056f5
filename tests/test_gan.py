import numpy as np
import pytest

import minigen as mg
from minigen import nn
from minigen.models.gan import (Discriminator, GANTrainer, Generator, discriminator_loss, generator_loss,
                                gradient_penalty)


def digits(n=12, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)


def softplus(x):
    return np.logaddexp(0, x)


def test_generator_maps_noise_to_images_in_minus_one_one():
    mg.manual_seed(0)
    x = Generator()(mg.randn(3, 64))
    assert x.shape == (3, 1, 28, 28)
    assert np.all(np.abs(x.numpy()) <= 1)


def test_discriminator_returns_one_logit_per_image():
    mg.manual_seed(0)
    assert Discriminator()(mg.randn(3, 1, 28, 28)).shape == (3, 1)
    assert Discriminator(batch_norm=False)(mg.randn(3, 1, 28, 28)).shape == (3, 1)


def test_weights_start_from_dcgan_normals():
    mg.manual_seed(0)
    for model in (Generator(), Discriminator()):
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                w = m.weight.numpy()
                assert abs(w.mean()) < 0.004 and abs(w.std() - 0.02) < 0.2 * 0.02
            elif isinstance(m, nn.BatchNorm2d):
                assert abs(m.weight.numpy().std() - 0.02) < 0.2 * 0.02 and np.all(m.bias.numpy() == 0)


LOGITS_REAL = np.array([[-800.0], [-2.0], [0.5], [900.0]])
LOGITS_FAKE = np.array([[-700.0], [1.5], [-0.3], [600.0]])


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_discriminator_loss_is_minus_the_mean_log_likelihood(kind):
    loss = discriminator_loss(mg.tensor(LOGITS_REAL), mg.tensor(LOGITS_FAKE), kind).item()
    # -log sigma(r) = softplus(-r), -log(1 - sigma(f)) = softplus(f)
    assert np.isfinite(loss)
    assert loss == pytest.approx(softplus(-LOGITS_REAL).mean() + softplus(LOGITS_FAKE).mean(), rel=1e-12)


def test_minimax_generator_loss_is_the_mean_log_of_one_minus_d():
    loss = generator_loss(mg.tensor(LOGITS_FAKE), "minimax").item()
    assert np.isfinite(loss) and loss == pytest.approx(-softplus(LOGITS_FAKE).mean(), rel=1e-12)
    small = np.array([[-2.0], [0.5]])
    assert generator_loss(mg.tensor(small), "minimax").item() == pytest.approx(
        np.mean(np.log(1 - 1 / (1 + np.exp(-small)))), rel=1e-12)


def test_non_saturating_generator_loss_is_minus_the_mean_log_d():
    loss = generator_loss(mg.tensor(LOGITS_FAKE), "non_saturating").item()
    assert np.isfinite(loss) and loss == pytest.approx(softplus(-LOGITS_FAKE).mean(), rel=1e-12)


def test_wgan_losses_are_differences_of_mean_scores():
    real, fake = mg.tensor(LOGITS_REAL), mg.tensor(LOGITS_FAKE)
    assert discriminator_loss(real, fake, "wgan-gp").item() == pytest.approx(LOGITS_FAKE.mean() - LOGITS_REAL.mean())
    assert generator_loss(fake, "wgan-gp").item() == pytest.approx(-LOGITS_FAKE.mean())


def test_unknown_loss_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        generator_loss(mg.tensor(LOGITS_FAKE), "hinge")


def test_gradient_penalty_is_lam_times_the_squared_distance_of_the_norm_from_one():
    w = mg.tensor(np.random.default_rng(0).standard_normal((1, 36)))  # a linear critic: its gradient is w
    real, fake = mg.randn(2, 1, 6, 6, dtype=mg.float64), mg.randn(2, 1, 6, 6, dtype=mg.float64)
    penalty = gradient_penalty(lambda x: x.reshape(2, 36) @ w.T, real, fake, lam=3.0)
    assert penalty.item() == pytest.approx(3.0 * (np.linalg.norm(w.numpy()) - 1) ** 2, rel=1e-12)


def test_gradient_penalty_parameter_gradient_passes_gradcheck():
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(18, 1))
    critic.to(dtype=mg.float64)
    real, fake = mg.randn(2, 1, 6, 6, dtype=mg.float64), mg.randn(2, 1, 6, 6, dtype=mg.float64)
    eps = mg.tensor(np.array([0.3, 0.8]).reshape(2, 1, 1, 1))
    # gradcheck perturbs its inputs in place: given the critic's own parameters, it moves the critic
    assert mg.gradcheck(lambda *params: gradient_penalty(critic, real, fake, eps=eps), list(critic.parameters()))


def small_trainer(**options):
    mg.manual_seed(0)
    return GANTrainer(Generator(), Discriminator(batch_norm=options.get("loss") != "wgan-gp"), **options)


def test_a_round_changes_both_nets_and_records_history():
    trainer = small_trainer()
    before = [p.numpy().copy() for p in trainer.generator.parameters()] + \
             [p.numpy().copy() for p in trainer.discriminator.parameters()]
    trainer.train_round(iter([mg.tensor(digits(4))]))
    after = list(trainer.generator.parameters()) + list(trainer.discriminator.parameters())
    assert all(not np.array_equal(b, a.numpy()) for b, a in zip(before, after))
    assert all(len(values) == 1 for values in trainer.history_.values())


@pytest.mark.parametrize("options, d_steps, g_steps", [({"k_d": 2, "k_g": 3}, 2, 3), ({"loss": "wgan-gp"}, 5, 1)])
def test_a_round_takes_k_d_discriminator_then_k_g_generator_steps(options, d_steps, g_steps):
    trainer = small_trainer(**options)
    steps = []

    def counted(name, step):
        def counting_step(*args):
            steps.append(name)
            return step(*args)
        return counting_step

    trainer.optimizer_d.step = counted("d", trainer.optimizer_d.step)
    trainer.optimizer_g.step = counted("g", trainer.optimizer_g.step)
    trainer.train_round(iter([mg.tensor(digits(2, seed)) for seed in range(d_steps)]))
    assert steps == ["d"] * d_steps + ["g"] * g_steps


def test_samples_come_from_the_fixed_noise():
    trainer = small_trainer()
    assert trainer.samples(3).shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(trainer.samples(3), trainer.samples(3))


def test_resumed_run_equals_the_uninterrupted_run(tmp_path):
    images = digits(12)  # batch_size 4: 3 rounds an epoch
    whole = small_trainer().fit(images, epochs=2, batch_size=4, show_progress=False)
    path = tmp_path / "gan.npz"
    small_trainer().fit(images, epochs=1, batch_size=4, checkpoint_path=path, show_progress=False)
    mg.manual_seed(123)  # a fresh process: other weights and another random stream before loading
    resumed = GANTrainer(Generator(), Discriminator()).fit(images, epochs=2, batch_size=4, checkpoint_path=path,
                                                          resume=True, show_progress=False)
    assert resumed.step_ == whole.step_ == 6
    assert resumed.history_ == whole.history_
    for a, b in zip(resumed.generator.state_dict().values(), whole.generator.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(resumed.discriminator.state_dict().values(), whole.discriminator.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
