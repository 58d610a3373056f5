"""Checks of the engine's exercises: op backwards, broadcasting, the backward order, log_softmax,
im2col/col2im, batch norm and Adam. Each takes the candidate and raises CheckFailure when wrong.

References are imported here by name: the swap leaves this package alone, so these names
always hold minigen's own code while the candidate is installed everywhere else.
"""
import numpy as np

import minigen
from minigen.autograd import Tensor, grad
from minigen.autograd import topological_order as reference_topological_order
from minigen.exercises.checking import as_numpy, case, check_gradients, compare, fail, leaf
from minigen.nn import Parameter
from minigen.nn import functional as F
from minigen.nn.functional import batch_norm as reference_batch_norm
from minigen.ops.conv import Col2Im, Im2Col, conv2d, conv_transpose2d
from minigen.ops.reduce import LogSoftmax
from minigen.ops.shape import sum_to as reference_sum_to
from minigen.optim import Adam
from minigen.optim.adam import Adam as _Adam

REFERENCE_IM2COL, REFERENCE_COL2IM = Im2Col.forward, Col2Im.forward
REFERENCE_LOG_SOFTMAX, REFERENCE_ADAM_UPDATE = LogSoftmax.forward, _Adam.update


def _rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ Mul.backward, MatMul.backward
def mul_same_shapes(candidate):
    """gradcheck of x * y, both (3, 4)"""
    rng = _rng()
    check_gradients("x (3, 4) * y (3, 4)", lambda x, y: x * y, (leaf(rng, 3, 4), leaf(rng, 3, 4)))


def mul_broadcasting(candidate):
    """gradcheck of x * y with broadcasting: (3, 1) * (4,), (2, 3, 4) * (3, 1), 0-d * (2, 3)"""
    rng = _rng()
    for a, b in (((3, 1), (4,)), ((2, 3, 4), (3, 1)), ((), (2, 3))):
        check_gradients(f"x {a} * y {b}", lambda x, y: x * y, (leaf(rng, *a), leaf(rng, *b)))


def mul_second_order(candidate):
    """gradgradcheck of x * y (backward written with Tensor ops, so it can be differentiated)"""
    rng = _rng()
    check_gradients("second derivatives of x (3, 1) * y (4,)", lambda x, y: x * y,
                    (leaf(rng, 3, 1), leaf(rng, 4)), second=True)


def matmul_matrices(candidate):
    """gradcheck of a @ b for matrices (3, 4) @ (4, 2)"""
    rng = _rng()
    check_gradients("a (3, 4) @ b (4, 2)", lambda a, b: a @ b, (leaf(rng, 3, 4), leaf(rng, 4, 2)))


def matmul_batched(candidate):
    """gradcheck of batched and broadcast a @ b: (2, 3, 4) @ (4, 5), (3, 4) @ (2, 4, 5), (2, 1, 3, 4) @ (3, 4, 2)"""
    rng = _rng()
    for a, b in (((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2))):
        check_gradients(f"a {a} @ b {b}", lambda x, y: x @ y, (leaf(rng, *a), leaf(rng, *b)))


def matmul_vectors(candidate):
    """gradcheck of a @ b with 1-D operands: (4,) @ (4, 3), (3, 4) @ (4,), (2, 3, 4) @ (4,), (4,) @ (4,)"""
    rng = _rng()
    for a, b in (((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((4,), (4,))):
        check_gradients(f"a {a} @ b {b}", lambda x, y: x @ y, (leaf(rng, *a), leaf(rng, *b)))


def matmul_second_order(candidate):
    """gradgradcheck of a @ b, (2, 3) @ (3, 2)"""
    rng = _rng()
    check_gradients("second derivatives of a (2, 3) @ b (3, 2)", lambda a, b: a @ b,
                    (leaf(rng, 2, 3), leaf(rng, 3, 2)), second=True)


# ------------------------------------------------------------------ sum_to
SUM_TO_CASES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3), (1, 3)), ((2, 3), (2, 1)), ((4, 2, 3), (2, 1)),
                ((4, 2, 3), ()), ((5, 1, 3), (1, 1)), ((2, 3), (1,)), ((3, 1), (1, 1)), ((2, 3, 4), (3, 1))]


def sum_to_values(candidate):
    """values and shapes against the reference, for 10 pairs of shapes"""
    rng = _rng()
    for shape, target in SUM_TO_CASES:
        x = Tensor(rng.standard_normal(shape))
        with case(f"sum_to(x of shape {shape}, {target})"):
            compare("result", candidate(x, target), reference_sum_to(x, target),
                    hint=f"sum over the {len(shape) - len(target)} leading dims, then over the dims where "
                         "the target has size 1 and x has not (keeping them)")


