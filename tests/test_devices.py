"""The cuda path (issue 13): placement on cuda:0 and cuda:1, gradients given as device arrays,
one training step of each model on a GPU against the CPU, singular covariances, the demos.

Without a GPU these run on the strict CuPy stand-in (tests/strict_cupy.py), which refuses
every operation whose arrays are not on CuPy's current device: a cuda:1 computation that
touched device 0 anywhere fails here. With a GPU they run on it.
"""
import pathlib
import sys

import numpy as np
import pytest

import minigen as mg
import strict_cupy
from minigen import backend, nn
from minigen.models import cgan, gan, vae
from minigen.models.classifier import DigitClassifier
from minigen.models.gaussian import GaussianClassifier
from minigen.models.hmm import CategoricalHMM
from minigen.models.markov import MarkovChain
from minigen.models.naive_bayes import BernoulliNB, GaussianNB

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))
import tour  # noqa: E402


def test_randn_gives_the_same_numbers_on_cpu_and_cuda(cuda):
    mg.manual_seed(7)
    on_cpu = mg.randn(3, 4).numpy()
    mg.manual_seed(7)
    on_cuda = mg.randn(3, 4, device=cuda)
    assert on_cuda.device == cuda
    np.testing.assert_array_equal(on_cpu, on_cuda.numpy())


def test_gradients_flow_back_across_a_transfer(cuda):
    x = mg.randn(5, dtype=mg.float64, requires_grad=True)
    (x.to(cuda) ** 2).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_an_op_on_two_devices_is_refused(cuda):
    with pytest.raises(RuntimeError, match=rf"Add: expected all tensors on one device, got tensors on cpu, {cuda}"):
        mg.randn(2) + mg.randn(2, device=cuda)


def test_backward_and_grad_take_gradients_as_raw_device_arrays(cuda):
    x = mg.tensor([1.0, 2.0], device=cuda, requires_grad=True)
    y = x * 3
    y.backward(mg.tensor([1.0, -1.0], device=cuda).data, retain_graph=True)
    g, = mg.grad(y, x, grad_outputs=[mg.tensor([2.0, 2.0], device=cuda).data])
    assert x.grad.device == g.device == cuda
    assert x.grad.tolist() == [3.0, -3.0] and g.tolist() == [6.0, 6.0]


def test_a_gradient_on_another_device_is_refused(cuda):
    y = mg.ones(2, device=cuda, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=f"backward: gradient is on cpu but the output is on {cuda}"):
        y.backward(mg.ones(2))


def _arrays_of(model, optimizer):
    """Every array a training step leaves behind: parameters, gradients, buffers, optimizer state."""
    yield from ((name, p.data) for name, p in model.named_parameters())
    yield from ((name + ".grad", p.grad.data) for name, p in model.named_parameters())
    yield from ((name, b.data) for name, b in model.named_buffers())
    for p, state in optimizer.state.items():
        yield from ((f"state {key}", value) for key, value in state.items() if backend.is_array(value))


def test_a_training_step_on_cuda1_keeps_everything_on_cuda1(standin):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 3)).to("cuda:1")
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-3)
    x, y = mg.randn(8, 1, 6, 6, device="cuda:1"), mg.tensor([0, 1, 2, 0, 1, 2, 0, 1], device="cuda:1")
    weight = mg.tensor([1.0, 2.0, 0.5], device="cuda:1")
    loss = nn.functional.cross_entropy(model(x), y, weight=weight)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model.zero_grad(set_to_none=False)
    placed = dict(_arrays_of(model, optimizer))
    assert len(placed) > 10 and {name: backend.device_of(a) for name, a in placed.items()} == \
        {name: "cuda:1" for name in placed}


def test_a_class_weight_on_another_device_is_refused(cuda):
    logits, target = mg.randn(4, 3, device=cuda), mg.tensor([0, 1, 2, 0], device=cuda)
    with pytest.raises(RuntimeError, match=f"weight is on cpu but the input is on {cuda}"):
        nn.functional.cross_entropy(logits, target, weight=mg.ones(3))


