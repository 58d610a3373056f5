"""The benchmarks' own instruments (the timings themselves are never tested)."""
import pathlib
import sys
import types

import numpy as np
import pytest

import minigen
from minigen.models.cgan import ConditionalGenerator, ProjectionDiscriminator
from minigen.models.gan import GANTrainer
from minigen.ops import linalg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_cgan_run  # noqa: E402
import bench_dcgan_parts  # noqa: E402
import bench_dcgan_run  # noqa: E402
import bench_mixture  # noqa: E402


def test_product_clock_counts_the_flops_of_every_product_and_restores_matmul():
    forward = linalg.MatMul.forward
    a = minigen.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    b = minigen.tensor(np.ones((4, 5), np.float32))
    with bench_dcgan_parts.ProductClock() as clock:
        (a @ b).sum().backward()  # forward 3x4x5, then dL/da = g b^T: 3x5x4
        assert linalg.MatMul.forward is not forward
    assert linalg.MatMul.forward is forward
    assert (clock.calls, clock.flops) == (2, 2 * 2 * 3 * 4 * 5)
    assert clock.seconds > 0
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 5, np.float32))


def test_fastest_step_reports_the_products_of_one_step():
    a = minigen.tensor(np.ones((8, 8), np.float32))
    steps = []

    def step():
        steps.append(a @ a @ a)
    seconds, product_seconds, flops, calls = bench_dcgan_parts.fastest_step(step, repeats=2)
    assert len(steps) == 3 + 2  # warm-up steps, then the timed ones
    assert (calls, flops) == (2, 2 * 2 * 8 ** 3)
    assert 0 < product_seconds <= seconds


def test_mixture_benchmark_refuses_a_fit_that_stops_before_max_iter():
    calls = []

    def fit(max_iter):
        calls.append(max_iter)
        return types.SimpleNamespace(n_iter_=max_iter)

    seconds = bench_mixture.per_iteration({"a": fit, "b": fit}, repeats=2)
    assert set(seconds) == {"a", "b"} and calls.count(1) == calls.count(1 + bench_mixture.ITERATIONS) == 6
    with pytest.raises(RuntimeError, match="stopped before max_iter=1"):
        bench_mixture.per_iteration({"a": lambda max_iter: types.SimpleNamespace(n_iter_=0)}, repeats=1)


def torch_replicas_of(generator, discriminator):
    """bench_cgan_run's torch nets carrying the weights (and BatchNorm statistics) of minigen's."""
    torch = pytest.importorskip("torch")
    torch_g, torch_d = bench_cgan_run.torch_cgan_nets()
    for source, target in ((generator, torch_g), (discriminator, torch_d)):
        weights = source.state_dict()
        target.load_state_dict({name: torch.from_numpy(np.array(weights[name].numpy())) for name in weights})
    return torch_g, torch_d


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_torch_replicas_of_the_conditional_nets_compute_what_minigens_compute(mode):
    torch = pytest.importorskip("torch")
    minigen.manual_seed(0)
    G, D = ConditionalGenerator(), ProjectionDiscriminator()
    torch_g, torch_d = torch_replicas_of(G, D)
    rng = np.random.default_rng(0)
    z, x = rng.standard_normal((6, 64)).astype(np.float32), rng.uniform(-1, 1, (6, 1, 28, 28)).astype(np.float32)
    y = np.array([0, 3, 3, 9, 5, 1])
    for net in (G, D, torch_g, torch_d):
        getattr(net, mode)()
    with torch.no_grad():
        ours = G(minigen.tensor(z), minigen.tensor(y)).numpy(), D(minigen.tensor(x), minigen.tensor(y)).numpy()
        theirs = torch_g(torch.from_numpy(z), torch.from_numpy(y)).numpy(), torch_d(torch.from_numpy(x),
                                                                                    torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)  # G(z, y): tanh outputs
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)  # D(x, y): logits
    assert np.abs(ours[1]).max() > 1e-3  # not a trivially zero comparison


def test_the_torch_cgan_run_feeds_both_nets_the_batches_labels_in_gan_trainers_order():
    torch = pytest.importorskip("torch")

    class Recorder(torch.nn.Module):  # a net that only remembers the labels it is given
        def __init__(self, output):
            super().__init__()
            self.w, self.output, self.seen = torch.nn.Parameter(torch.ones(1)), output, []

        def forward(self, inputs, labels):
            self.seen.append(labels.numpy().copy())
            return self.w * inputs.reshape(len(inputs), -1)[:, :1].sum() * torch.ones(len(inputs), *self.output)

    G, D = Recorder((1, 28, 28)), Recorder((1,))
    images = np.zeros((130, 1, 28, 28), np.float32)  # 2 batches of 64 an epoch, 2 digits left over
    labels = np.random.default_rng(1).integers(0, 10, 130)
    bench_dcgan_run.torch_run(images, 2, "non_saturating", seed=3, nets=lambda: (G, D), labels=labels)
    trainer = GANTrainer(ConditionalGenerator(latent_dim=8), ProjectionDiscriminator(), seed=3)
    batches = trainer._batches(images, 64, labels)
    expected = [next(batches)[1].numpy() for _ in range(4)]  # GANTrainer's 4 real batches' labels
    assert len(G.seen) == 2 * 4 and len(D.seen) == 3 * 4  # per round: G twice; D on real, fake, fake
    for r, y in enumerate(expected):
        for seen in G.seen[2 * r:2 * r + 2] + D.seen[3 * r:3 * r + 3]:
            np.testing.assert_array_equal(seen, y)


def test_the_cgan_benchmark_summary_gives_the_mean_and_range_over_seeds():
    runs = [{"seconds": 10.0, "judge_accuracy": 0.9, "classifier_score": 8.0, "frechet_distance": 30.0},
            {"seconds": 14.0, "judge_accuracy": 0.95, "classifier_score": 9.0, "frechet_distance": 20.0}]
    line = bench_cgan_run.summary("minigen", runs)
    assert "over 2 seed(s): 12.0 (10.0..14.0) s" in line and "accuracy 92.5% (90.0%..95.0%)" in line
    assert "classifier score 8.50 (8.00..9.00)" in line and "Frechet distance 25.0 (20.0..30.0)" in line