def sum_to_gradients(candidate):
    """gradients of broadcasting ops flow back through it: gradcheck of sum_to and of x * y, x (3, 1), y (4,)"""
    rng = _rng()
    check_gradients("sum_to(x of shape (4, 2, 3), (2, 1))", lambda x: candidate(x, (2, 1)), (leaf(rng, 4, 2, 3),))
    check_gradients("x (3, 1) * y (4,), whose backward calls sum_to", lambda x, y: x * y,
                    (leaf(rng, 3, 1), leaf(rng, 4)))


# ------------------------------------------------------------------ topological_order
def _graphs():
    """(name, roots' grad_fns, the function of x) for a chain, a diamond, a shared subexpression, two outputs."""
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    a = x * 2
    diamond = a + (a.exp() * a)            # a feeds Add directly and through Exp and Mul
    shared = (x.sin() * x.sin()).sum()     # two nodes of one kind
    chain = x.tanh().exp().sin()
    y1, y2 = a.exp(), a * 3                # two outputs of one graph
    return x, [("a chain", {chain.grad_fn}), ("a diamond", {diamond.grad_fn}), ("a shared input", {shared.grad_fn}),
               ("two outputs", {y1.grad_fn, y2.grad_fn})], (chain, diamond, shared, y1, y2)


def _name(fn, order):
    return f"{type(fn).__name__} (position {order.index(fn)})"


def topological_properties(candidate):
    """every reachable node exactly once, each before the nodes that made its inputs (4 graphs)"""
    _, graphs, _keep_alive = _graphs()
    for name, roots in graphs:
        order, expected = list(candidate(set(roots))), reference_topological_order(set(roots))
        duplicated = {fn for fn in order if order.count(fn) > 1}
        if duplicated:
            fail(f"{name}: {type(duplicated.pop()).__name__} appears more than once: keep a set of visited nodes")
        if set(order) != set(expected):
            fail(f"{name}: the order has {len(order)} nodes, the graph {len(expected)} "
                 f"(missing: {sorted(type(f).__name__ for f in set(expected) - set(order))})")
        for fn in order:
            for x in fn.inputs:
                if x.grad_fn is not None and order.index(x.grad_fn) < order.index(fn):
                    fail(f"{name}: {_name(fn, order)} uses the output of {_name(x.grad_fn, order)}, so that "
                         "node must come later (its gradient is complete only after every user has sent its "
                         "share); a depth-first post-order, reversed, gives this order")


def topological_gradients(candidate):
    """backward through a diamond, a shared input and two outputs gives the right gradients"""
    x, _, (chain, diamond, shared, y1, y2) = _graphs()
    v = x.data
    a = 2 * v
    cases = [("a diamond", diamond, 2 + 2 * np.exp(a) * (a + 1)), ("a shared input", shared, 2 * np.sin(v) * np.cos(v)),
             ("two outputs", y1 + y2, 2 * np.exp(a) + 6)]
    for name, y, expected in cases:
        g, = grad(y.sum(), x, retain_graph=True)  # the cases share nodes
        compare(f"{name}: dy/dx", g, expected)


def topological_deep_chain(candidate):
    """a chain of 5,000 ops: no recursion limit, and backward still right"""
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    order = candidate({y.grad_fn})
    if len(order) != 5000:
        fail(f"a chain of 5000 ops gave an order of {len(order)} nodes")
    g, = grad(y, x)
    compare("d(1.0001^5000 x)/dx", g, 1.0001 ** 5000)


# ------------------------------------------------------------------ LogSoftmax.forward
def log_softmax_values(candidate):
    """values against x - ln sum exp(x) along dim, for (2, 5) dim -1 and dim 0, (3, 4, 5) dim 1"""
    rng = _rng()
    for shape, dim in (((2, 5), -1), ((2, 5), 0), ((3, 4, 5), 1)):
        x = rng.standard_normal(shape)
        expected = x - np.log(np.exp(x).sum(axis=dim, keepdims=True))
        compare(f"log_softmax(x of shape {shape}, dim={dim})", minigen.log_softmax(Tensor(x), dim), expected)


def log_softmax_stable(candidate):
    """no overflow: log_softmax([1000, 1001, 1002]) and log_softmax([-1000, -1001, -1002]) are finite"""
    for x in ([1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]):
        x = np.array(x)
        expected = (x - x.max()) - np.log(np.exp(x - x.max()).sum())
        compare(f"log_softmax({x.tolist()})", minigen.log_softmax(Tensor(x)), expected,
                hint="exp(1000) overflows: subtract the max along dim first (log_softmax(x) = log_softmax(x - c))")


