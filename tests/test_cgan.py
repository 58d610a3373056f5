import numpy as np
import pytest

import minigen as mg
from minigen.models.cgan import ConditionalGenerator, ProjectionDiscriminator
from minigen.models.gan import (Discriminator, GANTrainer, Generator, conditional_discriminator_loss,
                                discriminator_loss)


def digits(n=12, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)


def labels_of(values):
    return mg.tensor(np.array(values, dtype=np.int64))


def nets(batch_norm=True):
    mg.manual_seed(0)
    return ConditionalGenerator(latent_dim=8), ProjectionDiscriminator(batch_norm=batch_norm)


def test_shapes_of_the_conditional_nets():
    G, D = nets()
    x = G(mg.randn(5, 8), labels_of([0, 1, 2, 3, 9]))
    assert x.shape == (5, 1, 28, 28) and np.abs(x.numpy()).max() <= 1
    assert D(x, labels_of([0, 1, 2, 3, 9])).shape == (5, 1)


def test_the_label_changes_both_nets_outputs_for_the_same_input():
    G, D = nets()
    G.eval(), D.eval()
    z = mg.randn(1, 8).expand(10, 8)
    images = G(z, labels_of(range(10))).numpy()
    assert all(not np.allclose(images[0], images[k]) for k in range(1, 10))
    x = mg.tensor(np.repeat(digits(1), 10, axis=0))
    logits = D(x, labels_of(range(10))).numpy().ravel()
    assert len(np.unique(logits)) == 10


def test_projection_is_psi_of_the_features_plus_the_label_embedding_dotted_with_them():
    _, D = nets(batch_norm=False)
    x, y = mg.tensor(digits(3)), labels_of([4, 0, 7])
    phi = D.phi(x).numpy()
    e_y = D.embed.weight.numpy()[[4, 0, 7]]
    expected = phi @ D.psi.weight.numpy().T + D.psi.bias.numpy() + (e_y * phi).sum(1, keepdims=True)
    np.testing.assert_allclose(D(x, y).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_gradients_reach_every_weight_of_both_nets():
    G, D = nets()
    y = labels_of([1, 2, 3, 4])
    D(G(mg.randn(4, 8), y), y).sum().backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 10]), r"labels must be in \[0, 10\), got values from 0 to 10"),
    (np.array([-1, 1, 2]), r"labels must be in \[0, 10\), got values from -1 to 2"),
    (np.array([0.0, 1.0, 2.0], dtype=np.float32), "labels must be an integer Tensor of shape \\(3,\\)"),
    (np.array([0, 1]), "labels must be an integer Tensor of shape \\(3,\\).*shape \\(2,\\)"),
])
def test_bad_labels_are_refused_with_what_is_wrong(labels, message):
    G, D = nets()
    with pytest.raises(ValueError, match=message):
        G(mg.randn(3, 8), mg.tensor(labels))
    with pytest.raises(ValueError, match=message):
        D(mg.tensor(digits(3)), mg.tensor(labels))


def test_conditional_discriminator_loss_scores_each_image_with_its_own_label():
    _, D = nets()
    D.eval()
    real, fake, y = mg.tensor(digits(4, 1)), mg.tensor(digits(4, 2)), labels_of([3, 1, 4, 1])
    loss, real_logits, fake_logits = conditional_discriminator_loss(D, real, fake, y, "non_saturating")
    np.testing.assert_array_equal(real_logits.numpy(), D(real, y).numpy())
    np.testing.assert_array_equal(fake_logits.numpy(), D(fake, y).numpy())
    assert loss.item() == pytest.approx(discriminator_loss(real_logits, fake_logits, "non_saturating").item())


def conditional_trainer(**options):
    G, D = nets(batch_norm=options.get("loss") != "wgan-gp")
    return GANTrainer(G, D, **options)


@pytest.mark.parametrize("loss", ["non_saturating", "wgan-gp"])
def test_fit_passes_each_real_batchs_labels_to_both_nets(monkeypatch, loss):
    trainer, seen = conditional_trainer(loss=loss, k_d=1), []
    for net in (trainer.generator, trainer.discriminator):
        forward = net.forward
        monkeypatch.setattr(net, "forward", lambda x, y, forward=forward, net=net: (
            seen.append((type(net).__name__, y.numpy().tolist())), forward(x, y))[1])
    labels = np.arange(8) % 10
    trainer.fit(digits(8), epochs=1, batch_size=4, labels=labels, show_progress=False)
    order = np.random.default_rng(0).permutation(8)  # epoch 0's order (seed 0)
    first = sorted(labels[order[:4]].tolist())
    assert {name for name, _ in seen} == {"ConditionalGenerator", "ProjectionDiscriminator"}
    assert sorted(seen[0][1]) == first and all(len(y) == 4 for _, y in seen)


def test_fit_refuses_labels_for_an_unconditional_generator_and_none_for_a_conditional_one():
    with pytest.raises(ValueError, match="a conditional generator needs labels=.*ConditionalGenerator, neither given"):
        conditional_trainer().fit(digits(8), epochs=1, batch_size=4, show_progress=False)
    with pytest.raises(ValueError, match="an unconditional one takes neither labels= nor inputs= .generator Generator, labels given"):
        GANTrainer(Generator(), Discriminator()).fit(digits(8), epochs=1, batch_size=4, labels=np.zeros(8, int),
                                                     show_progress=False)


def test_fit_refuses_labels_of_another_length():
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(8,\).*shape \(7,\)"):
        conditional_trainer().fit(digits(8), epochs=1, batch_size=4, labels=np.zeros(7, int), show_progress=False)


def test_generate_draws_the_labels_asked_for_from_fixed_noise():
    trainer = conditional_trainer()
    y = np.repeat(np.arange(10), 2)
    images = trainer.generate(labels=y, seed=3)
    assert images.shape == (20, 28, 28) and 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(images, trainer.generate(labels=y, seed=3))
    assert not np.allclose(images[0], trainer.generate(labels=np.full(20, 5), seed=3)[0])
    assert trainer.samples(10, labels=np.arange(10)).shape == (10, 1, 28, 28)
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(20,\)"):
        trainer.decode(np.zeros((20, 8)), labels=np.arange(10))
    with pytest.raises(ValueError, match="generate: give n, the number of digits, or labels"):
        trainer.generate()


def test_evaluate_conditional_samples_scores_each_digit_against_the_label_asked_for(monkeypatch):
    from minigen.models import cgan, judge
    # a stand-in judge that reads the digit written in an image's first pixel
    monkeypatch.setattr(judge, "predict_logits", lambda model, images: np.eye(10)[np.asarray(images)[:, 0, 0]])
    asked = np.array([2, 0, 2, 1, 0, 2])
    samples = np.zeros((6, 28, 28), np.int64)
    samples[:, 0, 0] = [2, 0, 5, 1, 1, 2]  # read: right, right, wrong, right, wrong, right
    real = np.repeat(np.arange(10), 2)[:, None, None] * np.ones((1, 28, 28), np.int64)
    scores = cgan.evaluate_conditional_samples(samples, asked, real, model=None)
    assert scores["judge_accuracy"] == pytest.approx(4 / 6)
    assert scores["judge_accuracy_per_label"][:3] == [0.5, 1.0, pytest.approx(0.667)]
    assert all(np.isnan(scores["judge_accuracy_per_label"][3:]))
    assert scores["label_histogram"] == [1, 2, 2, 0, 0, 1, 0, 0, 0, 0]
    assert scores["frechet_distance"] > 0 and scores["classifier_score"] > 1
