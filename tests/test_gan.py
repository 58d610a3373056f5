import numpy as np
import pytest

import minigen as mg
from minigen import nn
from minigen.serialization import CheckpointError
from minigen.models.cgan import ConditionalGenerator, ProjectionDiscriminator
from minigen.models.gan import (Discriminator, GANTrainer, Generator, discriminator_loss, evaluate_samples,
                                generator_loss, gradient_penalty, to_gan_range, to_unit_range)
from minigen.models.latent import latent_walk, lerp, slerp


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


@pytest.mark.parametrize("options, d_steps, g_steps", [
    ({"k_d": 2, "k_g": 3}, 2, 3), ({"loss": "wgan-gp"}, 5, 1), ({"loss": "wgan-gp", "k_d": 2}, 2, 1),
    ({"loss": "wgan-gp", "n_critic": 3}, 3, 1), ({"n_critic": 2}, 2, 1)])
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


def test_k_d_and_its_wgan_name_n_critic_are_not_both_given():
    with pytest.raises(ValueError, match="give k_d or n_critic"):
        small_trainer(loss="wgan-gp", k_d=1, n_critic=5)


def test_samples_come_from_the_fixed_noise():
    trainer = small_trainer()
    assert trainer.samples(3).shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(trainer.samples(3), trainer.samples(3))


def conditional_trainer(seed=0):
    mg.manual_seed(seed)
    return GANTrainer(ConditionalGenerator(), ProjectionDiscriminator())


@pytest.mark.parametrize("conditional", [False, True], ids=["dcgan", "conditional dcgan"])
def test_resumed_run_equals_the_uninterrupted_run(tmp_path, conditional):
    images = digits(12)  # batch_size 4: 3 rounds an epoch
    labels = {"labels": np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8])} if conditional else {}
    make = conditional_trainer if conditional else small_trainer
    whole = make().fit(images, epochs=2, batch_size=4, show_progress=False, **labels)
    path = tmp_path / "gan.npz"
    make().fit(images, epochs=1, batch_size=4, checkpoint_path=path, show_progress=False, **labels)
    # a fresh process: other weights and another random stream before loading
    fresh = conditional_trainer(123) if conditional else GANTrainer(Generator(), Discriminator())
    resumed = fresh.fit(images, epochs=2, batch_size=4, checkpoint_path=path, resume=True, show_progress=False,
                        **labels)
    assert resumed.step_ == whole.step_ == 6
    assert resumed.history_ == whole.history_
    for a, b in zip(resumed.generator.state_dict().values(), whole.generator.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(resumed.discriminator.state_dict().values(), whole.discriminator.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("trainer, fit, message", [
    (lambda: small_trainer(loss="minimax"), {}, "loss 'non_saturating', this run has loss 'minimax'"),
    (lambda: small_trainer(k_g=2), {}, "k_g 1, this run has k_g 2"),
    (lambda: small_trainer(seed=1), {}, "seed 0, this run has seed 1"),
    (lambda: GANTrainer(Generator(latent_dim=8), Discriminator()), {}, "latent_dim 64, this run has latent_dim 8"),
    (small_trainer, {"batch_size": 6}, "batch_size 4, this run has batch_size 6"),
    (small_trainer, {"images": digits(16)}, "n_images 12, this run has n_images 16")])
def test_resuming_with_other_settings_names_the_setting_and_both_values(tmp_path, trainer, fit, message):
    path = tmp_path / "gan.npz"
    small_trainer().fit(digits(12), epochs=1, batch_size=4, checkpoint_path=path, show_progress=False)
    other = trainer()
    arguments = {"images": digits(12), "epochs": 2, "batch_size": 4, **fit}
    with pytest.raises(CheckpointError, match=f"gan.npz' was written with {message}; resume with the same"):
        other.fit(**arguments, checkpoint_path=path, resume=True, show_progress=False)
    assert other.step_ == 0 and other.batch_size_ is None


def test_a_checkpoint_of_other_nets_is_refused_before_anything_is_loaded(tmp_path):
    path = tmp_path / "gan.npz"
    mg.manual_seed(0)
    GANTrainer(Generator(), Discriminator(batch_norm=False)).save_checkpoint(path)  # the critic: no BatchNorm
    trainer = small_trainer()
    before = {name: value.numpy().copy() for name, value in trainer.generator.state_dict().items()}
    with pytest.raises(CheckpointError, match="holds a discriminator of another shape than this trainer's: "
                                              r"layers.5.weight \(1, 6272\) in the file, absent here; "):
        trainer.load_checkpoint(path)
    for name, value in trainer.generator.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name])


def test_a_file_that_is_not_a_trainer_checkpoint_is_named_with_what_it_lacks(tmp_path):
    path = tmp_path / "generator.npz"
    mg.save(Generator().state_dict(), path)
    with pytest.raises(CheckpointError, match="generator.npz' is not a GANTrainer checkpoint: it lacks 'settings', "
                                              "'generator', 'discriminator'"):
        small_trainer().load_checkpoint(path)


