"""Convolution: the adjoint identities, PyTorch as an oracle, and clear errors."""
import numpy as np
import pytest

import minigen as mg

rng = np.random.default_rng(0)


def t(*shape):
    return mg.tensor(rng.standard_normal(shape), dtype=mg.float64)


def inner(a, b):
    return float((a.numpy() * b.numpy()).sum())


GEOMETRIES = [  # (input size, kernel, stride, padding, dilation, output_padding that restores the size)
    ((7, 6), (3, 2), (1, 1), (0, 0), (1, 1), (0, 0)),
    ((28, 28), (4, 4), (2, 2), (1, 1), (1, 1), (0, 0)),
    ((9, 8), (3, 3), (2, 3), (1, 0), (2, 1), (0, 2)),
    ((5, 5), (2, 2), (1, 1), (1, 1), (2, 2), (0, 0)),
]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation, output_padding", GEOMETRIES)
def test_conv_transpose_is_the_adjoint_of_conv(size, kernel, stride, padding, dilation, output_padding):
    x, w = t(2, 3, *size), t(4, 3, *kernel)
    y = t(*mg.conv2d(x, w, None, stride, padding, dilation).shape)
    back = mg.conv_transpose2d(y, w, None, stride, padding, output_padding, 1, dilation)
    assert back.shape == x.shape
    assert inner(mg.conv2d(x, w, None, stride, padding, dilation), y) == pytest.approx(inner(x, back), rel=1e-12)


@pytest.mark.parametrize("size, kernel, stride, padding, dilation, output_padding", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(size, kernel, stride, padding, dilation, output_padding):
    x = t(2, 3, *size)
    cols = mg.im2col(x, kernel, stride, dilation)
    c = t(*cols.shape)
    assert inner(cols, c) == pytest.approx(inner(x, mg.col2im(c, x.shape, kernel, stride, dilation)), rel=1e-12)


def test_conv_backward_is_conv_transpose():
    x, w = t(2, 3, 8, 8), t(5, 3, 3, 3)
    x.requires_grad_()
    gy = t(2, 5, 4, 4)
    (gx,) = mg.grad(mg.conv2d(x, w, None, 2, 1), x, grad_outputs=gy)
    np.testing.assert_allclose(gx.numpy(), mg.conv_transpose2d(gy, w, None, 2, 1, 1).numpy(), rtol=1e-12)


def test_gradient_penalty_through_a_conv_critic_is_twice_differentiable():
    """The WGAN-GP term ||d D(x)/dx||^2 differentiated with respect to the critic's weights."""
    w1, w2 = t(3, 1, 3, 3).requires_grad_(), t(1, 3, 3, 3).requires_grad_()
    x = t(2, 1, 6, 6).requires_grad_()

    def penalty(w1, w2):
        critic = mg.conv2d(mg.leaky_relu(mg.conv2d(x, w1, None, 2, 1), 0.2), w2, None, 1, 0).sum()
        (gx,) = mg.grad(critic, x, create_graph=True)
        return ((gx * gx).sum(dim=(1, 2, 3)).sqrt() - 1) ** 2

    assert mg.gradcheck(penalty, [w1, w2])


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels \(shape \(1, 3, 8, 8\)\) but the weight "
                                         r"of shape \(4, 2, 3, 3\) with groups=1 expects 2"):
        mg.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: input of spatial size \(2, 2\) with padding \(0, 0\) is smaller "
                                         r"than the kernel \(3, 3\)"):
        mg.conv2d(mg.randn(1, 1, 2, 2), mg.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\), got shape \(8, 8\)"):
        mg.max_pool2d(mg.randn(8, 8), 2)
    with pytest.raises(ValueError, match="output_padding"):
        mg.conv_transpose2d(mg.randn(1, 2, 3, 3), mg.randn(2, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="bias of shape"):
        mg.conv2d(mg.randn(1, 1, 4, 4), mg.randn(2, 1, 3, 3), mg.randn(3))


@pytest.mark.parametrize("call, message", [
    (lambda: mg.max_pool2d(mg.randn(1, 1, 4, 4), 2, stride=0), "max_pool2d: stride must be at least 1, got 0"),
    (lambda: mg.avg_pool2d(mg.randn(1, 1, 4, 4), 0), "avg_pool2d: kernel_size must be at least 1, got 0"),
    (lambda: mg.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 2, 2), stride=(1, 0)),
     r"conv2d: stride must be at least 1, got \(1, 0\)"),
    (lambda: mg.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 2, 2), dilation=0), "conv2d: dilation must be at least 1"),
    (lambda: mg.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 2, 2), padding=-1), "conv2d: padding must be at least 0"),
    (lambda: mg.conv2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 0, 2)),
     r"conv2d: the weight of shape \(1, 1, 0, 2\) has an empty kernel"),
    (lambda: mg.conv_transpose2d(mg.randn(1, 1, 4, 4), mg.randn(1, 1, 2, 2), padding=-1),
     "conv_transpose2d: padding must be at least 0, got -1"),
    (lambda: mg.im2col(mg.randn(1, 1, 4, 4), 2, stride=0), "im2col: stride must be at least 1, got 0"),
    (lambda: mg.col2im(mg.randn(4, 9), (1, 1, 4, 4), 2, dilation=0), "col2im: dilation must be at least 1, got 0"),
])
def test_settings_out_of_range_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_max_pool_splits_the_gradient_among_ties():
    x = mg.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    mg.max_pool2d(x, 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[[1 / 3, 1 / 3], [0.0, 1 / 3]]]])


