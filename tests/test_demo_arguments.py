"""What every demo does with bad command-line arguments: a usage error naming the argument,
before any output folder, data or training."""
import importlib
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "demos"))

WITH_DEVICE = ["autoencoder_mnist", "autograd_tour", "bayes_classifier", "cgan_mnist", "dcgan_mnist",
               "generative_ladder", "hmm_pen_digits", "mnist_classifier", "pix2pix_mnist", "tour", "vae_mnist"]
WITH_OUT = ["autoencoder_mnist", "bayes_classifier", "cgan_mnist", "dcgan_mnist", "generative_ladder", "hmm_pen_digits",
            "markov_weather", "mnist_classifier", "pix2pix_mnist", "vae_mnist"]


def usage_error(demo, argv, capsys):
    """The stderr of demo.main(argv), which must stop with argparse's usage error (exit code 2)."""
    with pytest.raises(SystemExit) as stop:
        importlib.import_module(demo).main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("demo", WITH_DEVICE)
@pytest.mark.parametrize("device, message", [
    ("foo", "device must be 'cpu', 'cuda' or 'cuda:N', got 'foo'"),
    ("cuda:99", "device 'cuda:99' requested but")])  # CUDA is not available, or there are fewer devices
def test_a_device_this_machine_lacks_is_a_usage_error_before_any_output(demo, device, message, tmp_path, capsys):
    err = usage_error(demo, ["--device", device, "--out", str(tmp_path / "out")], capsys)
    assert f"argument --device: {message}" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("demo", WITH_OUT + ["autograd_tour", "tour"])
def test_a_negative_seed_is_a_usage_error(demo, tmp_path, capsys):
    err = usage_error(demo, ["--seed", "-1", "--out", str(tmp_path / "out")] if demo != "autograd_tour" else
                      ["--seed", "-1"], capsys)
    assert "argument --seed: expected a non-negative integer, got '-1'" in err


@pytest.mark.parametrize("demo", WITH_OUT)
def test_an_output_folder_that_cannot_be_made_is_a_usage_error(demo, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    err = usage_error(demo, ["--out", str(tmp_path / "file" / "out")], capsys)
    assert "argument --out: cannot create" in err and "file/out" in err


class Stop(Exception):
    """Raised by a stand-in for a demo's training, with the epochs it was given."""


def stop_with_epochs(*args, epochs, **kwargs):
    raise Stop(epochs)


@pytest.mark.parametrize("demo, trains, quick, full", [  # what trains is replaced by stop_with_epochs
    ("autoencoder_mnist", ("train_autoencoder",), 3, 20), ("vae_mnist", ("train_vae",), 5, 50),
    ("dcgan_mnist", ("GANTrainer", "fit"), 5, 30), ("cgan_mnist", ("GANTrainer", "fit"), 1, 30),
    ("pix2pix_mnist", ("GANTrainer", "fit"), 1, 5),
    ("mnist_classifier", ("train_classifier",), 3, 15)])
def test_an_explicit_epochs_wins_over_quick(demo, trains, quick, full, tmp_path, monkeypatch):
    module = importlib.import_module(demo)
    *owner, name = trains
    monkeypatch.setattr(getattr(module, owner[0]) if owner else module, name, stop_with_epochs)
    if hasattr(module, "load_judge"):
        monkeypatch.setattr(module, "load_judge", lambda: None)  # trained on first use; not needed here
    for argv, epochs in ((["--quick", "--epochs", "2"], 2), (["--quick"], quick), ([], full)):
        with pytest.raises(Stop) as stop:
            module.main([*argv, "--out", str(tmp_path)])
        assert stop.value.args == (epochs,)


def stop_with(keyword):
    """A stand-in that stops with its argument ``keyword`` (or its first one, if given by position)."""
    def stand_in(*args, **kwargs):
        raise Stop(kwargs[keyword] if keyword in kwargs else args[0])
    return stand_in


@pytest.mark.parametrize("demo, patched, keyword, option, quick", [
    ("bayes_classifier", "make_data", "n", "--samples", 2000),
    ("bayes_classifier", "train_logistic_regression", "steps", "--steps", 200),
    ("hmm_pen_digits", "pen_trajectories", "n", "--digits", 20),
    ("hmm_pen_digits", "CategoricalHMM", "n_iter", "--iterations", 10)])
def test_an_explicit_size_wins_over_quick(demo, patched, keyword, option, quick, tmp_path, monkeypatch):
    module = importlib.import_module(demo)
    monkeypatch.setattr(module, patched, stop_with(keyword))
    for argv, value in ((["--quick", option, "7"], 7), (["--quick"], quick)):
        with pytest.raises(Stop) as stop:
            module.main([*argv, "--out", str(tmp_path)])
        assert stop.value.args == (value,)
