"""Mini-batches of aligned arrays, as minigen tensors on a device.

    loader = DataLoader(images, labels, batch_size=128, shuffle=True, seed=0, device="cuda",
                        transform=lambda x, y: (x.astype(np.float32) / 255, y))
    for epoch in range(10):
        for x, y in loader:          # x: (128, 28, 28) float32, y: (128,) int64, on "cuda:0"
            ...
"""
import numpy as np

from minigen import backend
from minigen.autograd import Tensor
from minigen.checks import check_int


class DataLoader:
    """Iterate over ``arrays`` in batches of ``batch_size`` rows, one tuple of Tensors per batch.

    arrays: NumPy arrays (or Tensors, copied to the host once) with the same first
    dimension N; row i of each belongs together. batch_size: rows per batch; the last
    batch is smaller unless ``drop_last``. shuffle: a new order every epoch, drawn from
    ``numpy.random.default_rng(seed)`` (the same seed gives the same batches on every
    run) or, when seed is None, from minigen's stream (``minigen.manual_seed``).
    device: where the batches go. transform: ``transform(*batches)`` maps the NumPy
    batches to a tuple of arrays or Tensors (or one of them) before they become tensors
    (to scale uint8 pixels to float32, say).
    Yields tuples of Tensors that keep the arrays' dtypes (after ``transform``).
    ``len(loader)`` is the number of batches per epoch.

    Raises TypeError for an argument that is not an array, ValueError for arrays of
    different lengths or a batch_size below 1, RuntimeError for a CUDA device that is missing;
    while iterating, TypeError for a transform output that is not array-like.
    """

    def __init__(self, *arrays, batch_size, shuffle=False, drop_last=False, seed=None, device="cpu",
                 transform=None):
        if not arrays:
            raise TypeError("DataLoader: give at least one array")
        for i, array in enumerate(arrays):
            if not (isinstance(array, Tensor) or backend.is_array(array)) or array.ndim == 0:
                raise TypeError(f"DataLoader: argument {i} must be an array or Tensor with at least one dimension, "
                                f"got {type(array).__name__}")
        lengths = [len(array) for array in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"DataLoader: all arrays must have the same length (first dimension), got {lengths}")
        check_int("DataLoader", "batch_size", batch_size, expected="a positive integer")
        if seed is not None:
            check_int("DataLoader", "seed", seed, lowest=0, expected="None or a non-negative integer")
        self.arrays = [backend.to_host(array.data if isinstance(array, Tensor) else array) for array in arrays]
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.device = backend.canonical_device(device)
        self.transform = transform
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.num_samples = lengths[0]

    def __len__(self):
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        if self.shuffle:
            order = (self.rng or backend.host_rng()).permutation(self.num_samples)
        else:
            order = np.arange(self.num_samples)
        for batch in range(len(self)):
            rows = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            arrays = tuple(array[rows] for array in self.arrays)  # fancy indexing copies: batches never alias
            if self.transform is not None:
                arrays = _transformed(self.transform, arrays)
            yield tuple(Tensor(backend.to_device(array, self.device)) for array in arrays)


def _transformed(transform, arrays):
    """The arrays that ``transform(*arrays)`` returns: one or a tuple of arrays or Tensors (unwrapped)."""
    outputs = transform(*arrays)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return tuple(_as_array(output, position) for position, output in enumerate(outputs))


def _as_array(output, position):
    """A transform's output as an array; TypeError naming its position when it is not array-like."""
    array = output.data if isinstance(output, Tensor) else output
    try:
        array = array if backend.is_array(array) else np.asarray(array)
    except ValueError:  # a ragged list
        array = None
    if array is None or array.dtype.kind == "O":
        raise TypeError(f"DataLoader: transform output {position} is a {type(output).__name__} that is not "
                        "array-like (NumPy would make it an array of Python objects); return arrays or Tensors")
    return array