def log_softmax_gradients(candidate):
    """gradcheck of log_softmax (the backward reads self.dim and the output you return)"""
    rng = _rng()
    for shape, dim in (((2, 5), -1), ((3, 4), 0)):
        check_gradients(f"log_softmax(x of shape {shape}, dim={dim})", lambda x: minigen.log_softmax(x, dim),
                        (leaf(rng, *shape),))


# ------------------------------------------------------------------ Im2Col.forward, Col2Im.forward
GEOMETRIES = [  # image shape, kernel, stride, dilation
    ((2, 3, 5, 5), (3, 3), (1, 1), (1, 1)), ((1, 2, 5, 6), (2, 3), (2, 1), (1, 1)),
    ((2, 1, 7, 7), (3, 3), (1, 1), (2, 2)), ((1, 2, 6, 5), (2, 2), (2, 2), (1, 2))]


def _geometry(image_shape, kernel, stride, dilation):
    grid = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(image_shape[2:], kernel, stride, dilation))
    return kernel, stride, dilation, grid


def _describe(image_shape, kernel, stride, dilation):
    return f"image {image_shape}, kernel {kernel}, stride {stride}, dilation {dilation}"


def im2col_values(candidate):
    """columns against the reference for 4 geometries (strides, dilations, non-square kernels)"""
    rng = _rng()
    for image_shape, *rest in GEOMETRIES:
        geometry = _geometry(image_shape, *rest)
        x = rng.standard_normal(image_shape)
        expected = REFERENCE_IM2COL(Im2Col(), x, geometry)
        got = as_numpy(Im2Col.apply(Tensor(x), geometry=geometry))
        compare(f"im2col of {_describe(image_shape, *rest)}", got, expected,
                hint="cols[(c kH + i) kW + j, (y Wo + x) N + n] = image[n, c, y sh + i dh, x sw + j dw]")


def im2col_gradients(candidate):
    """gradcheck of conv2d, which is built on im2col (forward must keep self.image_shape and self.geometry)"""
    rng = _rng()
    check_gradients("conv2d(x (2, 2, 5, 5), weight (3, 2, 3, 3), stride 2, dilation 1)",
                    lambda x, w: conv2d(x, w, stride=2), (leaf(rng, 2, 2, 5, 5), leaf(rng, 3, 2, 3, 3)))


def col2im_values(candidate):
    """images against the reference for 4 geometries (overlapping windows must be summed)"""
    rng = _rng()
    for image_shape, *rest in GEOMETRIES:
        geometry = _geometry(image_shape, *rest)
        (kh, kw), _, _, (ho, wo) = geometry
        cols = rng.standard_normal((image_shape[1] * kh * kw, ho * wo * image_shape[0]))
        expected = REFERENCE_COL2IM(Col2Im(), cols, image_shape, geometry)
        got = as_numpy(Col2Im.apply(Tensor(cols), image_shape=image_shape, geometry=geometry))
        compare(f"col2im of {_describe(image_shape, *rest)}", got, expected,
                hint="image[n, c, y sh + i dh, x sw + j dw] += cols[(c kH + i) kW + j, (y Wo + x) N + n]: "
                     "add (+=), do not assign, where windows overlap")


def col2im_adjoint(candidate):
    """col2im is the adjoint of im2col: <im2col(x), cols> = <x, col2im(cols)>"""
    rng = _rng()
    for image_shape, *rest in GEOMETRIES:
        geometry = _geometry(image_shape, *rest)
        x = rng.standard_normal(image_shape)
        x_cols = REFERENCE_IM2COL(Im2Col(), x, geometry)
        cols = rng.standard_normal(x_cols.shape)
        left, right = np.vdot(x_cols, cols), np.vdot(x, as_numpy(Col2Im.apply(Tensor(cols), image_shape=image_shape,
                                                                                 geometry=geometry)))
        if not np.isclose(left, right):
            fail(f"{_describe(image_shape, *rest)}: <im2col(x), cols> = {left:.6g} but <x, col2im(cols)> = "
                 f"{right:.6g}: each column entry must go back to the very pixel im2col took it from")


def col2im_gradients(candidate):
    """gradcheck of conv2d with respect to its input (its backward is col2im) and of conv_transpose2d"""
    rng = _rng()
    check_gradients("conv2d(x (1, 2, 5, 5), weight (2, 2, 3, 3)) with respect to x",
                    lambda x: conv2d(x, Tensor(np.ones((2, 2, 3, 3)))), (leaf(rng, 1, 2, 5, 5),))
    check_gradients("conv_transpose2d(x (1, 2, 3, 3), weight (2, 1, 3, 3), stride 2)",
                    lambda x, w: conv_transpose2d(x, w, stride=2), (leaf(rng, 1, 2, 3, 3), leaf(rng, 2, 1, 3, 3)))


