"""Batch normalization in training mode as one Function, with the closed-form backward.

Per channel (dim 1), with the batch's mean and biased variance over every other dim (M values):

    xhat = (x - mean) / sqrt(var + eps),    y = xhat * weight + bias
    dL/dbias = sum g,    dL/dweight = sum g xhat,
    dL/dx = weight / sqrt(var + eps) * (g - (sum g) / M - xhat (sum g xhat) / M)

Composed from mean, var, -, * and +, the same layer makes more than twice as many passes
over the data in its backward, and mixes memory layouts (docs/performance.md). The backward
is written with Tensor ops, so it can be differentiated again: when it is recorded
(create_graph=True), it recomputes xhat from x with Tensor ops, so that the graph sees how
xhat depends on x; otherwise it reuses the forward's arrays.
"""
from minigen import backend
from minigen.autograd import Function, Tensor, is_grad_enabled
from minigen.ops.elementwise import sqrt
from minigen.ops.reduce import mean, sum, var
from minigen.ops.shape import reshape


class BatchNorm(Function):
    def forward(self, x, weight, bias, centered, batch_var, eps):
        """x: (N, C, ...); weight, bias: (C,); centered = x - the batch's mean, and the batch's
        variance batch_var (1, C, 1, ...), both computed once by the caller."""
        self.eps = eps
        self.inv_std = 1 / backend.array_module(x).sqrt(batch_var + eps)
        self.xhat = centered * self.inv_std
        return self.xhat * weight.reshape(batch_var.shape) + bias.reshape(batch_var.shape)

    def backward(self, gy):
        x, weight, _ = self.inputs
        dims = (0,) + tuple(range(2, x.ndim))
        if is_grad_enabled():
            xhat, inv_std = _normalized(x, dims, self.eps)
        else:
            xhat, inv_std = Tensor(self.xhat), Tensor(self.inv_std)
        g_bias = sum(gy, dims, keepdim=True)                     # dL/dbias = sum g
        g_weight = sum(gy * xhat, dims, keepdim=True)            # dL/dweight = sum g xhat
        count = x.numel() // x.shape[1]
        scale = reshape(weight, g_bias.shape) * inv_std
        gx = scale * (gy - g_bias / count - xhat * (g_weight / count))  # weight / sigma (g - mean g - xhat mean g xhat)
        return gx, reshape(g_weight, weight.shape), reshape(g_bias, weight.shape)


def _normalized(x, dims, eps):
    """xhat and 1 / sqrt(var + eps) computed from x with Tensor ops."""
    inv_std = 1 / sqrt(var(x, dims, keepdim=True, correction=0) + eps)
    return (x - mean(x, dims, keepdim=True)) * inv_std, inv_std