@pytest.mark.parametrize("arguments, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"checkpoint_every": 0}, "checkpoint_every must be a positive integer, got 0"),
    ({"checkpoint_every": -2}, "checkpoint_every must be a positive integer, got -2"),
    ({"batch_size": 2.5}, "batch_size must be in"),
    ({"k_d": 4}, r"1 epoch\(s\) of 3 batches \(12 images // batch_size 4\) make no round of 4 discriminator steps")])
def test_fit_refuses_bad_arguments_and_a_run_without_a_round(tmp_path, arguments, message):
    trainer = small_trainer(**{key: arguments.pop(key) for key in ["k_d"] if key in arguments})
    with pytest.raises(ValueError, match=message):
        trainer.fit(digits(12), **{"epochs": 1, "batch_size": 4, "checkpoint_path": tmp_path / "gan.npz",
                                   **arguments}, show_progress=False)
    assert trainer.step_ == 0


def test_fit_goes_on_with_the_batch_size_it_has_trained_with():
    trainer = small_trainer().fit(digits(12), epochs=1, batch_size=4, show_progress=False)
    with pytest.raises(ValueError, match="trained with batch_size 4 on 12 images.*got batch_size 6 on 12 images"):
        trainer.fit(digits(12), epochs=2, batch_size=6, show_progress=False)


def epoch_recorder(calls):
    def on_epoch_end(trainer, epoch):
        calls.append((epoch, trainer.step_))
        return {"first_pixel": float(trainer.generate(2, seed=7)[0, 0, 0])}
    return on_epoch_end


def test_on_epoch_end_runs_once_an_epoch_and_its_results_resume(tmp_path):
    images, calls = digits(12), []
    whole = small_trainer().fit(images, epochs=3, batch_size=4, on_epoch_end=epoch_recorder(calls),
                                show_progress=False)
    assert calls == [(1, 3), (2, 6), (3, 9)]
    assert [e["epoch"] for e in whole.evaluations_] == [1, 2, 3]
    path = tmp_path / "gan.npz"
    small_trainer().fit(images, epochs=2, batch_size=4, checkpoint_path=path, on_epoch_end=epoch_recorder([]),
                        show_progress=False)
    resumed = GANTrainer(Generator(), Discriminator()).fit(images, epochs=3, batch_size=4, checkpoint_path=path,
                                                          resume=True, on_epoch_end=epoch_recorder(calls := []),
                                                          show_progress=False)
    assert calls == [(3, 9)]
    assert resumed.evaluations_ == whole.evaluations_  # the generator of each epoch was the same


def test_on_epoch_end_also_closes_an_epoch_cut_short_by_the_critic_rounds():
    calls = []  # 3 batches an epoch, 5 critic steps a round: 2 epochs = 1 round, which ends inside epoch 2
    small_trainer(loss="wgan-gp").fit(digits(6), epochs=2, batch_size=2, on_epoch_end=epoch_recorder(calls),
                                      show_progress=False)
    assert calls == [(1, 1), (2, 1)]


def test_a_run_resumed_from_inside_an_epoch_evaluates_each_epoch_once_as_the_uninterrupted_run(tmp_path):
    images = digits(12)  # 3 batches an epoch, 2 discriminator steps a round: epoch 1 ends inside round 2
    whole = small_trainer(k_d=2).fit(images, epochs=3, batch_size=4, on_epoch_end=epoch_recorder(calls := []),
                                     show_progress=False)
    assert calls == [(1, 2), (2, 3), (3, 4)]
    path = tmp_path / "gan.npz"
    first = small_trainer(k_d=2).fit(images, epochs=1, batch_size=4, checkpoint_path=path,
                                     on_epoch_end=epoch_recorder([]), show_progress=False)
    assert [e["epoch"] for e in first.evaluations_] == [1]  # after round 1, inside epoch 1
    resumed = small_trainer(k_d=2).fit(images, epochs=3, batch_size=4, checkpoint_path=path, resume=True,
                                       on_epoch_end=epoch_recorder(calls := []), show_progress=False)
    assert calls == [(1, 2), (2, 3), (3, 4)]
    assert resumed.evaluations_ == whole.evaluations_
    assert resumed.history_ == whole.history_


def test_on_epoch_end_returning_nothing_is_still_called_once_an_epoch():
    calls = []
    small_trainer().fit(digits(12), epochs=2, batch_size=4, on_epoch_end=lambda trainer, epoch: calls.append(epoch),
                        show_progress=False)
    assert calls == [1, 2]


