"""PyTorch's type promotion and the default dtype (issue 14, item 5), as a written table and,
where PyTorch is installed, against every pair of dtypes and operand ranks."""
import itertools

import numpy as np
import pytest

import minigen as mg

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def operand(kind, dtype):
    """A Tensor with dimensions, a 0-d Tensor, or a Python number of that dtype's kind."""
    if kind == "number":
        return {"b": True, "u": 3, "i": 3, "f": 2.5}[np.dtype(dtype).kind]
    return mg.ones(*((2,) if kind == "tensor" else ()), dtype=dtype)


@pytest.mark.parametrize("a, b, expected", [
    (mg.arange(3), mg.ones(3), mg.float32),                                  # int64 + float32
    (mg.ones(3), mg.tensor(2.0, dtype=mg.float64), mg.float32),            # a 0-d tensor does not widen
    (mg.arange(3), 2.5, mg.float32),                                         # an int tensor and a float
    (mg.ones(3, dtype=mg.float16), 2.5, mg.float16),                         # a number never widens
    (mg.ones(3, dtype=mg.float16), mg.tensor(2, dtype=mg.int64), mg.float16),
    (mg.arange(3, dtype=mg.int32), mg.tensor(2, dtype=mg.int64), mg.int32),
    (mg.arange(3, dtype=mg.int32), mg.tensor(2.0, dtype=mg.float64), mg.float64),  # a higher category does
    (mg.tensor(np.array([1], np.uint8)), mg.tensor(np.array([1], np.int8)), mg.int16),
    (mg.tensor([True]), 3, mg.int64),
])
def test_the_promotion_table(a, b, expected):
    assert (a + b).dtype == expected and (b + a).dtype == expected


def test_uint8_images_divided_by_255_are_float32():
    images = mg.tensor(np.full((2, 2), 255, np.uint8))
    assert (images / 255).dtype == mg.float32 and (images / 255).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_float_functions_of_integers_give_the_default_dtype():
    assert mg.arange(3).exp().dtype == mg.float32 and mg.arange(1, 3).sqrt().dtype == mg.float32


def test_the_default_dtype_is_float32_and_can_be_changed():
    assert mg.get_default_dtype() == mg.float32
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.randn(2).dtype == mg.float64
        assert (mg.arange(3) / 2).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.zeros(1).dtype == mg.float32


def test_the_default_dtype_must_be_floating():
    with pytest.raises(TypeError, match="only floating dtypes can be the default, got int64"):
        mg.set_default_dtype(mg.int64)


@pytest.mark.parametrize("ranks", [("tensor", "tensor"), ("tensor", "0-d"), ("tensor", "number"),
                                   ("0-d", "0-d"), ("0-d", "number")])
def test_every_pair_of_dtypes_promotes_as_in_pytorch(ranks):
    torch = pytest.importorskip("torch")
    for a, b in itertools.product(DTYPES, repeat=2):
        x, y = operand(ranks[0], a), operand(ranks[1], b)
        tx = torch.ones((2,) if ranks[0] == "tensor" else (), dtype=getattr(torch, a)) if ranks[0] != "number" else x
        ty = torch.ones((2,) if ranks[1] == "tensor" else (), dtype=getattr(torch, b)) if ranks[1] != "number" else y
        expected = str(torch.result_type(tx, ty)).removeprefix("torch.")
        assert str(mg.result_type(x, y)) == expected, f"{ranks}: {a} with {b}"
        assert str((x * y).dtype) == expected.replace("bool", "bool"), f"{ranks}: {a} * {b}"
