"""Optimizers and learning-rate schedules, with PyTorch's names: ``minigen.optim.Adam(model.parameters())``.

    optimizer = minigen.optim.SGD(params, lr=0.1, momentum=0.9)
    for x, y in data:
        optimizer.zero_grad()
        loss_fn(x, y).backward()
        optimizer.step()
"""
from minigen.optim import lr_scheduler
from minigen.optim.adagrad import Adagrad
from minigen.optim.adam import Adam, AdamW
from minigen.optim.optimizer import Optimizer
from minigen.optim.rmsprop import RMSprop
from minigen.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