# ------------------------------------------------------------------ one step of each model, GPU against CPU
def _classifier_step(device):
    mg.manual_seed(0)
    model = DigitClassifier(dropout=0.0).to(device)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-3)
    x = mg.rand(4, 1, 28, 28, device=device)
    loss = nn.functional.cross_entropy(model(x), mg.tensor([3, 1, 4, 1], device=device))
    loss.backward()
    optimizer.step()
    return [loss.item()] + [p.numpy() for p in model.parameters()]


def _vae_step(device):
    mg.manual_seed(0)
    model = vae.VAE(in_dim=16, hidden=8, latent=2).to(device)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-3)
    reconstruction, kl = model.loss(mg.rand(5, 16, device=device))
    (reconstruction + kl).backward()
    optimizer.step()
    return [reconstruction.item(), kl.item()] + [p.numpy() for p in model.parameters()]


def _dcgan_round(loss):
    def step(device):
        mg.manual_seed(0)
        trainer = gan.GANTrainer(gan.Generator(latent_dim=8), gan.Discriminator(), loss=loss, n_critic=1 if
                                 loss == "wgan-gp" else None, device=device)
        real = iter([mg.rand(4, 1, 28, 28, device=device) * 2 - 1])
        return list(trainer.train_round(real)) + [p.numpy() for p in trainer.generator.parameters()]
    return step


def _cgan_round(device):
    mg.manual_seed(0)
    trainer = gan.GANTrainer(cgan.ConditionalGenerator(latent_dim=8), cgan.ProjectionDiscriminator(), device=device)
    real = iter([(mg.rand(4, 1, 28, 28, device=device) * 2 - 1, mg.tensor([3, 1, 4, 1], device=device))])
    return (list(trainer.train_round(real)) + [p.numpy() for p in trainer.generator.parameters()]
            + [trainer.generate(labels=np.arange(10))])


def _hmm_fit(device):
    rng = np.random.default_rng(0)
    model = CategoricalHMM(3, n_features=4, n_iter=2, tol=-np.inf, random_state=0, device=device)
    model.fit(rng.integers(0, 4, size=(60, 1)), lengths=[30, 30])
    return [model.startprob_, model.transmat_, model.emissionprob_, model.score(rng.integers(0, 4, size=(9, 1)))]


def _gaussian_fit(device):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = GaussianClassifier("full").fit(backend.to_device(X, device), backend.to_device(y, device))
    return [backend.to_host(model.predict_proba(backend.to_device(X, device))), backend.to_host(model.means_)]


def _markov_fit(device):
    sequences = [backend.to_device(np.array(s), device) for s in ([0, 1, 1, 2, 0], [2, 2, 1, 0])]
    chain = MarkovChain(backend.to_device(np.full((3, 3), 1 / 3), device)).fit(sequences)
    return [backend.to_host(chain.transmat_), backend.to_host(chain.stationary_distribution())]


def _markov_order_2_fit(device):
    sequences = [backend.to_device(np.array(s), device) for s in ([0, 1, 1, 2, 0, 1, 1], [2, 2, 1, 0])]
    chain = MarkovChain(backend.to_device(np.full((3, 3, 3), 1 / 3), device), order=2).fit(sequences, pseudocount=1)
    return [backend.to_host(chain.transmat_), backend.to_host(chain.startprob_),
            backend.to_host(chain.sample(6, random_state=0))]


def _naive_bayes_fit(device):
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 6)), rng.integers(0, 3, 40)
    Xd, yd = backend.to_device(X, device), backend.to_device(y, device)
    bernoulli, gaussian = BernoulliNB().fit(Xd, yd), GaussianNB().fit(Xd, yd)
    return [backend.to_host(bernoulli.predict_proba(Xd)), backend.to_host(bernoulli.sample(1, n=4, random_state=0)),
            backend.to_host(gaussian.predict_proba(Xd)), backend.to_host(gaussian.var_)]


