"""Data for the demos: MNIST (a 5,000-digit subset that needs no network, or the full set), IDX files, batches.

    from minigen.data import DataLoader, load_mnist
    images, labels = load_mnist("train")              # uint8 (4000, 28, 28), int64 (4000,)
    loader = DataLoader(images, labels, batch_size=64, shuffle=True, seed=0)
"""
from minigen.data.idx import read_idx, write_idx
from minigen.data.loader import DataLoader
from minigen.data.mnist import load_mnist

__all__ = ["DataLoader", "load_mnist", "read_idx", "write_idx"]
