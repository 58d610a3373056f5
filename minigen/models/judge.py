"""The judge: a digit classifier that scores generated digits.

    classifier_score(images) = exp(E_x KL(p(y|x) || p(y)))        (the "Inception score" on digits)
    frechet_distance(a, b)   = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))   on the logits

Between 1 (every digit the same class, or every prediction uniform) and 10 (confident and
all ten classes equally often) for the score; 0 for two sets with the same logit statistics.
The classifier is trained once on the embedded MNIST training digits and cached (minigen.save).
"""
import functools
import os
import pathlib

import numpy as np

import minigen
from minigen.data import load_mnist
from minigen.models.classifier import DigitClassifier, predict_logits, train_classifier

EPOCHS = 15


def cache_path(epochs=EPOCHS, seed=0, root=None):
    """Where the judge's weights live: <root or $MINIGEN_DATA or ~/.cache/minigen>/judge/."""
    root = root or os.environ.get("MINIGEN_DATA") or pathlib.Path.home() / ".cache" / "minigen"
    # "mixed": trained on the 5k digits in their fixed, mixed order (a judge trained on the
    # earlier label-sorted order, cached under the old name, is not reused)
    return pathlib.Path(root) / "judge" / f"classifier-5k-mixed-epochs{epochs}-seed{seed}.npz"


@functools.lru_cache(maxsize=4)
def load_judge(epochs=EPOCHS, seed=0, root=None):
    """The trained judge classifier: loaded from the cache, or trained (about a minute) and cached."""
    path = cache_path(epochs, seed, root)
    model = DigitClassifier()
    if path.exists():
        model.load_state_dict(minigen.load(path))
    else:
        images, labels = load_mnist("train")
        model, _ = train_classifier(images, labels, epochs=epochs, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        minigen.save(model.state_dict(), path)
    return model.eval()


def softmax(logits):
    """p(y|x) of each row of logits (N, 10), as NumPy arrays."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classifier_score(images, model=None):
    """exp(E_x KL(p(y|x) || p(y))) of digits images (N, 28, 28) with values in [0, 1] or uint8."""
    return classifier_score_of_logits(predict_logits(model or load_judge(), images))


def classifier_score_of_logits(logits):
    """classifier_score from the judge's logits (N, 10) of the images."""
    p_y_given_x = softmax(logits)
    p_y = p_y_given_x.mean(axis=0, keepdims=True)
    kl = (p_y_given_x * (np.log(p_y_given_x + 1e-12) - np.log(p_y + 1e-12))).sum(axis=1)
    return float(np.exp(kl.mean()))


def _sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(images_a, images_b, model=None):
    """Frechet distance between Gaussians fitted to the judge's logits of two sets of digits."""
    model = model or load_judge()
    return frechet_distance_of_logits(predict_logits(model, images_a), predict_logits(model, images_b))


def frechet_distance_of_logits(a, b):
    """frechet_distance from the judge's logits (N_a, 10) and (N_b, 10) of the two sets.
    Raises ValueError unless both are 2-d with at least 2 rows (a covariance needs two)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or len(a) < 2 or len(b) < 2:
        raise ValueError(f"frechet_distance: each set needs at least 2 rows of logits to estimate a covariance, "
                         f"got shapes {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)  # (S_a S_b)^(1/2) has the trace of this symmetric form
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * cross))
