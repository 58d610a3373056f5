"""In-place ops, version counters and a freed graph: PyTorch's rules, so that no gradient is
silently wrong where PyTorch gives the right one or refuses (issue 14, items 1-4).

Each test states the rule with numbers worked out by hand; tests/test_torch_oracle.py runs
the same scripts through PyTorch where it is installed.
"""
import gc

import numpy as np
import pytest

import minigen as mg
from minigen import nn

STALE = "modified by an inplace operation"


# ------------------------------------------------------------------ 1. in-place writes
def test_a_hand_written_sgd_step_under_no_grad_changes_the_weights():
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    x, y = mg.randn(16, 3), mg.randn(16, 1)
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert losses[-1] < 0.8 * losses[0]


def test_augmented_assignment_keeps_the_same_tensor_and_bumps_its_version():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    same = w
    with mg.no_grad():
        w += 1
    assert w is same and w.is_leaf and w._version == 1
    assert w.tolist() == [2.0, 3.0]


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w += 1
    assert w.tolist() == [1.0, 2.0] and w.is_leaf


def test_in_place_on_an_intermediate_is_differentiated():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    h = w * w          # dh/dw = 2w
    h *= 3             # h = 3 w^2
    h += w             # h = 3 w^2 + w: dh/dw = 6w + 1
    h.sum().backward()
    assert w.grad.tolist() == [7.0, 13.0]


def test_a_later_write_does_not_reroute_the_gradient_of_an_earlier_use():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    z = h + 0          # uses h before the write; Add does not read h's value
    h.mul_(10)
    z.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]  # not 10: z saw h as it was


def test_item_assignment_is_differentiated_in_the_tensor_and_the_value():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = mg.tensor(5.0, requires_grad=True)
    h = w * 2
    h[1] = v * v       # h = [2 w0, v^2, 2 w2]
    h.sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0]
    assert v.grad.item() == 10.0


def test_an_int_tensor_cannot_take_a_float_result_in_place():
    x = mg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        x += 0.5


def test_an_in_place_result_may_not_grow_the_tensor():
    with pytest.raises(RuntimeError, match=r"result has shape \(2, 3\).*of shape \(3,\)"):
        mg.zeros(3).add_(mg.ones(2, 3))


# ------------------------------------------------------------------ 2. version counters
def test_backward_after_an_optimizer_step_refuses_stale_weights():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w * w).sum()
    opt = mg.optim.SGD([w], lr=0.1)
    w.grad = mg.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match=STALE + r".*shape \(2,\).*of Mul, is at version 1; expected version 0"):
        loss.backward()


def test_the_gan_stale_discriminator_mistake_is_an_error():
    mg.manual_seed(0)
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_d = mg.optim.SGD(D.parameters(), lr=0.5)
    d_out = D(G(mg.randn(4, 2)))
    loss_d = d_out.mean()
    opt_d.zero_grad()
    loss_d.backward(retain_graph=True)
    opt_d.step()                       # D's weights change under the graph that G's loss uses
    with pytest.raises(RuntimeError, match=STALE):
        (-d_out).mean().backward()


def test_load_state_dict_bumps_the_version():
    layer = nn.Linear(2, 2)
    out = layer(mg.ones(1, 2, requires_grad=True)).sum()
    layer.load_state_dict(nn.Linear(2, 2).state_dict())
    with pytest.raises(RuntimeError, match=STALE):
        out.backward()


def test_a_value_read_through_a_view_is_checked_after_a_write_to_its_base():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = mg.ones(2, 2, requires_grad=True)
    loss = (x.T * w).sum()             # Mul reads the transposed view of x
    x.mul_(2)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_detach_shares_the_version_counter():
    h = mg.tensor([1.0, 2.0], requires_grad=True) * 1
    e = h.exp()
    loss = e.sum()
    e.detach().zero_()                 # writes e's storage through a detached alias
    assert e._version == 1
    with pytest.raises(RuntimeError, match=STALE + ".*the output of Exp"):
        loss.backward()                # Exp's backward reads its output


def test_numpy_gives_a_read_only_view():
    x = mg.ones(3, requires_grad=True)
    a = x.numpy()
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 5.0
    a.copy()[0] = 5.0                  # a copy is the user's own


def test_writes_into_a_value_that_backward_does_not_read_are_allowed():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    loss = (h + 1).sum()               # Add reads shapes only
    h.add_(100)
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_a_write_into_a_view_of_a_tensor_in_a_graph_is_refused():
    h = mg.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="in-place writes into a view"):
        h[0:1].mul_(2)


# ------------------------------------------------------------------ 3. casts and comparisons
def test_a_cast_to_integers_has_no_gradient_path():
    x = mg.tensor([1.7, -2.6], requires_grad=True)
    assert not x.to(mg.int64).requires_grad
    (x.to(mg.int64) * x).sum().backward()
    assert x.grad.tolist() == [1.0, -2.0]  # the integer factor is a constant


def test_comparisons_do_not_require_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad and (x > 1).grad_fn is None


# ------------------------------------------------------------------ 4. a freed graph
def test_a_second_backward_through_a_freed_graph_raises():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_retain_graph_keeps_it_for_a_second_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert w.grad.tolist() == [4.0, 8.0]


def test_create_graph_implies_retain_graph():
    w = mg.tensor([3.0], requires_grad=True)
    loss = (w ** 3).sum()
    g, = mg.grad(loss, w, create_graph=True)   # 3 w^2 = 27
    g2, = mg.grad(g.sum(), w)                 # 6 w = 18
    loss.backward()                           # still there
    assert (g.item(), g2.item(), w.grad.item()) == (27.0, 18.0, 27.0)


def test_grad_frees_the_graph_unless_told_otherwise():
    w = mg.tensor([3.0], requires_grad=True)
    loss = (w * w).sum()
    mg.grad(loss, w)
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad(loss, w)


def _bytes_reachable(roots):
    """The bytes of all NumPy arrays that ``roots`` keep alive (through any Python reference)."""
    seen, stack, total = set(), list(roots), 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes if obj.base is None else 0
        stack.extend(r for r in gc.get_referents(obj) if not isinstance(r, type))
    return total


def test_keeping_every_loss_tensor_does_not_keep_every_activation():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 1))
    x = mg.randn(64, 16)
    kept = []
    for _ in range(2000):
        loss = model(x).pow(2).mean()
        model.zero_grad()
        loss.backward()
        kept.append(loss)
    held = _bytes_reachable(kept) - _bytes_reachable(list(model.parameters()) + [x])
    # one step's activations are three 64 x 256 float32 arrays, 192 KiB: 2,000 of them 375 MiB
    assert held < 2 ** 20, f"{held / 2 ** 20:.1f} MiB of arrays held by 2,000 kept losses"
