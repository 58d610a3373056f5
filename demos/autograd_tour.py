"""A short tour of minigen's engine: tensors, reverse mode, broadcasting, higher-order
gradients, no_grad, gradcheck, and a tiny model fitted by gradient descent.

    python demos/autograd_tour.py [--device cpu|cuda] [--seed S]
"""
import argparse

import minigen as mg
from common import available_device, non_negative_int


def section(title):
    print(f"\n== {title}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", type=available_device, default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    args = parser.parse_args(argv)
    mg.manual_seed(args.seed)
    device = args.device

    section("1. A graph is recorded as you compute")
    x = mg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = (x * x + x).sum()
    print(f"y = sum(x*x + x) = {y.item():.1f}, made by {type(y.grad_fn).__name__}")
    y.backward()
    print(f"dy/dx = 2x + 1 = {x.grad.tolist()}")

    section("2. Broadcasting: the gradient of a broadcast operand is summed back")
    W = mg.randn(4, 3, device=device, requires_grad=True)
    b = mg.zeros(3, device=device, requires_grad=True)
    (W + b).sum().backward()
    print(f"b has shape {b.shape}; W + b has shape {(W + b).shape}; db = {b.grad.tolist()} (4 rows each)")

    section("3. Gradients of gradients (create_graph=True)")
    t = mg.tensor(2.0, device=device, requires_grad=True)
    f = t ** 3
    (df,) = mg.grad(f, t, create_graph=True)
    (d2f,) = mg.grad(df, t, create_graph=True)
    (d3f,) = mg.grad(d2f, t)
    print(f"f = t^3 at t=2: f' = 3t^2 = {df.item():.0f}, f'' = 6t = {d2f.item():.0f}, f''' = 6 = {d3f.item():.0f}")

    section("4. no_grad records nothing")
    with mg.no_grad():
        z = x * 2
    print(f"under no_grad: requires_grad={z.requires_grad}, grad_fn={z.grad_fn}")

    section("5. gradcheck: analytic against central differences in float64")
    a = mg.randn(3, 4, dtype=mg.float64, device=device, requires_grad=True)
    c = mg.randn(4, 2, dtype=mg.float64, device=device, requires_grad=True)
    print("softmax(a @ c) gradcheck:", mg.gradcheck(lambda a, c: mg.softmax(a @ c, dim=1), [a, c]))
    print("softmax(a @ c) gradgradcheck:", mg.gradgradcheck(lambda a, c: mg.softmax(a @ c, dim=1), [a, c]))

    section("6. Fitting a line by gradient descent")
    inputs = mg.randn(64, 1, device=device)
    targets = 3 * inputs - 1 + 0.1 * mg.randn(64, 1, device=device)
    w = mg.zeros(1, 1, device=device, requires_grad=True)
    w0 = mg.zeros(1, device=device, requires_grad=True)
    for step in range(200):
        loss = ((inputs @ w + w0 - targets) ** 2).mean()
        w.grad = w0.grad = None
        loss.backward()
        with mg.no_grad():  # an in-place step on the leaves, as in PyTorch
            w -= 0.1 * w.grad
            w0 -= 0.1 * w0.grad
    print(f"fitted y = {w.item():.3f} x + {w0.item():.3f} (true: 3 x - 1), mean squared error {loss.item():.4f}")
    return {"w": w.item(), "w0": w0.item(), "mse": loss.item()}


if __name__ == "__main__":
    main()
