"""Checks that mean something only on a real GPU: float32 numerics of the device's own kernels
(cuBLAS, cuSOLVER), and the GPU benchmark's own run. Placement and API use are checked on
every run without a GPU too (tests/test_devices.py, on the CuPy stand-in). `pytest -m gpu`."""
import pathlib
import sys

import numpy as np
import pytest

import conftest
import minigen as mg
from minigen.models import gan

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not conftest.REAL_CUDA, reason="needs a real GPU (CuPy finds none)")]
sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "benchmarks"))


def _dcgan_round(device):
    mg.manual_seed(0)
    trainer = gan.GANTrainer(gan.Generator(), gan.Discriminator(), device=device)
    real = iter([mg.rand(64, 1, 28, 28, device=device) * 2 - 1])
    losses = trainer.train_round(real)
    return losses, [p.numpy() for p in trainer.generator.parameters()]


def test_a_float32_dcgan_round_on_the_gpu_matches_the_cpu_to_float32_rounding():
    (gpu_losses, gpu_params), (cpu_losses, cpu_params) = _dcgan_round("cuda"), _dcgan_round("cpu")
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4)
    for got, expected in zip(gpu_params, cpu_params):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)


def test_the_gpu_benchmark_runs(capsys):
    import bench_gpu
    sys.argv = ["bench_gpu.py", "--quick"]
    bench_gpu.main()
    assert "HMM score 100k steps" in capsys.readouterr().out
