"""The training panel of lessons 05 and 06 (mathnn.widgets), driven the way a browser drives it.

A click in the browser reaches the kernel as a comm message that calls the button's click
handlers; ``panel.train_button.click()`` calls the same handlers. The panel's image is the
PNG in ``panel.output.outputs``, the one the browser shows as an ``<img>``.
"""

import time
import warnings

import ipywidgets as widgets
import numpy as np
import pytest

from mathnn import widgets as mw
from mathnn.network import SCHEMES

SMALL = {"train_size": 6000}  # 47 steps of 128 per epoch: fast, and enough to tell runs apart


@pytest.fixture(autouse=True)
def _mnist_reachable(mnist):
    """Every test here trains on MNIST; skip them all (as tests/conftest.py decides) when it is not reachable."""


def test_train_and_report_is_deterministic():
    a = mw.train_and_report(0.1, "he", 1, 128, 0, **SMALL)
    b = mw.train_and_report(lr=0.1, init="he", num_epochs=1, batch_size=128, seed=0, **SMALL)
    c = mw.train_and_report(0.1, "he", 1, 128, 1, **SMALL)
    assert a.diverged is None and a.epoch == [1] and len(a.step_loss) == 47
    assert a.step_loss == b.step_loss and a.val_loss == b.val_loss and a.val_acc == b.val_acc
    assert a.step_loss != c.step_loss, "the seed decides the initial weights and the batches"
    assert 0.5 < a.val_acc[0] < 1, "one epoch on 6,000 images (47 steps) learns something"


def test_train_and_report_returns_a_diverged_history_without_raising():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither an exception nor a warning may escape
        history = mw.train_and_report(30, "he", 3, 128, 0)
    assert history.diverged.startswith("diverged at epoch 1, step 3 (lr=30)")
    assert history.epoch == [] and history.val_acc == []


def test_panel_controls_and_display():
    panel = mw.TrainingPanel()
    assert isinstance(panel.lr, widgets.FloatLogSlider) and panel.lr.description == "lr"
    assert panel.lr.base == 10 and panel.lr.min == -4 and panel.lr.max >= 1 and not panel.lr.continuous_update
    assert panel.lr.value == pytest.approx(0.1)
    assert isinstance(panel.init, widgets.Dropdown) and panel.init.description == "init"
    assert tuple(panel.init.options) == SCHEMES and panel.init.value == "he"
    assert isinstance(panel.num_epochs, widgets.IntSlider) and (panel.num_epochs.min, panel.num_epochs.max) == (1, 10)
    assert panel.num_epochs.value == 3
    assert tuple(panel.batch_size.options) == (32, 64, 128, 256, 512) and panel.batch_size.value == 128
    assert isinstance(panel.train_button, widgets.Button) and panel.train_button.description == "Train"
    assert isinstance(panel.output, widgets.Output) and isinstance(panel.status, widgets.HTML)
    assert panel.history is None and panel.trainings == 0
    assert panel.png.startswith(b"\x89PNG"), "an (empty) learning curve is shown before the first run"
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id


def test_moving_the_controls_does_not_train():
    panel = mw.TrainingPanel(**SMALL)
    for value in (1e-3, 0.01, 1.0, 10.0, 0.3):
        panel.lr.value = value
    panel.init.value = "glorot"
    panel.num_epochs.value = 5
    panel.batch_size.value = 64
    assert panel.trainings == 0 and panel.history is None
    assert panel.settings() == {"lr": pytest.approx(0.3), "init": "glorot", "num_epochs": 5, "batch_size": 64,
                                "seed": 0, "optimizer": "sgd", "train_size": 6000}


def test_click_trains_redraws_and_matches_train_and_report():
    panel = mw.TrainingPanel(num_epochs=2, quiet_period=0, **SMALL)
    empty = panel.png
    panel.lr.value = 0.3
    panel.init.value = "glorot"
    panel.train_button.click()

    direct = mw.train_and_report(lr=panel.lr.value, init="glorot", num_epochs=2, batch_size=128, seed=0, **SMALL)
    assert panel.history.step_loss == direct.step_loss, "same arguments, same seed: the same run"
    assert panel.history.val_acc == direct.val_acc
    first = panel.png
    assert first != empty, "the image changed"
    line = panel.curve.ax_loss.lines[0]  # the plotted train loss
    np.testing.assert_array_equal(line.get_ydata(), direct.train_loss)
    assert "test accuracy" in panel.status.value and f"{direct.val_acc[-1]:.3f}" in panel.status.value
    assert "diverged" not in panel.status.value

    panel.lr.value = 0.01
    panel.init.value = "small"
    panel.train_button.click()
    assert panel.trainings == 2
    assert panel.history.step_loss != direct.step_loss
    assert panel.png != first, "a new lr and init give a new image"
    np.testing.assert_array_equal(panel.curve.ax_loss.lines[0].get_ydata(), panel.history.train_loss)


@pytest.mark.parametrize("lr, init", [(30, "he"), (100, "normal")])
def test_diverging_lr_shows_the_message(lr, init):
    panel = mw.TrainingPanel(lr=lr, init=init, num_epochs=3)  # all 60,000 images; it stops within a few steps
    before = panel.png
    panel.train_button.click()
    assert panel.history.diverged and panel.history.diverged.startswith("diverged at epoch 1")
    assert "diverged at epoch 1" in panel.status.value
    assert panel.png != before, "the board says so too (in its title)"
    assert not panel.busy and not panel.train_button.disabled, "ready for the next run"


def test_a_dead_network_is_reported_as_guessing():
    panel = mw.TrainingPanel(lr=10, init="normal", num_epochs=1, **SMALL)  # every ReLU dies, the loss stays finite
    panel.train_button.click()
    assert panel.history.diverged is None and panel.history.val_acc[-1] < mw.CHANCE
    assert "no better than guessing" in panel.status.value


def test_clicks_while_training_or_queued_behind_it_are_ignored(monkeypatch):
    panel = mw.TrainingPanel(num_epochs=2, **SMALL)  # default quiet_period
    disabled_during_run = []
    real = mw.train_and_report

    def clicking_train_and_report(callback, **settings):
        def on_epoch(history):
            disabled_during_run.append(panel.train_button.disabled)
            panel.train_button.click()  # a click handled while the run is going (re-entrant)
            callback(history)

        return real(callback=on_epoch, **settings)

    monkeypatch.setattr(mw, "train_and_report", clicking_train_and_report)
    panel.train_button.click()
    # The kernel delivers clicks queued during the run right after the handler returns:
    panel.train_button.click()
    panel.train_button.click()
    assert panel.trainings == 1, "one click, one run"
    assert panel.ignored_clicks == 4, "2 clicks during the run (one per epoch) + 2 queued behind it"
    assert disabled_during_run == [True, True] and not panel.train_button.disabled and not panel.busy

    time.sleep(panel.quiet_period + 0.05)  # a person clicks again after seeing the result
    panel.train_button.click()
    assert panel.trainings == 2 and panel.ignored_clicks == 6


def test_an_error_is_shown_and_the_panel_recovers(monkeypatch):
    panel = mw.TrainingPanel(quiet_period=0, **SMALL)

    def broken(**settings):
        raise RuntimeError("no MNIST here")

    monkeypatch.setattr(mw, "train_and_report", broken)
    with pytest.raises(RuntimeError):
        panel.train()
    assert "no MNIST here" in panel.status.value and "error" in panel.status.value
    assert not panel.busy and not panel.train_button.disabled
    monkeypatch.undo()
    panel.train_button.click()
    assert panel.history is not None and "test accuracy" in panel.status.value
