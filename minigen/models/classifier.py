"""A small CNN for 28x28 digits: two conv-ReLU-pool blocks, a hidden layer, dropout.

Used by demos/mnist_classifier.py and by the judge that scores generated digits.
"""
import numpy as np

import minigen
from minigen import nn, optim
from minigen.data import DataLoader
from minigen.nn import functional as F
from minigen.models.training import train_epoch


class DigitClassifier(nn.Module):
    """x: (N, 1, 28, 28) with values in [0, 1] -> logits (N, 10)."""

    def __init__(self, hidden=128, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 14 x 14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))   # 64 x 7 x 7
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, 10))

    def forward(self, x):
        return self.head(self.features(x))


def as_input(images):
    """uint8 (N, 28, 28) or floats in [0, 1] of shape (N, 28, 28) / (N, 1, 28, 28) -> float32 (N, 1, 28, 28)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"expected digits of shape (N, 28, 28) or (N, 1, 28, 28), got {images.shape}")
    return images.astype(np.float32, copy=False)


def train_classifier(images, labels, epochs=15, batch_size=64, lr=1e-3, seed=0, device="cpu", show_progress=True):
    """Fit a DigitClassifier with Adam and cross-entropy; returns (model, per-epoch mean losses)."""
    minigen.manual_seed(seed)
    model = DigitClassifier().to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(as_input(images), np.asarray(labels, dtype=np.int64), batch_size=batch_size, shuffle=True,
                        seed=seed, device=device)
    losses = [train_epoch(model, loader, opt, lambda x, y: (F.cross_entropy(model(x), y),),
                          f"epoch {epoch + 1}/{epochs}", show_progress)[0] for epoch in range(epochs)]
    return model, losses


@minigen.no_grad()
def predict_logits(model, images, batch_size=500, device="cpu"):
    """Logits (N, 10) as a NumPy array, in eval mode."""
    model.eval()
    inputs = as_input(images)
    return np.concatenate([model(minigen.tensor(inputs[i:i + batch_size], device=device)).numpy()
                           for i in range(0, len(inputs), batch_size)])
