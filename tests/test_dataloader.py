"""minigen.data.DataLoader: batches of aligned rows as tensors, shuffled reproducibly."""
import numpy as np
import pytest

import minigen
from minigen.data import DataLoader


@pytest.fixture
def data():
    """10 samples: images whose pixels all equal their index, and labels equal to 100 + index."""
    images = np.broadcast_to(np.arange(10, dtype=np.uint8)[:, None, None], (10, 2, 2)).copy()
    return images, np.arange(100, 110, dtype=np.int64)


def _indices(loader):
    return [labels.numpy() - 100 for _, labels in loader]


def test_batches_cover_every_row_in_order_with_a_smaller_last_batch(data):
    loader = DataLoader(*data, batch_size=4)
    assert [batch.tolist() for batch in _indices(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(loader) == 3


def test_drop_last_drops_the_incomplete_batch(data):
    loader = DataLoader(*data, batch_size=4, drop_last=True)
    assert [batch.tolist() for batch in _indices(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(loader) == 2


@pytest.mark.parametrize("batch_size, drop_last, expected", [(5, False, 2), (5, True, 2), (20, False, 1),
                                                             (20, True, 0), (1, False, 10), (3, True, 3)])
def test_len_is_the_number_of_batches(data, batch_size, drop_last, expected):
    loader = DataLoader(*data, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_batches_are_tuples_of_tensors_on_the_device_with_the_arrays_dtypes(data, device):
    (images, labels), = list(DataLoader(*data, batch_size=10, device=device))
    assert isinstance(images, minigen.Tensor) and images.dtype == np.uint8 and images.shape == (10, 2, 2)
    assert isinstance(labels, minigen.Tensor) and labels.dtype == np.int64
    assert images.device == labels.device == minigen.zeros(1, device=device).device


def test_one_array_still_gives_one_element_tuples(data):
    batches = list(DataLoader(data[1], batch_size=5))
    assert all(isinstance(batch, tuple) and len(batch) == 1 for batch in batches)


def test_the_transform_maps_numpy_batches_before_conversion(data):
    seen = []

    def scale(images, labels):
        seen.append((type(images), images.dtype))
        return images.astype(np.float32) / 255, labels

    images, labels = next(iter(DataLoader(*data, batch_size=3, transform=scale)))
    assert seen == [(np.ndarray, np.uint8)]
    assert images.dtype == np.float32 and np.allclose(images.numpy()[:, 0, 0], np.arange(3) / 255)
    assert labels.dtype == np.int64


def test_a_transform_may_return_one_array(data):
    (images,), = list(DataLoader(data[0], batch_size=10, transform=lambda images: images.reshape(10, 4)))
    assert images.shape == (10, 4)


def test_a_transform_may_return_tensors(data):
    images, labels = next(iter(DataLoader(*data, batch_size=3,
                                          transform=lambda x, y: (minigen.tensor(x / 255.0), minigen.tensor(y)))))
    assert images.dtype == np.float64 and np.allclose(images.numpy()[:, 0, 0], np.arange(3) / 255)
    assert labels.dtype == np.int64 and labels.tolist() == [100, 101, 102]


@pytest.mark.parametrize("bad", [{"a": 1}, [[1, 2], [3]], np.array([None, 1])], ids=["dict", "ragged", "object"])
def test_a_transform_output_that_is_not_array_like_is_named(data, bad):
    loader = DataLoader(*data, batch_size=3, transform=lambda x, y: (x, bad))
    with pytest.raises(TypeError, match=f"DataLoader: transform output 1 is a {type(bad).__name__} that is not "
                                        "array-like"):
        next(iter(loader))


def test_batches_are_copies_not_views_of_the_data(data):
    images, _ = next(iter(DataLoader(*data, batch_size=3)))
    images.data[:] = 99
    assert data[0][:3].max() == 2


def test_shuffle_keeps_rows_aligned_and_uses_every_row_once_per_epoch(data):
    for images, labels in DataLoader(*data, batch_size=3, shuffle=True, seed=1):
        np.testing.assert_array_equal(images.numpy()[:, 1, 1], labels.numpy() - 100)
    epoch = np.concatenate(_indices(DataLoader(*data, batch_size=3, shuffle=True, seed=1)))
    assert sorted(epoch.tolist()) == list(range(10)) and epoch.tolist() != list(range(10))


def test_each_epoch_draws_a_new_order(data):
    loader = DataLoader(*data, batch_size=10, shuffle=True, seed=0)
    first, second = (np.concatenate(_indices(loader)).tolist() for _ in range(2))
    assert first != second


def test_the_same_seed_gives_the_same_batches_every_run(data):
    def two_epochs(seed):
        loader = DataLoader(*data, batch_size=4, shuffle=True, seed=seed)
        return [batch.tolist() for _ in range(2) for batch in _indices(loader)]

    assert two_epochs(7) == two_epochs(7)
    assert two_epochs(7) != two_epochs(8)


def test_without_a_seed_the_order_follows_minigen_manual_seed(data):
    def epoch():
        return np.concatenate(_indices(DataLoader(*data, batch_size=10, shuffle=True))).tolist()

    minigen.manual_seed(3)
    first = epoch()
    minigen.manual_seed(3)
    assert epoch() == first


def test_tensors_are_accepted_as_data(data):
    images, labels = minigen.tensor(data[0]), minigen.tensor(data[1])
    (batch_images, batch_labels), = list(DataLoader(images, labels, batch_size=10))
    np.testing.assert_array_equal(batch_images.numpy(), data[0])
    np.testing.assert_array_equal(batch_labels.numpy(), data[1])


def test_arrays_of_different_lengths_raise_value_error_naming_them(data):
    with pytest.raises(ValueError, match=r"same length \(first dimension\), got \[10, 9\]"):
        DataLoader(data[0], data[1][:9], batch_size=2)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, None])
def test_batch_size_must_be_a_positive_integer(data, batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        DataLoader(*data, batch_size=batch_size)


@pytest.mark.parametrize("bad", [[1, 2, 3], np.float32(1.0), "images"])
def test_arguments_that_are_not_arrays_raise_type_error(bad):
    with pytest.raises(TypeError, match="argument 0 must be an array or Tensor"):
        DataLoader(bad, batch_size=2)


def test_a_bad_seed_raises_value_error(data):
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer, got -1"):
        DataLoader(*data, batch_size=2, seed=-1)


@pytest.mark.skipif(minigen.cuda_is_available(), reason="checks the error raised when there is no CUDA")
def test_a_missing_cuda_device_raises_runtime_error(data):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        DataLoader(*data, batch_size=2, device="cuda")
