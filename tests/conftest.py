"""Shared fixtures: the devices to run on, hypothesis profiles, and the tests' import path."""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import minigen

sys.path.insert(0, os.path.dirname(__file__))  # tests/strategies.py, tests/op_specs.py
import strict_cupy  # noqa: E402

# "ci" (default): deterministic examples, so a red run is reproducible. "explore": more,
# random examples to hunt for new failures: MINIGEN_HYPOTHESIS_PROFILE=explore pytest
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                 HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("explore", parent=settings.get_profile("ci"), max_examples=300, derandomize=False)
settings.load_profile(os.environ.get("MINIGEN_HYPOTHESIS_PROFILE", "ci"))

# Without a GPU, the cuda variants run on a strict stand-in for CuPy (tests/strict_cupy.py): NumPy
# underneath, only CuPy's names, CuPy's refusals, two simulated devices. It proves placement and API
# use, not GPU numerics (docs/gpu.md). With a GPU they run on it; "cuda:1" needs a second one.
REAL_CUDA = minigen.cuda_is_available()
ONE_GPU = "a second GPU is needed for the cuda:1 variant"
CUDA_DEVICES = ["cuda:0", pytest.param("cuda:1", marks=pytest.mark.skipif(
    REAL_CUDA and minigen.backend.cuda_device_count() < 2, reason=ONE_GPU))]
DEVICES = ["cpu"] + CUDA_DEVICES


def on_device(request, device):
    """Install the CuPy stand-in for this test when ``device`` is a GPU and there is no real one."""
    if device != "cpu" and not REAL_CUDA:
        strict_cupy.install(minigen.backend, n_devices=2)
        request.addfinalizer(lambda: strict_cupy.uninstall(minigen.backend))
    return device


@pytest.fixture(params=DEVICES)
def device(request):
    """Each test that takes ``device`` runs on "cpu", "cuda:0" and "cuda:1" (a GPU, or the stand-in)."""
    return on_device(request, request.param)


@pytest.fixture(params=CUDA_DEVICES)
def cuda(request):
    """A test that only makes sense on a GPU runs on "cuda:0" and "cuda:1" (a GPU, or the stand-in)."""
    return on_device(request, request.param)


@pytest.fixture
def standin(request):
    """Two simulated GPUs for this test (skipped on a machine with a real GPU)."""
    if REAL_CUDA:
        pytest.skip("a real GPU is here: the stand-in is for machines without one")
    return on_device(request, "cuda:0")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random stream."""
    minigen.manual_seed(0)
