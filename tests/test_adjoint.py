"""Linear ops and their adjoints: <A x, y> = <x, A^T y>, and backward computes A^T y."""
import numpy as np
import pytest

import minigen as mg

rng = np.random.default_rng(0)


def t(*shape):
    return mg.tensor(rng.standard_normal(shape), dtype=mg.float64, requires_grad=True)


def inner(a, b):
    return float((a.numpy() * b.numpy()).sum())


CASES = {
    # name: (x shape, A, A^T, y shape)
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1), lambda y: y.permute(1, 2, 0), (4, 2, 3)),
    "transpose": ((3, 5), lambda x: x.transpose(0, 1), lambda y: y.transpose(0, 1), (5, 3)),
    "reshape": ((2, 6), lambda x: x.reshape(3, 4), lambda y: y.reshape(2, 6), (3, 4)),
    "broadcast_to vs sum_to": ((3, 1), lambda x: mg.broadcast_to(x, (2, 3, 4)), lambda y: mg.sum_to(y, (3, 1)),
                               (2, 3, 4)),
    "getitem vs index_scatter": ((5, 3), lambda x: x[[0, 4, 0, 2]], lambda y: mg.index_scatter(y, [0, 4, 0, 2], (5, 3)),
                                 (4, 3)),
    "boolean mask": ((2, 3), lambda x: x[np.array([[True, False, True], [False, True, True]])],
                     lambda y: mg.index_scatter(y, np.array([[True, False, True], [False, True, True]]), (2, 3)), (4,)),
    "pad vs slice": ((2, 3), lambda x: mg.pad(x, (1, 2, 0, 1)), lambda y: y[0:2, 1:4], (3, 6)),
    "flip": ((3, 4), lambda x: x.flip((0, 1)), lambda y: y.flip((0, 1)), (3, 4)),
    "cat vs split": ((2, 3), lambda x: mg.cat([x, x * 2], dim=1), lambda y: y[:, :3] + y[:, 3:] * 2, (2, 6)),
}


@pytest.mark.parametrize("name", CASES)
def test_adjoint_identity(name):
    x_shape, A, A_T, y_shape = CASES[name]
    x, y = t(*x_shape), t(*y_shape)
    assert inner(A(x), y) == pytest.approx(inner(x, A_T(y)), rel=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_backward_is_the_adjoint(name):
    x_shape, A, A_T, y_shape = CASES[name]
    x, y = t(*x_shape), t(*y_shape)
    (vjp,) = mg.grad(A(x), x, grad_outputs=y.detach())
    np.testing.assert_allclose(vjp.numpy(), A_T(y).numpy(), rtol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
                                              ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_adjoint_in_each_argument(a_shape, b_shape):
    a, b = t(*a_shape), t(*b_shape)
    y = t(*np.matmul(a.numpy(), b.numpy()).shape)
    ga, gb = mg.grad(a @ b, [a, b], grad_outputs=y.detach())
    # <A B, Y> = <A, Y B^T> = <B, A^T Y> summed over batches: check by the identity itself
    assert inner(a @ b, y) == pytest.approx(inner(a, ga), rel=1e-12)
    assert inner(a @ b, y) == pytest.approx(inner(b, gb), rel=1e-12)