def test_generate_is_deterministic_in_unit_range_and_leaves_the_training_stream_alone():
    trainer = small_trainer()
    state = mg.get_rng_state()
    a, b = trainer.generate(5, seed=3), trainer.generate(5, seed=3)
    assert a.shape == (5, 28, 28) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, trainer.generate(5, seed=4))
    assert mg.get_rng_state() == state
    assert trainer.generator.training


def test_decode_names_the_expected_code_shape():
    with pytest.raises(ValueError, match=r"z must have shape \(n, 64\), got \(2, 3\)"):
        small_trainer().decode(np.zeros((2, 3)))


def test_image_ranges_round_trip():
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    x = to_gan_range(images)
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    np.testing.assert_allclose(to_unit_range(x) * 255, images, atol=1e-4)


def test_evaluate_samples_reports_the_judges_scores_and_label_histogram():
    class Judge(nn.Module):  # "predicts" the digit d whose d / 10 is nearest the mean ink
        def forward(self, x):
            ink = x.reshape(x.shape[0], -1).mean(dim=1, keepdims=True)
            return (ink * 10 - mg.tensor(np.arange(10.0, dtype=np.float32))) ** 2 * -10  # 10 nats apart
    levels = np.repeat(np.arange(10) / 10, 20)  # digit d: every pixel at d / 10
    samples = np.broadcast_to(levels[:, None, None], (200, 28, 28)).astype(np.float32)
    scores = evaluate_samples(samples, samples[::-1].copy(), Judge())
    assert scores["label_histogram"] == [20] * 10
    assert scores["classifier_score"] > 9.5
    logits = Judge()(mg.tensor(samples[:, None])).numpy().astype(np.float64)
    spread = 2 * np.trace(np.cov(logits, rowvar=False))  # Tr(S_a + S_b), about 1e6 here
    assert abs(scores["frechet_distance"]) < 1e-7 * spread  # the same digits in another order: 0 up to rounding
    one_class = evaluate_samples(samples[:20], samples, Judge())
    assert one_class["label_histogram"][0] == 20 and one_class["classifier_score"] < 1.1
    assert one_class["frechet_distance"] > 100


def test_evaluate_samples_runs_the_judge_once_on_each_set():
    class CountingJudge(nn.Module):
        calls = 0

        def forward(self, x):
            CountingJudge.calls += 1
            return x.reshape(x.shape[0], -1)[:, :10]
    images = np.random.default_rng(0).uniform(0, 1, (100, 28, 28)).astype(np.float32)
    scores = evaluate_samples(images, images[::-1].copy(), CountingJudge())
    assert CountingJudge.calls == 2  # samples, then real digits: 100 each, one batch of predict_logits
    assert scores["frechet_distance"] < 1e-6  # the same digits in another order


def test_lerp_and_slerp_start_and_end_at_the_codes():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal((2, 16))
    for path in (lerp(z0, z1, 7), slerp(z0, z1, 7)):
        assert path.shape == (7, 16)
        np.testing.assert_allclose(path[0], z0, atol=1e-12)
        np.testing.assert_allclose(path[-1], z1, atol=1e-12)


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    z0, z1 = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(slerp(z0, z1, 5), axis=1), 3.0)
    assert np.linalg.norm(lerp(z0, z1, 5)[2]) == pytest.approx(3 / np.sqrt(2))
    np.testing.assert_allclose(slerp(z0, z1, 3)[1], [3 / np.sqrt(2), 3 / np.sqrt(2), 0])
    np.testing.assert_allclose(slerp(z0, 2 * z0, 3), lerp(z0, 2 * z0, 3))  # parallel codes: a straight line


def test_slerp_from_or_to_the_zero_code_is_the_straight_line():
    z = np.array([3.0, 4.0])
    np.testing.assert_array_equal(slerp(np.zeros(2), z, 3), lerp(np.zeros(2), z, 3))
    np.testing.assert_array_equal(slerp(z, np.zeros(2), 3), lerp(z, np.zeros(2), 3))


@pytest.mark.parametrize("path", [lambda steps: lerp(np.zeros(2), np.ones(2), steps),
                                  lambda steps: slerp(np.ones(2), np.array([1.0, -1.0]), steps),
                                  lambda steps: latent_walk(np.zeros(2), np.ones(2), steps=steps)])
def test_paths_take_at_least_two_steps_their_ends(path):
    for steps in (1, 0, 2.0):
        with pytest.raises(ValueError, match=f"steps must be an int of at least 2, got {steps!r}"):
            path(steps)


def test_latent_walk_takes_equal_steps_along_the_unit_direction():
    walk = latent_walk(np.zeros(4), [0.0, 2.0, 0.0, 0.0], span=3.0, steps=7)
    np.testing.assert_allclose(walk[:, 1], np.linspace(-3, 3, 7))
    np.testing.assert_allclose(walk[:, [0, 2, 3]], 0)
    with pytest.raises(ValueError, match="zero vector"):
        latent_walk(np.zeros(4), np.zeros(4))
