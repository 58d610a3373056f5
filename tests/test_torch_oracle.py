"""Optional oracle: gradients of composite expressions against PyTorch (skipped without torch)."""
import numpy as np
import pytest

import minigen as mg

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)

EXPRESSIONS = {
    # name: (f for both libraries, input shapes)
    "mlp": (lambda lib, x, w, b: lib.tanh(x @ w + b).sum(), [(5, 3), (3, 4), (4,)]),
    "log_softmax": (lambda lib, x, w: (lib.log_softmax(x @ w, dim=1) * w.sum()).sum(), [(4, 3), (3, 5)]),
    "softplus_sigmoid": (lambda lib, x: (lib.nn.functional.softplus(x) if lib is torch else mg.softplus(x)).sum()
                         + lib.sigmoid(x).prod(), [(2, 3)]),
    "logsumexp_var": (lambda lib, x: lib.logsumexp(x, dim=0).sum() + x.var(dim=1).sum(), [(3, 4)]),
    "amax_ties": (lambda lib, x: lib.amax(x * 0 + 1, dim=1).sum() + lib.amax(x, dim=0).sum(), [(3, 4)]),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_first_and_second_derivatives_match_pytorch(name):
    f, shapes = EXPRESSIONS[name]
    values = [rng.standard_normal(s) for s in shapes]
    ours = [mg.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    g_ours = mg.grad(f(mg, *ours), ours, create_graph=True)
    g_theirs = torch.autograd.grad(f(torch, *theirs), theirs, create_graph=True)
    for a, b in zip(g_ours, g_theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    second_ours = sum((g * g).sum() for g in g_ours)
    second_theirs = sum((g * g).sum() for g in g_theirs)
    assert second_ours.requires_grad == second_theirs.requires_grad
    if not second_theirs.requires_grad:  # the first derivative is constant (amax)
        return
    h_ours = mg.grad(second_ours, ours, allow_unused=True)
    h_theirs = torch.autograd.grad(second_theirs, theirs, allow_unused=True)
    for a, b in zip(h_ours, h_theirs):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