class TestAgainstPyTorch:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def _compare(self, ours, theirs, *shapes):
        arrays = [rng.standard_normal(s) for s in shapes]
        mine = [mg.tensor(a, requires_grad=True) for a in arrays]
        ref = [self.torch.tensor(a, requires_grad=True) for a in arrays]
        y, y_ref = ours(*mine), theirs(*ref)
        gy = rng.standard_normal(tuple(y_ref.shape))
        grads = mg.grad(y, mine, grad_outputs=mg.tensor(gy))
        grads_ref = self.torch.autograd.grad(y_ref, ref, self.torch.tensor(gy))
        np.testing.assert_allclose(y.numpy(), y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        for g, g_ref in zip(grads, grads_ref):
            np.testing.assert_allclose(g.numpy(), g_ref.numpy(), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((2, 1), (1, 0), (1, 2))])
    def test_conv2d(self, stride, padding, dilation):
        self._compare(lambda x, w, b: mg.conv2d(x, w, b, stride, padding, dilation),
                      lambda x, w, b: self.F.conv2d(x, w, b, stride, padding, dilation), (2, 3, 9, 8), (4, 3, 3, 2), (4,))

    @pytest.mark.parametrize("stride, padding, output_padding, dilation", [(2, 1, 0, 1), (2, 1, 1, 1), ((2, 3), (1, 0), (1, 2), 1),
                                                                           (1, 0, 1, 2)])
    def test_conv_transpose2d(self, stride, padding, output_padding, dilation):
        self._compare(lambda x, w, b: mg.conv_transpose2d(x, w, b, stride, padding, output_padding, 1, dilation),
                      lambda x, w, b: self.F.conv_transpose2d(x, w, b, stride, padding, output_padding, 1, dilation),
                      (2, 3, 5, 4), (3, 2, 4, 3), (2,))

    @pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), ((2, 3), 1, (1, 1))])
    def test_pooling(self, kernel, stride, padding):
        self._compare(lambda x: mg.max_pool2d(x, kernel, stride, padding),
                      lambda x: self.F.max_pool2d(x, kernel, stride, padding), (2, 3, 7, 6))
        self._compare(lambda x: mg.avg_pool2d(x, kernel, stride, padding),
                      lambda x: self.F.avg_pool2d(x, kernel, stride, padding), (2, 3, 7, 6))

    @pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 1, 1, 2), (2, 0, (1, 2), 3), (1, "same", 1, 3),
                                                                   (1, "same", (2, 1), 1), (1, "valid", 1, 6)])
    def test_conv2d_groups_and_padding_strings(self, stride, padding, dilation, groups):
        self._compare(lambda x, w, b: mg.conv2d(x, w, b, stride, padding, dilation, groups),
                      lambda x, w, b: self.F.conv2d(x, w, b, stride, padding, dilation, groups),
                      (2, 6, 7, 6), (6, 6 // groups, 4, 3), (6,))

    @pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", [(2, 1, 1, 2, 1), (1, 0, 1, 3, 2)])
    def test_conv_transpose2d_groups(self, stride, padding, output_padding, groups, dilation):
        self._compare(lambda x, w, b: mg.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
                      lambda x, w, b: self.F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups,
                                                              dilation),
                      (2, 6, 5, 4), (6, 2, 3, 3), (2 * groups,))

    @pytest.mark.parametrize("padding, groups", [("same", 2), (1, 2)])
    def test_conv2d_layer_groups_and_same(self, padding, groups):
        mg.manual_seed(0)
        ours = mg.nn.Conv2d(4, 6, 3, 1, padding, 1, groups).double()
        theirs = self.torch.nn.Conv2d(4, 6, 3, 1, padding, 1, groups).double()
        with self.torch.no_grad():
            theirs.weight.copy_(self.torch.tensor(ours.weight.numpy()))
            theirs.bias.copy_(self.torch.tensor(ours.bias.numpy()))
        x = rng.standard_normal((2, 4, 5, 6))
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(self.torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)

    def test_max_pool2d_dilation(self):
        self._compare(lambda x: mg.max_pool2d(x, 3, 1, 1, 2), lambda x: self.F.max_pool2d(x, 3, 1, 1, 2), (2, 3, 7, 6))


def test_grouped_conv_is_one_conv_per_group():
    """groups=2: the first half of the outputs sees only the first half of the channels."""
    x, w = t(1, 4, 5, 5), t(6, 2, 3, 3)
    grouped = mg.conv2d(x, w, None, 1, 0, 1, 2).numpy()
    np.testing.assert_allclose(grouped[:, :3], mg.conv2d(x[:, :2], w[:3]).numpy(), rtol=1e-12)
    np.testing.assert_allclose(grouped[:, 3:], mg.conv2d(x[:, 2:], w[3:]).numpy(), rtol=1e-12)


def test_padding_same_keeps_the_size_and_pads_the_odd_zero_after():
    """A (1, 2) kernel of ones: each output is the pixel plus its right neighbour (0 past the edge)."""
    x = mg.tensor([[[[1.0, 2.0, 4.0]]]])
    y = mg.conv2d(x, mg.ones(1, 1, 1, 2), padding="same")
    np.testing.assert_array_equal(y.numpy(), [[[[3.0, 6.0, 4.0]]]])


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.conv2d(mg.randn(1, 4, 5, 5), mg.randn(2, 2, 3, 3), stride=2, padding="same", groups=2), ValueError,
     "conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: mg.conv2d(mg.randn(1, 4, 5, 5), mg.randn(2, 2, 3, 3), padding="full", groups=2), ValueError,
     "conv2d: padding must be 'valid', 'same', an int or a pair of ints, got 'full'"),
    (lambda: mg.conv2d(mg.randn(1, 4, 5, 5), mg.randn(3, 2, 3, 3), groups=2), ValueError,
     r"conv2d: groups=2 must divide the input's 4 channels and the 3 of the weight's dim 0"),
    (lambda: mg.conv2d(mg.randn(1, 4, 5, 5), mg.randn(2, 4, 3, 3), groups=2), ValueError,
     r"conv2d: input has 4 channels .* with groups=2 expects 8"),
    (lambda: mg.conv2d(mg.randn(1, 4, 5, 5), mg.randn(2, 4, 3, 3), groups=0), ValueError,
     "conv2d: groups must be a positive int, got 0"),
    (lambda: mg.nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: mg.nn.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels must be divisible by groups"),
    (lambda: mg.nn.Conv2d(4, 4, 3, padding_mode="reflect"), NotImplementedError,
     "Conv2d: padding_mode='reflect' is not implemented"),
])
def test_groups_and_padding_strings_are_checked(call, error, message):
    with pytest.raises(error, match=message):
        call()
