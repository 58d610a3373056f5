"""Neural networks, with PyTorch's names: Module, Parameter, layers, losses; and
``minigen.nn.functional`` (the same as functions), ``minigen.nn.init``, ``minigen.nn.utils``.

    from minigen import nn
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.functional.cross_entropy(net(x), labels)
"""
from minigen.nn import functional, init, utils
from minigen.nn.conv_layers import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d
from minigen.nn.layers import (
    Dropout, Embedding, Flatten, LeakyReLU, Linear, ReLU, Sigmoid, Softplus, Tanh, Unflatten, Upsample)
from minigen.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from minigen.nn.module import Module, ModuleList, Parameter, Sequential
from minigen.nn.norm import BatchNorm1d, BatchNorm2d

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softplus", "Flatten", "Unflatten", "Upsample", "Embedding",
    "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss"]
