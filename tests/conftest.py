"""Shared fixtures: the devices to run on, hypothesis profiles, and the tests' import path."""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

import minigen

sys.path.insert(0, os.path.dirname(__file__))  # tests/strategies.py, tests/op_specs.py

# "ci" (default): deterministic examples, so a red run is reproducible. "explore": more,
# random examples to hunt for new failures: MINIGEN_HYPOTHESIS_PROFILE=explore pytest
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                 HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("explore", parent=settings.get_profile("ci"), max_examples=300, derandomize=False)
settings.load_profile(os.environ.get("MINIGEN_HYPOTHESIS_PROFILE", "ci"))

NO_CUDA = "CUDA is not available here (CuPy not installed, or no GPU): the cuda variants are skipped"
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not minigen.cuda_is_available(), reason=NO_CUDA)]),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each test that takes ``device`` runs on "cpu" and, when CuPy sees a GPU, on "cuda"."""
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random stream."""
    minigen.manual_seed(0)
