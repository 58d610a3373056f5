"""Linear algebra: matmul (NumPy's rules: batched, broadcast, 1-D cases), mm, bmm, dot, einsum,
and the triangles of a matrix (tril, triu).

einsum's backward is einsum again: the gradient of an operand is the contraction of the output's
gradient with all the other operands, written to that operand's subscripts.
"""
import string

from minigen import backend
from minigen.autograd import Function, Tensor
from minigen.ops.elementwise import as_operands
from minigen.ops.shape import broadcast_shape, reshape, sum_to, transpose, unsqueeze


class MatMul(Function):
    def forward(self, a, b):
        return _matmul(a, b)  # C = A B, NumPy's rules

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


def _matmul(a, b):
    """xp.matmul(a, b) on raw arrays. An outer product (inner dimension 1, both at least 2-D) is
    computed as the broadcast product a * b, the same numbers: BLAS's path for it is slower
    (docs/performance.md, "Speed tricks in the forwards")."""
    if a.ndim > 1 and b.ndim > 1 and a.shape[-1] == 1 == b.shape[-2]:
        return a * b
    return backend.array_module(a).matmul(a, b)


class Dot(Function):
    def forward(self, a, b):
        return backend.array_module(a).dot(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * a  # d(a.b)/da = b, d(a.b)/db = a


def matmul(input, other):
    """input @ other with NumPy's rules: (..., n, k) @ (..., k, m), batch dims broadcast; a 1-D
    operand is a row (on the left) or a column (on the right) vector, its dim dropped after."""
    a, b = as_operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dim, got shapes {a.shape} and {b.shape}")
    k_a, k_b = a.shape[-1], b.shape[-2 if b.ndim > 1 else 0]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align: {k_a} != {k_b}")
    broadcast_shape(a.shape[:-2], b.shape[:-2], f"matmul of {a.shape} and {b.shape}, batch dims")
    return MatMul.apply(a, b)


def dot(input, tensor):
    """Inner product of two 1-D tensors of one length."""
    a, b = as_operands(input, tensor)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: expected two 1-D tensors of one length, got shapes {a.shape} and {b.shape}")
    return Dot.apply(a, b)


def mm(a, b):
    """The matrix product of a (n, k) and b (k, m); RuntimeError for other shapes (as PyTorch)."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: shapes {a.shape} and {b.shape} cannot be multiplied: {a.shape[1]} != {b.shape[0]}")
    return MatMul.apply(a, b)


def bmm(a, b):
    """Batched matrix products of a (B, n, k) and b (B, k, m), without broadcasting (as PyTorch)."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected two 3-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"bmm: shapes {a.shape} and {b.shape} do not fit: expected b of shape "
                           f"({a.shape[0]}, {a.shape[2]}, m)")
    return MatMul.apply(a, b)


# ------------------------------------------------------------------ einsum
class Einsum(Function):
    def forward(self, *operands, inputs, output):
        self.subscripts, self.output_subscripts = inputs, output
        equation = ",".join(inputs) + "->" + output
        return backend.array_module(operands[0]).einsum(equation, *operands, optimize=len(operands) > 2)

    def backward(self, gy):
        return tuple(self._operand_grad(gy, k) if needed else None for k, needed in enumerate(self.needs_input_grad))

    def _operand_grad(self, gy, k):
        """dL/dA_k = einsum of gy with every other operand, to A_k's subscripts (eq. of the module docstring).

        A letter repeated in A_k (a diagonal, as in "ii->") gets a fresh letter tied to it by an identity
        matrix; a letter that only A_k has (summed in A_k alone) is broadcast by a vector of ones."""
        x = self.inputs[k]
        fresh = iter(sorted(set(string.ascii_letters) - set("".join(self.subscripts) + self.output_subscripts)))
        target, extras = "", []
        for letter, n in zip(self.subscripts[k], x.shape):
            if letter in target:
                new = next(fresh)
                extras.append((letter + new, _constant(x, "eye", n)))
                letter = new
            target += letter
        others = [(s, t) for i, (s, t) in enumerate(zip(self.subscripts, self.inputs)) if i != k]
        terms = [(self.output_subscripts, gy)] + others + extras
        present = "".join(s for s, _ in terms)
        terms += [(letter, _constant(x, "ones", n)) for letter, n in zip(target, x.shape) if letter not in present]
        return _einsum([s for s, _ in terms], target, [t for _, t in terms])


def _constant(like, kind, n):
    """An n x n identity matrix or a vector of n ones, of like's dtype and device (no gradient)."""
    xp = backend.array_module(like.data)
    with backend.device_scope(like.device):
        return Tensor(xp.eye(n, dtype=like.dtype) if kind == "eye" else xp.ones(n, dtype=like.dtype))


def _einsum(inputs, output, operands):
    return Einsum.apply(*operands, inputs=tuple(inputs), output=output)


def einsum(equation, *operands):
    """Einstein summation, PyTorch's ``einsum("ij,jk->ik", a, b)`` (operands also as one list).
    Without "->" the output is the letters that appear once, in alphabetical order. Letters of one
    name must have one size. Raises NotImplementedError for an ellipsis ("...")."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise NotImplementedError("einsum: the ellipsis '...' is not implemented; name every dim with a letter")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    letters = "".join(inputs)
    if not arrow:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    _check_einsum(equation, inputs, output, operands)
    return _einsum(inputs, output, operands)


def _check_einsum(equation, inputs, output, operands):
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(inputs)} operands, got {len(operands)}")
    sizes = {}
    for k, (subscripts, x) in enumerate(zip(inputs, operands)):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum: operand {k} must be a Tensor, got {type(x).__name__}")
        if not all(c in string.ascii_letters for c in subscripts) or len(subscripts) != x.ndim:
            raise ValueError(f"einsum: operand {k} has shape {x.shape} but subscripts {subscripts!r} "
                             f"(one letter per dim)")
        for letter, n in zip(subscripts, x.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(f"einsum: subscript {letter!r} has size {sizes[letter]} and {n} in {equation!r}")
    if len(set(output)) != len(output) or not set(output) <= set(sizes):
        raise ValueError(f"einsum: output subscripts {output!r} must be distinct letters of the inputs")


# ------------------------------------------------------------------ triangles
class Triangle(Function):
    def forward(self, x, diagonal, upper):
        self.diagonal, self.upper = diagonal, upper
        xp = backend.array_module(x)
        return (xp.triu if upper else xp.tril)(x, diagonal)

    def backward(self, gy):
        return Triangle.apply(gy, diagonal=self.diagonal, upper=self.upper)  # a mask is its own adjoint


def _triangle(x, diagonal, upper):
    if x.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: expected a tensor of at least 2 dims, got shape {x.shape}")
    if not isinstance(diagonal, int) or isinstance(diagonal, bool):
        raise TypeError(f"{'triu' if upper else 'tril'}: diagonal must be an int, got {diagonal!r}")
    return Triangle.apply(x, diagonal=diagonal, upper=upper)


def tril(x, diagonal=0):
    """The lower triangle of the last two dims: elements with column - row <= diagonal; the rest 0."""
    return _triangle(x, diagonal, upper=False)


def triu(x, diagonal=0):
    """The upper triangle of the last two dims: elements with column - row >= diagonal; the rest 0."""
    return _triangle(x, diagonal, upper=True)
