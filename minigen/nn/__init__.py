"""Neural networks, with PyTorch's names: Module, Parameter, layers, losses; and
``minigen.nn.functional`` (the same as functions), ``minigen.nn.init``, ``minigen.nn.utils``.

    from minigen import nn
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.functional.cross_entropy(net(x), labels)
"""
from minigen.nn import functional, init, utils
from minigen.nn.conv_layers import (
    AdaptiveAvgPool2d, AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, MaxUnpool2d)
from minigen.nn.layers import (
    ELU, GELU, Dropout, Dropout2d, Embedding, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, SiLU,
    Softmax, Softplus, Tanh, Unflatten, Upsample)
from minigen.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from minigen.nn.module import Module, ModuleList, Parameter, Sequential
from minigen.nn.norm import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm
from minigen.suggest import suggesting_getattr

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "Identity", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "MaxUnpool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d",
    "InstanceNorm2d", "LayerNorm", "Dropout", "Dropout2d",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softplus", "GELU", "SiLU", "ELU", "Softmax", "LogSoftmax", "Flatten", "Unflatten", "Upsample", "Embedding",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "KLDivLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss"]

__getattr__ = suggesting_getattr(__name__, globals())
