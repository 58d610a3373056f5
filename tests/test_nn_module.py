"""nn.Module and nn.Parameter: registration, walking the tree, modes, devices, state_dict, repr, containers."""
import collections
import copy

import numpy as np
import pytest

import minigen as mg
from minigen import nn


class Block(nn.Module):
    """A module with its own parameter and buffer, assigned after a child (order matters)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(mg.ones(2))
        self.register_buffer("count", mg.zeros(1))
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), Block())
        self.norm = nn.BatchNorm1d(2)
        self.register_buffer("scratch", mg.zeros(3), persistent=False)

    def forward(self, x):
        return self.norm(self.body(x))


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ Parameter
def test_parameter_is_a_leaf_that_requires_grad():
    p = nn.Parameter(mg.zeros(2, 3))
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf


def test_parameter_shares_the_array_of_the_tensor_it_wraps():
    t = mg.zeros(3)
    assert nn.Parameter(t).data is t.data


def test_parameter_can_be_made_without_grad():
    assert not nn.Parameter(mg.zeros(2), requires_grad=False).requires_grad


def test_parameter_repr_says_parameter_containing():
    assert repr(nn.Parameter(mg.ones(2))) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"


def test_results_of_ops_on_parameters_are_plain_tensors():
    p = nn.Parameter(mg.ones(2))
    assert type(p * 2) is mg.Tensor and type(p.detach()) is mg.Tensor


# ------------------------------------------------------------------ registration
def test_assigned_parameters_and_modules_are_registered():
    block = Block()
    assert dict(block.named_children()) == {"fc": block.fc, "act": block.act}
    assert block._parameters == {"scale": block.scale}


def test_named_parameters_lists_own_parameters_then_children_like_pytorch():
    assert [name for name, _ in Net().named_parameters()] == [
        "body.0.weight", "body.0.bias", "body.2.scale", "body.2.fc.weight", "body.2.fc.bias",
        "norm.weight", "norm.bias"]


def test_parameters_without_recursion_are_the_modules_own():
    block = Block()
    assert list(block.parameters(recurse=False)) == [block.scale]


def test_a_shared_parameter_is_listed_once():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[1].weight = net[0].weight
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_a_plain_tensor_attribute_is_not_a_parameter():
    module = nn.Module()
    module.t = mg.zeros(2, requires_grad=True)
    assert list(module.parameters()) == [] and list(module.buffers()) == []


def test_assigning_a_plain_tensor_to_a_parameter_name_is_a_type_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = mg.zeros(2, 2)


def test_a_parameter_set_to_none_is_skipped():
    layer = nn.Linear(2, 2, bias=False)
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]


def test_reassigning_a_name_moves_it_between_kinds():
    module = nn.Module()
    module.x = nn.Parameter(mg.zeros(1))
    module.x = nn.Linear(1, 1)
    assert list(module._parameters) == [] and list(module._modules) == ["x"]


def test_deleting_an_attribute_unregisters_it():
    block = Block()
    del block.scale
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(AttributeError):
        block.scale


def test_deleting_a_plain_attribute_removes_it():
    layer = nn.Linear(2, 3)
    layer.foo = 5
    del layer.foo
    assert not hasattr(layer, "foo")


def test_deleting_a_missing_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="foo"):
        del nn.Linear(2, 3).foo


def test_missing_attribute_error_names_the_class():
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nope'"):
        Block().nope


def test_assigning_a_parameter_before_init_is_explained():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\).*super\(\).__init__\(\)"):
        Forgetful()


def test_register_buffer_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="'b' must be a Tensor or None, got list"):
        nn.Module().register_buffer("b", [1, 2])


def test_register_buffer_rejects_a_name_already_taken():
    module = nn.Module()
    module.b = 1
    with pytest.raises(KeyError, match="register_buffer: attribute .b. already exists"):
        module.register_buffer("b", mg.zeros(1))


def test_register_buffer_refuses_the_name_of_a_parameter():
    layer = nn.Linear(2, 3)
    with pytest.raises(KeyError, match="register_buffer: attribute 'weight' already exists on Linear as a parameter"):
        layer.register_buffer("weight", mg.zeros(3, 2))
    assert "weight" in dict(layer.named_parameters())


def test_register_parameter_refuses_the_name_of_a_buffer_or_a_child():
    with pytest.raises(KeyError, match="'running_mean' already exists on BatchNorm1d as a buffer"):
        nn.BatchNorm1d(2).register_parameter("running_mean", nn.Parameter(mg.zeros(2)))
    with pytest.raises(KeyError, match="'0' already exists on Sequential as a child module"):
        nn.Sequential(nn.ReLU()).register_parameter("0", nn.Parameter(mg.zeros(2)))


def test_buffers_are_listed_with_dotted_names():
    assert [name for name, _ in Net().named_buffers()] == [
        "scratch", "body.2.count", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]


def test_assigning_a_tensor_to_a_buffer_name_replaces_the_buffer():
    block = Block()
    block.count = mg.ones(1)
    assert block._buffers["count"] is block.count and block.count.numpy()[0] == 1


# ------------------------------------------------------------------ walking the tree
def test_modules_are_listed_parents_first_with_dotted_names():
    assert [name for name, _ in Net().named_modules()] == [
        "", "body", "body.0", "body.1", "body.2", "body.2.fc", "body.2.act", "norm"]


def test_children_are_the_direct_submodules_only():
    net = Net()
    assert list(net.children()) == [net.body, net.norm]


def test_apply_visits_children_before_parents():
    visited = []
    Net().apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Tanh", "Block", "Sequential", "BatchNorm1d", "Net"]


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(mg.zeros(1))


def test_calling_a_module_runs_forward():
    block = Block()
    x = mg.randn(5, 3)
    np.testing.assert_array_equal(block(x).numpy(), block.forward(x).numpy())


def test_a_deep_copy_is_independent_and_computes_the_same():
    net = Net().eval()
    twin = copy.deepcopy(net)
    x = mg.randn(3, 4)
    np.testing.assert_array_equal(twin(x).numpy(), net(x).numpy())
    assert type(twin.body[0].weight) is nn.Parameter and twin.body[0].weight.data is not net.body[0].weight.data


# ------------------------------------------------------------------ modes
def test_eval_and_train_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_train_and_eval_call_each_childs_own_train():
    class Recorder(nn.Linear):
        def train(self, mode=True):
            self.modes = getattr(self, "modes", []) + [mode]
            return super().train(mode)

    net = nn.Sequential(nn.Sequential(Recorder(2, 2)))
    net.eval()
    net.train()
    assert net[0][0].modes == [False, True] and net[0][0].training


def test_train_mode_must_be_a_bool():
    with pytest.raises(TypeError, match="mode must be a bool"):
        Net().train("no")


def test_zero_grad_sets_every_gradient_to_none():
    net = Net()
    net(mg.randn(4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_false_freezes_every_parameter():
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# ------------------------------------------------------------------ devices and dtypes
def test_to_keeps_parameter_identity_so_optimizers_stay_valid(device):
    net = Net()
    before = list(net.parameters())
    net(mg.randn(4, 4)).sum().backward()
    assert net.to(device) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in before]
    assert {t.device for t in list(net.parameters()) + list(net.buffers())} == {mg.backend.canonical_device(device)}
    assert {p.grad.device for p in net.parameters()} == {mg.backend.canonical_device(device)}


def test_to_a_dtype_casts_floating_tensors_only():
    net = Net().to(mg.float64)
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    assert net.norm.num_batches_tracked.dtype == np.int64


def test_to_a_dtype_casts_the_gradients_too():
    net = Net()
    net(mg.randn(4, 4)).sum().backward()
    net.to(mg.float64)
    assert {p.grad.dtype for p in net.parameters()} == {np.dtype(np.float64)}


def test_to_something_that_is_neither_a_device_nor_a_dtype_is_named():
    with pytest.raises(TypeError, match=r"Module.to: expected a device string .* or a floating dtype .*, got 5"):
        Net().to(5)


def test_to_an_integer_dtype_is_refused():
    with pytest.raises(TypeError, match="only floating point dtypes"):
        Net().to(mg.int64)


# ------------------------------------------------------------------ state_dict
def test_state_dict_holds_each_modules_parameters_then_buffers_with_dotted_names():
    assert list(Net().state_dict()) == [
        "body.0.weight", "body.0.bias", "body.2.scale", "body.2.count", "body.2.fc.weight", "body.2.fc.bias",
        "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]


def test_state_dict_keys_match_pytorch_for_the_same_architecture(torch):
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 1))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 1))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_state_dict_values_are_detached_and_share_the_modules_arrays():
    layer = nn.Linear(2, 2)
    weight = layer.state_dict()["weight"]
    assert not weight.requires_grad and weight.data is layer.weight.data


def test_state_dict_round_trip_restores_the_outputs():
    source, target = Net(), Net()
    source(mg.randn(8, 4))  # moves source's running statistics
    source.eval(), target.eval()
    x = mg.randn(5, 4)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    assert target.norm.num_batches_tracked.item() == 1


def test_a_state_dict_survives_save_and_load(tmp_path):
    source, target = Net().eval(), Net().eval()
    mg.save(source.state_dict(), tmp_path / "net.npz")
    target.load_state_dict(mg.load(tmp_path / "net.npz"))
    x = mg.randn(5, 4)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


def test_load_state_dict_needs_a_dict():
    with pytest.raises(TypeError, match="expected a dict of name -> Tensor, got list"):
        nn.Linear(2, 2).load_state_dict([mg.zeros(2, 2)])


def test_load_state_dict_copies_values_into_the_same_parameters():
    layer = nn.Linear(2, 2)
    weight, array = layer.weight, layer.weight.data
    layer.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert layer.weight is weight and layer.weight.data is array
    assert layer.weight.dtype == np.float32 and (layer.weight.numpy() == 1).all()


def test_strict_load_names_every_problem_in_one_error():
    state = nn.Linear(4, 3).state_dict()
    del state["bias"]
    state["extra"] = mg.zeros(1)
    with pytest.raises(RuntimeError) as error:
        nn.Linear(4, 2).load_state_dict(state)
    message = str(error.value)
    assert "missing keys: 'bias'" in message and "unexpected keys: 'extra'" in message
    assert "size mismatch for weight: the checkpoint has shape (3, 4), the model has shape (2, 4)" in message


def test_non_strict_load_returns_missing_and_unexpected_keys():
    layer = nn.Linear(2, 2)
    result = layer.load_state_dict({"weight": mg.ones(2, 2), "extra": mg.zeros(1)}, strict=False)
    assert result == (["bias"], ["extra"])
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert (layer.weight.numpy() == 1).all()


def test_a_shape_mismatch_raises_even_when_not_strict():
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        nn.Linear(2, 2).load_state_dict({"bias": mg.zeros(3)}, strict=False)


def test_a_failed_load_changes_nothing():
    layer = nn.Linear(2, 2)
    before = layer.weight.numpy().copy()
    with pytest.raises(RuntimeError):
        layer.load_state_dict({"weight": mg.ones(2, 2), "bias": mg.zeros(5)})
    np.testing.assert_array_equal(layer.weight.numpy(), before)


def test_a_value_that_does_not_cast_fails_before_anything_is_copied():
    norm = nn.BatchNorm1d(2)
    state = {name: mg.ones(*t.shape) for name, t in norm.state_dict().items()}
    state["num_batches_tracked"] = np.array("abc")
    with pytest.raises(RuntimeError, match="dtype mismatch for num_batches_tracked: the checkpoint has dtype <U3, "
                                           "which does not cast to the model's int64"):
        norm.load_state_dict(state)
    assert (norm.weight.numpy() == 1).all() and (norm.running_mean.numpy() == 0).all()


def test_a_complex_value_is_refused_not_cast():
    layer = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="dtype mismatch for bias: the checkpoint has dtype complex128"):
        layer.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.array([1 + 2j, 3j])})
    assert layer.weight.numpy().any()


def test_values_of_the_same_kind_or_a_safe_one_are_cast():
    norm = nn.BatchNorm1d(2)
    state = dict(norm.state_dict(), weight=np.array([1, 2]), num_batches_tracked=np.int32(7))
    norm.load_state_dict(state)
    assert norm.weight.dtype == np.float32 and norm.weight.numpy().tolist() == [1.0, 2.0]
    assert norm.num_batches_tracked.item() == 7


def test_non_persistent_buffers_stay_out_of_state_dict():
    assert "scratch" not in Net().state_dict() and "scratch" in dict(Net().named_buffers())


# ------------------------------------------------------------------ repr
def test_repr_of_a_leaf_layer_is_one_line():
    assert repr(nn.Linear(4, 2)) == "Linear(in_features=4, out_features=2, bias=True)"


def test_nested_repr_is_pytorchs(torch):
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.ReLU(),
                         nn.Sequential(nn.Flatten(), nn.Linear(16, 2), nn.Tanh()), nn.Embedding(5, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2), torch.nn.Tanh()),
                                 torch.nn.Embedding(5, 2))
    assert repr(ours) == repr(theirs)


def test_batch_norm_repr_lists_its_settings():
    assert repr(nn.BatchNorm2d(4, momentum=None, affine=False)) == \
        "BatchNorm2d(4, eps=1e-05, momentum=None, affine=False, track_running_stats=True)"


def test_repr_of_a_custom_module_lists_its_children():
    assert repr(Block()) == ("Block(\n  (fc): Linear(in_features=3, out_features=2, bias=True)\n"
                             "  (act): Tanh()\n)")


# ------------------------------------------------------------------ containers
def test_sequential_applies_its_modules_in_order():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    x = mg.randn(5, 3)
    np.testing.assert_array_equal(nn.Sequential(first, second)(x).numpy(), second(first(x)).numpy())


def test_sequential_indexes_counts_and_iterates_like_a_list():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)]
    net = nn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers and net[-1] is layers[2]
    assert isinstance(net[1:], nn.Sequential) and list(net[1:]) == layers[1:]


def test_a_slice_of_a_sequential_keeps_the_names():
    assert [name for name, _ in nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())[1:].named_children()] == ["1", "2"]


def test_sequential_from_a_dict_uses_its_keys_as_names():
    net = nn.Sequential(collections.OrderedDict(fc=nn.Linear(2, 3), act=nn.ReLU()))
    assert [name for name, _ in net.named_parameters()] == ["fc.weight", "fc.bias"] and net[1] is net.act


def test_sequential_index_out_of_range():
    with pytest.raises(IndexError, match="index 3 is out of range for Sequential of length 1"):
        nn.Sequential(nn.ReLU())[3]


def test_module_list_registers_what_is_appended_and_extended():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 3)).extend([nn.ReLU(), nn.Linear(3, 1)])
    assert len(layers) == 4 and isinstance(layers[1], nn.Linear) and layers[-1].out_features == 1
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                               "3.weight", "3.bias"]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "ReLU", "Linear"]


def test_a_module_list_inside_a_module_is_walked():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

    assert len(list(Stack().parameters())) == 4


# ------------------------------------------------------------------ PyTorch's conveniences
def test_zero_grad_can_set_zeros_instead_of_none():
    model = nn.Linear(2, 3)
    model(mg.ones(4, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_float_double_and_cpu_cast_floating_state_only():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.double() is model and model[0].weight.dtype == mg.float64
    assert model[1].num_batches_tracked.dtype == mg.int64  # not floating: left alone
    assert model.float().cpu() is model and model[0].weight.dtype == mg.float32 and model[0].weight.device == "cpu"


def test_cuda_names_the_device_it_moves_to(monkeypatch):
    moves = []
    model = nn.Linear(2, 3)
    monkeypatch.setattr(model, "to", lambda device: moves.append(device) or model)
    model.cuda(), model.cuda(1), model.cuda("cuda:0")
    assert moves == ["cuda", "cuda:1", "cuda:0"]


def test_sequential_append_and_setitem_keep_names_and_order(torch):
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    assert ours.append(nn.Linear(3, 1)) is ours
    theirs.append(torch.nn.Linear(3, 1))
    ours[1], theirs[1] = nn.Tanh(), torch.nn.Tanh()
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs] == ["Linear", "Tanh", "Linear"]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_modulelist_insert_iadd_and_setitem_as_pytorch(torch):
    ours, theirs = nn.ModuleList([nn.Linear(1, 1), nn.ReLU()]), torch.nn.ModuleList([torch.nn.Linear(1, 1),
                                                                                       torch.nn.ReLU()])
    ours.insert(1, nn.Tanh()), theirs.insert(1, torch.nn.Tanh())
    ours.insert(3, nn.Linear(2, 2)), theirs.insert(3, torch.nn.Linear(2, 2))
    ours += [nn.Sigmoid()]
    theirs += [torch.nn.Sigmoid()]
    ours[0], theirs[0] = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_modulelist_insert_takes_a_negative_index_as_list_insert():
    modules = [nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    ours, expected = nn.ModuleList(modules), list(modules)
    extra = nn.Linear(1, 1)
    ours.insert(-1, extra), expected.insert(-1, extra)
    assert list(ours) == expected and [name for name, _ in ours.named_children()] == ["0", "1", "2", "3"]


def test_containers_hold_modules_only():
    for container in (nn.Sequential(nn.ReLU()), nn.ModuleList([nn.ReLU()])):
        with pytest.raises(TypeError, match="can only hold Modules, got int"):
            container[0] = 5


# ------------------------------------------------------------------ get_submodule
def nested():
    model = nn.Module()
    model.encoder = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    model.head = nn.Linear(3, 1)
    return model


def test_get_submodule_follows_a_dotted_path():
    model = nested()
    assert model.get_submodule("encoder.0") is model.encoder[0]
    assert model.get_submodule("head") is model.head and model.get_submodule("") is model


def test_get_submodule_names_the_missing_part_as_pytorch_does():
    with pytest.raises(AttributeError, match="^Sequential has no attribute `5`$"):
        nested().get_submodule("encoder.5")


def test_get_submodule_refuses_a_path_to_a_parameter():
    with pytest.raises(AttributeError, match="^`weight` is not an nn.Module$"):
        nested().get_submodule("head.weight")


def test_get_submodule_messages_match_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Module()
    theirs.encoder = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh())
    theirs.head = torch.nn.Linear(3, 1)
    for target in ("encoder.5", "head.weight", "decoder", "encoder.0.bias"):
        assert submodule_error(nested(), target) == submodule_error(theirs, target)


def submodule_error(module, target):
    with pytest.raises(AttributeError) as error:
        module.get_submodule(target)
    return str(error.value)