STEPS = {"classifier": _classifier_step, "vae": _vae_step, "dcgan minimax": _dcgan_round("minimax"),
         "dcgan non_saturating": _dcgan_round("non_saturating"), "dcgan wgan-gp": _dcgan_round("wgan-gp"),
         "conditional dcgan": _cgan_round,
         "hmm fit": _hmm_fit, "gaussian classifier": _gaussian_fit, "markov fit": _markov_fit,
         "markov order 2 fit": _markov_order_2_fit, "naive bayes fit": _naive_bayes_fit}


@pytest.mark.parametrize("model", STEPS)
def test_one_training_step_gives_the_cpus_numbers(model, cuda):
    on_gpu, on_cpu = STEPS[model](cuda), STEPS[model]("cpu")
    assert len(on_gpu) == len(on_cpu)
    for got, expected in zip(on_gpu, on_cpu):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ what cuSOLVER may return
@pytest.mark.parametrize("failure", ["nan", "partial"])
def test_a_singular_covariance_is_refused_whatever_cholesky_returns(standin, failure):
    strict_cupy.set_cholesky_failure(failure)
    try:
        X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [0.0, 1.0], [1.0, 2.0]])  # collinear in class 0
        y = np.array([0, 0, 0, 0, 1, 1])
        with pytest.raises(ValueError, match="the covariance of class 0 is singular"):
            GaussianClassifier("full", reg=0).fit(backend.to_device(X, "cuda:1"), backend.to_device(y, "cuda:1"))
    finally:
        strict_cupy.set_cholesky_failure("nan")


# ------------------------------------------------------------------ the demos
def test_the_demos_that_take_a_device_run_on_cuda1(standin, tmp_path, capsys):
    results = tour.main(["--only", "bayes_classifier", "hmm_pen_digits", "--device", "cuda:1", "--out", str(tmp_path)])
    assert set(results) == {"bayes_classifier", "hmm_pen_digits"}
    assert "on cuda:1" in capsys.readouterr().out.splitlines()[-1]


@pytest.mark.slow
def test_the_whole_tour_runs_on_cuda1(standin, tmp_path, capsys):
    results = tour.main(["--device", "cuda:1", "--out", str(tmp_path)])
    assert set(results) == set(tour.NAMES)
    assert "on cuda:1" in capsys.readouterr().out.splitlines()[-1]


def test_an_optimizer_state_dict_on_cuda1_stays_on_cuda1(standin):
    w = mg.randn(3, device="cuda:1", requires_grad=True)
    optimizer = mg.optim.Adam([w])
    (w * w).sum().backward()
    optimizer.step()
    saved = optimizer.state_dict()["state"][0]
    assert {name: value.device for name, value in saved.items() if isinstance(value, mg.Tensor)} == \
        {"exp_avg": "cuda:1", "exp_avg_sq": "cuda:1"}


def test_the_bare_name_cuda_means_cuda0_everywhere(standin):
    assert backend.device_of(backend.to_device(np.ones(2), "cuda")) == "cuda:0"
    x = mg.zeros(2, device="cuda") + 1
    assert x.device == "cuda:0" and x.tolist() == [1.0, 1.0]


def test_cupy_without_a_usable_gpu_says_so_rather_than_install_cupy(request):
    strict_cupy.install(backend, n_devices=0)
    request.addfinalizer(lambda: strict_cupy.uninstall(backend))
    with pytest.raises(RuntimeError, match="is installed, but it finds no usable GPU"):
        mg.zeros(2, device="cuda")


def test_cupy_is_pinned_to_14_or_newer():
    setup = (pathlib.Path(__file__).parents[1] / "setup.cfg").read_text()
    assert "cupy-cuda12x>=14" in setup and "cupy-cuda13x>=14" in setup