# ------------------------------------------------------------------ batch_norm
def _batch_norm_inputs(rng, shape):
    channels = shape[1]
    return (leaf(rng, *shape) * 2 + 1, Tensor(rng.uniform(-1, 1, channels)), Tensor(rng.uniform(0.5, 2, channels)),
            leaf(rng, channels, low=0.5, high=1.5), leaf(rng, channels))


def batch_norm_training(candidate):
    """training mode on (6, 3) and (4, 3, 2, 2): output and running statistics against the reference"""
    rng = _rng()
    for shape in ((6, 3), (4, 3, 2, 2)):
        x, mean, var, weight, bias = _batch_norm_inputs(rng, shape)
        mean2, var2 = Tensor(mean.data.copy()), Tensor(var.data.copy())
        got = F.batch_norm(x, mean, var, weight, bias, training=True, momentum=0.1, eps=1e-5)
        expected = reference_batch_norm(x, mean2, var2, weight, bias, training=True, momentum=0.1, eps=1e-5)
        compare(f"batch_norm output for x {shape}", got, expected,
                hint="per channel (dim 1), over every other dim: mean, biased variance (divide by n), "
                     "y = (x - mean) / sqrt(var + eps) * weight + bias")
        compare(f"running_mean after one batch of {shape}", mean, mean2)
        compare(f"running_var after one batch of {shape}", var, var2,
                hint="the running variance moves towards the unbiased batch variance (times n / (n - 1))")


def batch_norm_eval(candidate):
    """eval mode (training=False) normalizes with the running statistics"""
    rng = _rng()
    x, mean, var, weight, bias = _batch_norm_inputs(rng, (4, 3, 2, 2))
    compare("batch_norm output in eval mode", F.batch_norm(x, mean, var, weight, bias, training=False),
            reference_batch_norm(x, mean, var, weight, bias, training=False))


def batch_norm_gradients(candidate):
    """gradcheck in training mode: gradients flow through the batch mean and variance"""
    rng = _rng()
    for shape in ((5, 2), (3, 2, 2, 2)):
        x, _, _, weight, bias = _batch_norm_inputs(rng, shape)
        x = leaf(rng, *shape)
        check_gradients(f"batch_norm(x {shape}, training=True) in x, weight and bias",
                        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, weight, bias))


# ------------------------------------------------------------------ Adam.update
ADAM_OPTIONS = [dict(lr=0.1, betas=(0.9, 0.999), eps=1e-3), dict(lr=0.1, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.5),
                dict(lr=0.05, amsgrad=True), dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)]


def _adam_steps(options, steps=5):
    """Run ``steps`` of Adam(options) (the installed update) and of the reference; yield both after each."""
    rng = _rng()
    p = Parameter(Tensor(rng.standard_normal((3, 2))))
    expected, state = p.data.copy(), {}
    group = dict(dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                      decoupled_weight_decay=False), **options)
    opt = Adam([p], **options)
    for t in range(1, steps + 1):
        g = rng.standard_normal((3, 2)) * t
        p.grad = Tensor(g.copy())
        opt.step()
        REFERENCE_ADAM_UPDATE(opt, expected, g, state, group)
        yield t, p, expected, opt.state[p], state


def adam_first_step(candidate):
    """the first step moves every entry by about lr (bias correction), against the gradient"""
    for _, p, expected, _, _ in _adam_steps(ADAM_OPTIONS[0], steps=1):
        compare("the parameter after step 1 with lr=0.1, eps=1e-3", p, expected,
                hint="step 1: m_hat = g and v_hat = g^2 after bias correction, so the step is about lr * sign(g); "
                     "divide m by (1 - beta1^t) and v by (1 - beta2^t), with t counted from 1")


def adam_many_steps(candidate):
    """five steps against the reference: plain, L2 weight decay, amsgrad, decoupled weight decay (AdamW)"""
    for options in ADAM_OPTIONS:
        for t, p, expected, state, expected_state in _adam_steps(options):
            compare(f"Adam({', '.join(f'{k}={v}' for k, v in options.items())}): the parameter after step {t}",
                    p, expected)
            for name, value in expected_state.items():
                if name not in state:
                    fail(f"Adam({options}): state has no {name!r} after step {t}: keep {sorted(expected_state)}")
                compare(f"Adam({options}): state[{name!r}] after step {t}", state[name], value)
