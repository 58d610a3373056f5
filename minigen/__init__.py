"""minigen: a from-scratch NumPy/CuPy engine for generative models, written to be read.

    import minigen
    x = minigen.randn(3, requires_grad=True)
    (x * x).sum().backward()      # x.grad == 2 x
"""
from minigen.autograd import Function, Tensor, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from minigen.backend import cuda_is_available, get_rng_state, manual_seed, set_rng_state
from minigen.dtypes import get_default_dtype, promote_types, result_type, set_default_dtype
from minigen.creation import (
    arange, bool_, empty, eye, float16, float32, float64, from_numpy, full, full_like, int8, int16, int32, int64,
    linspace, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, uint8, zeros, zeros_like)
from minigen.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigen.ops import *  # noqa: F401,F403  (add, mul, exp, sum, matmul, softmax, ...)
from minigen.ops import DIFFERENTIABLE, NOT_DIFFERENTIABLE
from minigen.serialization import load, save
from minigen import nn, optim  # noqa: E402  (above the core: they import it)

__version__ = "0.1.0"
