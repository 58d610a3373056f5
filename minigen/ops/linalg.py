"""Linear algebra: matmul (NumPy's rules: batched, broadcast, 1-D cases) and dot."""
from minigen import backend
from minigen.autograd import Function
from minigen.ops.elementwise import _pair
from minigen.ops.shape import broadcast_shape, reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    def forward(self, a, b):
        if a.ndim > 1 and b.ndim > 1 and a.shape[-1] == 1 == b.shape[-2]:  # an outer product: BLAS is 20x slower
            return a * b
        return backend.array_module(a).matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        # Promote 1-D operands to matrices, (n,) -> (1, n) for a and (n, 1) for b,
        # and give gy the matching singleton dims; then C = A B gives the two products below.
        a2 = a if a.ndim > 1 else unsqueeze(a, 0)
        b2 = b if b.ndim > 1 else unsqueeze(b, 1)
        g2 = gy if b.ndim > 1 else unsqueeze(gy, -1)
        g2 = g2 if a.ndim > 1 else unsqueeze(g2, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(g2 @ transpose(b2), a2.shape)  # dL/dA = dL/dC B^T
            ga = ga if a.ndim > 1 else reshape(ga, a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(transpose(a2) @ g2, b2.shape)  # dL/dB = A^T dL/dC
            gb = gb if b.ndim > 1 else reshape(gb, b.shape)
        return ga, gb


class Dot(Function):
    def forward(self, a, b):
        return backend.array_module(a).dot(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * a  # d(a.b)/da = b, d(a.b)/db = a


def matmul(input, other):
    """input @ other with NumPy's rules: (..., n, k) @ (..., k, m), batch dims broadcast; a 1-D
    operand is a row (on the left) or a column (on the right) vector, its dim dropped after."""
    a, b = _pair(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dim, got shapes {a.shape} and {b.shape}")
    k_a, k_b = a.shape[-1], b.shape[-2 if b.ndim > 1 else 0]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align: {k_a} != {k_b}")
    broadcast_shape(a.shape[:-2], b.shape[:-2], f"matmul of {a.shape} and {b.shape}, batch dims")
    return MatMul.apply(a, b)


def dot(input, tensor):
    """Inner product of two 1-D tensors of one length."""
    a, b = _pair(input, tensor)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: expected two 1-D tensors of one length, got shapes {a.shape} and {b.shape}")
    return Dot.apply(a, b)
