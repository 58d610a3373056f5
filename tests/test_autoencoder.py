"""Autoencoders: shapes, training, outlier scores, and the PSNR / ROC / AUROC helpers
checked against hand-computed values."""
import math

import numpy as np
import pytest

import minigen
from minigen.data import load_mnist
from minigen.models.autoencoder import (
    ConvAutoencoder, DenseAutoencoder, auroc, gaussian_noise, psnr, roc_curve, salt_and_pepper, train_autoencoder)


@pytest.fixture(scope="module")
def digits():
    images, _ = load_mnist("train")
    return images[np.random.default_rng(0).permutation(len(images))[:1000]]


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("make", [lambda: DenseAutoencoder(hidden=(64,), bottleneck=5),
                                  lambda: ConvAutoencoder(bottleneck=5)], ids=["dense", "conv"])
def test_encode_decode_reconstruct_shapes(make):
    minigen.manual_seed(0)
    model = make()
    x = minigen.rand(3, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (3, 5)
    assert model.decode(z).shape == (3, 1, 28, 28)
    pixels = model.reconstruct(x).numpy()
    assert pixels.shape == (3, 1, 28, 28)
    assert ((pixels >= 0) & (pixels <= 1)).all()
    assert model.anomaly_score(np.zeros((4, 28, 28), dtype=np.uint8)).shape == (4,)


def test_dense_autoencoder_hidden_layers_mirror():
    model = DenseAutoencoder(in_dim=784, hidden=(128, 64), bottleneck=2)
    shapes = [tuple(p.shape) for p in model.parameters() if p.ndim == 2]
    assert shapes == [(128, 784), (64, 128), (2, 64), (64, 2), (128, 64), (784, 128)]


def test_unknown_loss_is_refused(digits):
    with pytest.raises(ValueError, match="loss must be 'mse' or 'bce'"):
        train_autoencoder(DenseAutoencoder(), digits, epochs=1, loss="l1")


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_bottleneck_2_dense_autoencoder_reduces_its_loss(digits, loss):
    minigen.manual_seed(0)
    losses = train_autoencoder(DenseAutoencoder(hidden=(64,), bottleneck=2), digits, epochs=3, loss=loss,
                               show_progress=False)
    assert len(losses) == 3
    assert losses[-1] < 0.9 * losses[0], losses


def test_anomaly_score_ranks_uniform_noise_above_digits(digits):
    minigen.manual_seed(0)
    model = DenseAutoencoder(hidden=(64,), bottleneck=8)
    train_autoencoder(model, digits, epochs=2, show_progress=False)
    test_digits, _ = load_mnist("test")
    noise = np.random.default_rng(1).random((200, 28, 28)).astype(np.float32)
    real, fake = model.anomaly_score(test_digits[:200]), model.anomaly_score(noise)
    assert auroc(np.r_[fake, real], np.r_[np.ones(200), np.zeros(200)]) > 0.99


def test_noise_corrupts_the_training_inputs_only(digits):
    seen = []

    def blank(x, rng):  # a corruption that makes every training input black
        seen.append(x.copy())
        return np.zeros_like(x)

    minigen.manual_seed(0)
    model = DenseAutoencoder(hidden=(16,), bottleneck=2)
    train_autoencoder(model, digits[:100], epochs=2, batch_size=50, noise=blank, show_progress=False)
    assert len(seen) == 4  # every training batch, 2 per epoch
    assert all(x.max() > 0 for x in seen)  # it was handed the clean digits ...
    # ... and the model learnt to map a black input to the mean digit: the clean targets
    # reached the loss while the inputs were corrupted
    black = model.reconstruct(minigen.zeros(1, 1, 28, 28)).numpy()
    assert black.mean() > 0.05
    calls = len(seen)
    model.anomaly_score(digits[:10])
    model.reconstruct(minigen.rand(2, 1, 28, 28))
    assert len(seen) == calls  # scoring and reconstructing never corrupt


def test_gaussian_noise_and_salt_and_pepper_stay_in_the_unit_interval():
    x = np.random.default_rng(0).random((50, 1, 28, 28)).astype(np.float32)
    for corrupt in (gaussian_noise(0.5), salt_and_pepper(0.3)):
        noisy = corrupt(x, np.random.default_rng(1))
        assert noisy.shape == x.shape and noisy.dtype == np.float32
        assert noisy.min() >= 0 and noisy.max() <= 1
        assert not np.allclose(noisy, x)
    flipped = salt_and_pepper(0.3)(x, np.random.default_rng(1)) != x
    assert abs(flipped.mean() - 0.3) < 0.01


# ------------------------------------------------------------------ PSNR
def test_psnr_by_hand():
    clean = np.zeros((2, 4))
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0)  # MSE 0.01 -> 10 log10(100) = 20 dB
    assert psnr(clean, np.full((2, 4), 1.0)) == pytest.approx(0.0)
    half = clean.copy()
    half[0] = 1.0  # MSE 0.5 -> 10 log10 2
    assert psnr(clean, half) == pytest.approx(10 * math.log10(2))
    assert psnr(clean, clean) == math.inf


# ------------------------------------------------------------------ AUROC and ROC
def test_auroc_perfect_separation_is_1():
    assert auroc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0


def test_auroc_reversed_is_0():
    assert auroc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0


def test_auroc_all_tied_is_one_half():
    assert auroc([0.5, 0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0, 0]) == 0.5


def test_auroc_by_hand_with_a_tie():
    # positives 0.8, 0.4; negatives 0.6, 0.4, 0.2. Pairs: 0.8 beats all 3 (3);
    # 0.4 beats 0.2 (1), ties 0.4 (1/2), loses to 0.6 (0): U = 4.5 of 6 pairs
    assert auroc([0.8, 0.6, 0.4, 0.4, 0.2], [1, 0, 1, 0, 0]) == pytest.approx(4.5 / 6)


def test_auroc_is_the_probability_a_positive_outscores_a_negative():
    rng = np.random.default_rng(0)
    scores, labels = rng.integers(0, 5, 60).astype(float), np.r_[np.ones(25), np.zeros(35)]
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert auroc(scores, labels) == pytest.approx(pairs.mean())


def test_roc_curve_by_hand():
    fpr, tpr = roc_curve([0.8, 0.6, 0.4, 0.4, 0.2], [1, 0, 1, 0, 0])
    # thresholds 0.8, 0.6, 0.4 (a positive and a negative together), 0.2
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])


def test_area_under_the_roc_curve_equals_auroc():
    rng = np.random.default_rng(1)
    scores, labels = rng.integers(0, 8, 80).astype(float), rng.integers(0, 2, 80)
    fpr, tpr = roc_curve(scores, labels)
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
    assert area == pytest.approx(auroc(scores, labels))


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        auroc([0.1, 0.2], [1, 1])
