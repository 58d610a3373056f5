"""The judge's two scores on real digits, noise, and a set against itself."""
import numpy as np
import pytest

from minigen.data import load_mnist
from minigen.models import judge
from minigen.models.classifier import train_classifier


@pytest.fixture(scope="module")
def small_judge():
    """A judge trained briefly (5 epochs, about 8 s): enough to tell digits from noise."""
    images, labels = load_mnist("train")
    model, _ = train_classifier(images, labels, epochs=5, show_progress=False)
    return model.eval()


@pytest.fixture(scope="module")
def test_digits():
    return load_mnist("test")


def test_real_digits_score_high_and_noise_low(small_judge, test_digits):
    images, _ = test_digits
    real = judge.classifier_score(images, model=small_judge)
    noise = judge.classifier_score(np.random.default_rng(0).uniform(0, 1, (1000, 28, 28)), model=small_judge)
    assert real > 7.0, f"real test digits scored {real:.2f}"
    assert noise < 2.0, f"uniform noise scored {noise:.2f}"


def test_one_class_scores_about_one(small_judge, test_digits):
    images, labels = test_digits
    assert judge.classifier_score(images[labels == 3], model=small_judge) < 1.5


def test_frechet_distance_of_a_set_to_itself_is_zero(small_judge, test_digits):
    images, _ = test_digits
    assert judge.frechet_distance(images, images, model=small_judge) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_ranks_real_halves_closer_than_noise(small_judge, test_digits):
    images, _ = test_digits
    order = np.random.default_rng(1).permutation(len(images))
    half_a, half_b = images[order[:500]], images[order[500:]]
    noise = np.random.default_rng(2).uniform(0, 1, (500, 28, 28))
    real_gap = judge.frechet_distance(half_a, half_b, model=small_judge)
    noise_gap = judge.frechet_distance(half_a, noise, model=small_judge)
    assert real_gap < noise_gap / 10, (real_gap, noise_gap)


def test_frechet_distance_matches_the_closed_form_for_known_gaussians():
    """With an identity 'model' the statistics are those of the inputs themselves."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    b = rng.standard_normal((20000, 3)) * 2 + 1
    fake_logits = {id(a): a, id(b): b}
    original = judge.predict_logits
    judge.predict_logits = lambda model, images: fake_logits[id(images)]
    try:
        distance = judge.frechet_distance(a, b, model=object())
    finally:
        judge.predict_logits = original
    # ||mu||^2 = 3, Tr(I + 4I - 2 * 2I) = 3: total 6
    assert distance == pytest.approx(6.0, rel=0.05)


def test_load_judge_trains_once_then_reads_the_cache(tmp_path, monkeypatch):
    calls = []
    original = judge.train_classifier

    def counting(*args, **kwargs):
        calls.append(1)
        kwargs["epochs"] = 1
        return original(*args, **{**kwargs, "show_progress": False})

    monkeypatch.setattr(judge, "train_classifier", counting)
    first = judge.load_judge(epochs=1, root=str(tmp_path))
    assert judge.cache_path(1, 0, str(tmp_path)).exists()
    judge.load_judge.cache_clear()
    second = judge.load_judge(epochs=1, root=str(tmp_path))
    assert len(calls) == 1
    for (name, p), (_, q) in zip(first.state_dict().items(), second.state_dict().items()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_frechet_distance_needs_two_rows_in_each_set():
    logits = np.random.default_rng(0).standard_normal((20, 10))
    with pytest.raises(ValueError, match=r"at least 2 rows .* got shapes \(1, 10\) and \(20, 10\)"):
        judge.frechet_distance_of_logits(logits[:1], logits)
    with pytest.raises(ValueError, match=r"got shapes \(20, 10\) and \(10,\)"):
        judge.frechet_distance_of_logits(logits, logits[0])
