"""The training panel of lessons 05 and 06 (mathnn.widgets), driven the way a browser drives it.

A click in the browser reaches the kernel as a comm message that calls the button's click
handlers; ``panel.train_button.click()`` calls the same handlers. The panel's image is the
PNG in ``panel.output.outputs``, the one the browser shows as an ``<img>``.
"""

import math
import warnings

import ipywidgets as widgets
import numpy as np
import pytest

from mathnn import widgets as mw
from mathnn.network import INITS

SMALL = {"train_size": 5000}  # 40 steps of 128 per epoch: fast, and enough to tell runs apart


@pytest.fixture(autouse=True)
def _mnist_reachable(mnist):
    """Every test here trains on MNIST; skip them all (as tests/conftest.py decides) when it is not reachable."""


def test_train_mnist_is_deterministic():
    params_a, a = mw.train_mnist(0.1, "he", 1, 128, 0, **SMALL)
    params_b, b = mw.train_mnist(lr=0.1, init="he", num_epochs=1, batch_size=128, seed=0, **SMALL)
    _, c = mw.train_mnist(0.1, "he", 1, 128, 1, **SMALL)
    for key in params_a:
        np.testing.assert_array_equal(params_a[key], params_b[key])
    assert a.diverged is None and a.epoch == [1] and len(a.step_loss) == 40
    assert a.step_loss == b.step_loss and a.val_loss == b.val_loss and a.val_acc == b.val_acc
    assert a.step_loss != c.step_loss, "the seed decides the initial weights and the batches"
    assert 0.5 < a.val_acc[0] < 1, "one epoch on 5,000 images (40 steps) learns something"


def test_train_mnist_returns_a_diverged_history_without_raising():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither an exception nor a warning may escape
        _, history = mw.train_mnist(30, "he", 3, 128, 0)
    assert history.diverged.startswith("diverged at epoch 1, step 3 (lr=30)")
    assert history.epoch == [] and history.val_acc == []


def test_panel_controls_and_display():
    panel = mw.TrainingPanel()
    assert isinstance(panel.lr, widgets.FloatLogSlider) and panel.lr.description == "lr"
    assert panel.lr.base == 10 and panel.lr.min == -4 and panel.lr.max >= 1 and not panel.lr.continuous_update
    assert panel.lr.value == pytest.approx(0.1)
    assert isinstance(panel.init, widgets.Dropdown) and panel.init.description == "init"
    assert tuple(panel.init.options) == INITS and panel.init.value == "he"
    assert isinstance(panel.optimizer, widgets.Dropdown) and panel.optimizer.description == "optimizer"
    assert panel.optimizer.options == ("sgd", "momentum", "adam") and panel.optimizer.value == "sgd"
    assert isinstance(panel.num_epochs, widgets.IntSlider) and (panel.num_epochs.min, panel.num_epochs.max) == (1, 10)
    assert panel.num_epochs.value == 3
    assert tuple(panel.batch_size.options) == (32, 64, 128, 256, 512) and panel.batch_size.value == 128
    assert panel.hidden.description == "hidden" and panel.hidden.value == 10
    assert [n for _, n in panel.hidden.options] == [10, 32, 100]
    assert panel.hidden.label == "10 (784-10-10)"
    assert panel.train_size.description == "train_size" and panel.train_size.value == 55000, "None: all 55,000"
    assert panel.train_size.options[0] == ("1,000", 1000) and panel.train_size.label == "55,000 (all)"
    assert isinstance(panel.seed, widgets.BoundedIntText) and panel.seed.description == "seed"
    assert panel.seed.value == 0 and panel.seed.min == 0
    assert isinstance(panel.train_button, widgets.Button) and panel.train_button.description == "Train"
    assert isinstance(panel.clear_button, widgets.Button) and panel.clear_button.description == "Clear"
    assert isinstance(panel.output, widgets.Output) and isinstance(panel.status, widgets.HTML)
    assert panel.history is None and panel.trainings == 0 and panel.runs == []
    assert panel.png.startswith(b"\x89PNG"), "an empty plot is shown before the first run"
    assert panel.ax_loss.get_xscale() == "log" and panel.ax_loss.get_yscale() == "log"
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
    shown = {child for row in panel.widget.children[:3] for child in row.children}
    assert shown == {panel.lr, panel.init, panel.optimizer, panel.num_epochs, panel.batch_size, panel.hidden,
                     panel.train_size, panel.seed, panel.train_button, panel.clear_button}


def test_the_constructor_sets_every_control_and_refuses_a_value_that_is_not_a_choice():
    panel = mw.TrainingPanel(lr=0.3, init="glorot", num_epochs=2, batch_size=64, seed=7, optimizer="adam",
                             hidden=32, train_size=10000, max_runs=3)
    assert panel.settings() == {"lr": pytest.approx(0.3), "init": "glorot", "optimizer": "adam",
                                "sizes": (784, 32, 10), "train_size": 10000, "batch_size": 64, "num_epochs": 2,
                                "seed": 7}
    with pytest.raises(ValueError, match=r"train_size=6000 is not one of its choices \(1000, 2000, 5000"):
        mw.TrainingPanel(train_size=6000)
    with pytest.raises(ValueError, match="optimizer='rmsprop' is not one of its choices"):
        mw.TrainingPanel(optimizer="rmsprop")
    with pytest.raises(ValueError, match="hidden=20 is not one of its choices"):
        mw.TrainingPanel(hidden=20)


def test_moving_the_controls_does_not_train():
    panel = mw.TrainingPanel(**SMALL)
    for value in (1e-3, 0.01, 1.0, 10.0, 0.3):
        panel.lr.value = value
    panel.init.value = "glorot"
    panel.num_epochs.value = 5
    panel.batch_size.value = 64
    panel.optimizer.value = "momentum"
    panel.hidden.value = 100
    panel.train_size.value = 1000
    panel.seed.value = 3
    assert panel.trainings == 0 and panel.history is None
    assert panel.settings() == {"lr": pytest.approx(0.3), "init": "glorot", "num_epochs": 5, "batch_size": 64,
                                "seed": 3, "optimizer": "momentum", "sizes": (784, 100, 10), "train_size": 1000}


def test_click_trains_redraws_and_matches_train_mnist():
    panel = mw.TrainingPanel(num_epochs=2, **SMALL)
    empty = panel.png
    panel.lr.value = 0.3
    panel.init.value = "glorot"
    panel.train_button.click()

    _, direct = mw.train_mnist(lr=panel.lr.value, init="glorot", num_epochs=2, batch_size=128, seed=0, **SMALL)
    assert panel.history.step_loss == direct.step_loss, "same arguments, same seed: the same run"
    assert panel.history.val_acc == direct.val_acc
    first = panel.png
    assert first != empty, "the image changed"
    raw, mean = panel.ax_loss.lines[:2]  # the loss of every step, and its running mean
    np.testing.assert_array_equal(raw.get_xdata(), np.arange(1, 81))
    np.testing.assert_array_equal(raw.get_ydata(), direct.step_loss)
    np.testing.assert_allclose(mean.get_ydata(), mw.smoothed(np.array(direct.step_loss)))
    acc, = panel.ax_acc.lines
    assert list(acc.get_xdata()) == [1, 2] and list(acc.get_ydata()) == direct.val_acc
    assert f"validation accuracy <b>{direct.val_acc[-1]:.3f}</b> after 2 epochs" in panel.status.value
    assert "test" not in panel.status.value and "diverged" not in panel.status.value
    legend = [text.get_text() for text in panel.ax_acc.get_legend().get_texts()]
    assert legend == ["lr=0.3, glorot"], "one run: labelled with its lr and init"
    assert "sgd, 784-10-10, 5,000 images, bs=128, 2 epochs, seed 0" in panel.fig.get_suptitle()
    assert [t for t in panel.ax_acc.get_xticks() if 1 <= t <= 2] == [1, 2], "whole epochs only"
    bottom, top = panel.ax_acc.get_ylim()
    assert top == 1.0 and top - bottom >= 0.2 and bottom <= min(direct.val_acc), "no zoom onto a small gap"

    panel.lr.value = 0.01
    panel.init.value = "small"
    panel.train_button.click()  # at once, right after the run: the new settings train (no quiet period)
    assert panel.trainings == 2 and panel.ignored_clicks == 0
    assert panel.history.step_loss == mw.train_mnist(**panel.settings())[1].step_loss, "the new settings' run"
    assert panel.png != first, "a new lr and init give a new image"
    assert "lr=0.01, small" in panel.status.value


def test_every_new_control_reaches_train_mnist():
    panel = mw.TrainingPanel(lr=0.01, num_epochs=1, **SMALL)
    panel.optimizer.value = "adam"
    panel.seed.value = 4
    panel.hidden.value = 32
    panel.train_size.value = 2000
    panel.train_button.click()
    params, direct = mw.train_mnist(lr=0.01, init="he", num_epochs=1, batch_size=128, seed=4, sizes=(784, 32, 10),
                                    optimizer="adam", train_size=2000)
    assert panel.params["W1"].shape == (32, 784) and panel.params["W2"].shape == (10, 32)
    np.testing.assert_array_equal(panel.params["W1"], params["W1"])
    assert panel.history.steps_per_epoch == 16 and panel.history.step_loss == direct.step_loss
    _, sgd = mw.train_mnist(lr=0.01, init="he", num_epochs=1, seed=4, sizes=(784, 32, 10), train_size=2000)
    assert sgd.step_loss != direct.step_loss, "the optimizer was passed on"
    assert panel.status.value.endswith("/32 hidden units dead"), "the dead units of the 32"


def test_runs_overlay_with_labels_of_what_differs_until_clear():
    panel = mw.TrainingPanel(num_epochs=1, **SMALL)
    panel.train_button.click()
    panel.optimizer.value = "momentum"
    panel.seed.value = 1
    panel.train_button.click()
    assert [s["optimizer"] for s, _ in panel.runs] == ["sgd", "momentum"] and panel.runs[1][1] is panel.history
    legend = [text.get_text() for text in panel.ax_acc.get_legend().get_texts()]
    assert legend == ["sgd, seed 0", "momentum, seed 1"], "only the settings that differ"
    assert "every run: lr=0.1, he, 784-10-10, 5,000 images, bs=128, 1 epoch" in panel.fig.get_suptitle()
    assert "(momentum, seed 1)" in panel.status.value
    means = panel.ax_loss.lines[1::2]
    assert [line.get_label() for line in means] == legend
    assert [line.get_color() for line in means] == [mw.OPTIMIZER_COLORS["sgd"], mw.OPTIMIZER_COLORS["momentum"]]
    assert len(panel.ax_acc.lines) == 2
    two = panel.png
    output = panel.output.outputs[0]  # the PNG with alt text saying what it shows, as an <img alt> too
    alt = output["metadata"]["image/png"]["alt"]
    for (_, h), label in zip(panel.runs, legend):
        assert f"{label}: validation accuracy after each epoch {h.val_acc[0]:.2f}" in alt
    assert 'alt="' + alt.split(":")[0] in output["data"]["text/html"]

    panel.clear_button.click()
    assert panel.runs == [] and panel.ax_acc.get_legend() is None and not panel.ax_acc.lines
    assert panel.png != two and "cleared" in panel.status.value
    assert "no run yet" in panel.output.outputs[0]["metadata"]["image/png"]["alt"]
    assert panel.history is not None, "the last run's history stays available"
    panel.train_button.click()  # the last run's settings: after Clear the plot is empty, so this trains
    assert panel.trainings == 3 and len(panel.runs) == 1 and panel.ignored_clicks == 0


def test_the_plot_keeps_max_runs_and_a_rerun_replaces_its_earlier_curves():
    panel = mw.TrainingPanel(num_epochs=1, max_runs=3, train_size=1000)
    for init in ("he", "glorot", "lecun", "normal"):
        panel.init.value = init
        panel.train_button.click()
    assert [s["init"] for s, _ in panel.runs] == ["glorot", "lecun", "normal"], "the oldest went"
    legend = [text.get_text() for text in panel.ax_acc.get_legend().get_texts()]
    assert legend == ["glorot", "lecun", "normal"]
    assert [line.get_color() for line in panel.ax_acc.lines] == [mw.INIT_COLORS[i] for i in legend]
    panel.init.value = "glorot"
    panel.train_button.click()
    assert [s["init"] for s, _ in panel.runs] == ["lecun", "normal", "glorot"] and panel.trainings == 5


def test_run_labels_and_colors():
    base = mw.TrainingPanel().settings()
    one, = [base]
    assert mw.run_labels([one]) == (["lr=0.1, he"], "sgd, 784-10-10, 55,000 images, bs=128, 3 epochs, seed 0")
    runs = [base, {**base, "lr": 0.3, "init": "glorot"}, {**base, "sizes": (784, 100, 10)}]
    labels, shared = mw.run_labels(runs)
    assert labels == ["lr=0.1, he, 784-10-10", "lr=0.3, glorot, 784-10-10", "lr=0.1, he, 784-100-10"]
    assert shared == "sgd, 55,000 images, bs=128, 3 epochs, seed 0"
    he, glorot = mw.INIT_COLORS["he"], mw.INIT_COLORS["glorot"]
    assert mw.run_styles(runs) == [(he, "-"), (glorot, "-"), (he, "--")], "He keeps its colour; a second He is dashed"
    assert mw.run_styles(runs[:2]) == [(he, "-"), (glorot, "-")]
    adam = {**base, "optimizer": "adam", "train_size": 1000}
    assert mw.run_styles([base, adam]) == [(mw.OPTIMIZER_COLORS["sgd"], "-"), (mw.OPTIMIZER_COLORS["adam"], "-")]
    seeds = [{**base, "seed": k} for k in range(3)]  # only the seed differs: colours in order, all solid
    assert mw.run_styles(seeds) == [(color, "-") for color in mw.CYCLE[:3]]
    assert mw.run_labels([base, adam])[0] == ["sgd, 55,000 images", "adam, 1,000 images"]


def test_smoothed_keeps_the_first_steps_and_averages_the_last_tenth():
    losses = np.arange(1.0, 301.0) ** 2  # (300,) steps 1 .. 300
    mean = mw.smoothed(losses)
    assert mean.shape == (300,)
    np.testing.assert_array_equal(mean[:19], losses[:19])
    assert mean[99] == pytest.approx(losses[90:100].mean()) and mean[299] == pytest.approx(losses[270:].mean())


@pytest.mark.parametrize("lr, init, train_size", [
    (30, "he", None), (100, "normal", None),
    (100, "he", None), (100, "he", 10000),  # tests/browser's DIVERGING, in the panels of lessons 06 and 05
])
def test_diverging_lr_shows_the_message(lr, init, train_size):
    panel = mw.TrainingPanel(lr=lr, init=init, num_epochs=3, train_size=train_size)  # it stops within a few steps
    before = panel.png
    panel.train_button.click()
    assert panel.history.diverged and panel.history.diverged.startswith("diverged at epoch 1")
    assert "diverged at epoch 1" in panel.status.value
    assert panel.png != before, "the plot shows it too"
    legend = [text.get_text() for text in panel.ax_acc.get_legend().get_texts()]
    assert legend == [f"lr={lr:g}, {init} (diverged)"]
    mean = panel.ax_loss.lines[1]
    assert mean.get_ydata()[-1] == pytest.approx(mw.LOSS_TOP), "the loss that blew up, at the top of the axis"
    assert panel.ax_loss.get_ylim()[1] <= 1.2 * mw.LOSS_TOP
    assert not panel.busy and not panel.train_button.disabled, "ready for the next run"


def test_a_dead_network_is_diagnosed_not_blamed_on_lr_alone():
    panel = mw.TrainingPanel(lr=10, init="normal", num_epochs=1, **SMALL)  # every ReLU dies, the loss stays finite
    panel.train_button.click()
    assert panel.history.diverged is None and panel.history.val_acc[-1] < mw.CHANCE
    status = panel.status.value
    assert "no better than guessing: 10/10 hidden units dead" in status
    assert status.index("units dead") < status.index("the learning rate may be too large: the loss jumped")
    assert "is lr too large?" not in status


def test_a_zeros_init_is_diagnosed_as_symmetric_not_as_a_learning_rate_problem():
    panel = mw.TrainingPanel(lr=0.1, init="zeros", num_epochs=1, **SMALL)  # what lesson 05 invites you to try
    panel.train_button.click()
    assert panel.history.val_acc[-1] < mw.CHANCE
    status = panel.status.value
    assert "no better than guessing: 10/10 hidden units are identical" in status
    assert "lr" not in status.split("—")[1] and "learning rate" not in status, status


def test_a_healthy_run_reports_its_dead_units(monkeypatch):
    panel = mw.TrainingPanel(lr=0.1, init="he", num_epochs=1, **SMALL)
    panel.train_button.click()
    assert "validation accuracy" in panel.status.value and "guessing" not in panel.status.value
    assert panel.status.value.endswith("; 0/10 hidden units dead")
    real = mw.train_mnist

    def killing_two_units(**settings):
        params, history = real(**settings)
        params["b1"][[2, 7]] = -1e3  # units 2 and 7 never fire now
        return params, history

    monkeypatch.setattr(mw, "train_mnist", killing_two_units)
    panel.lr.value = 0.2
    panel.train_button.click()
    assert panel.history.val_acc[-1] > mw.CHANCE and panel.status.value.endswith("; 2/10 hidden units dead")


def test_nan_lr_is_refused_visibly(monkeypatch):
    panel = mw.TrainingPanel(**SMALL)
    panel.lr.value = math.nan  # what typing "nan" into the readout does; the slider does not clamp it
    assert math.isnan(panel.lr.value)
    panel.train_button.click()
    assert panel.trainings == 0 and panel.history is None and panel.ignored_clicks == 1
    assert "lr = nan is not a learning rate: type a number from 0.0001 to 100; nothing trained" in panel.status.value
    with pytest.raises(ValueError, match="lr = nan is not a learning rate"):
        panel.train()
    panel.lr.value = 0.1
    panel.train_button.click()
    assert panel.trainings == 1 and "validation accuracy" in panel.status.value


def test_clicks_while_training_or_repeating_the_last_run_do_not_train(monkeypatch):
    panel = mw.TrainingPanel(num_epochs=2, **SMALL)
    seen_during_run = []  # (button disabled?, status) right after a click made during the run
    real = mw.train_mnist

    def clicking_train_mnist(callback, **settings):
        def on_epoch(history):
            panel.train_button.click()  # a click handled while the run is going (re-entrant)
            seen_during_run.append((panel.train_button.disabled, panel.status.value))
            callback(history)

        return real(callback=on_epoch, **settings)

    monkeypatch.setattr(mw, "train_mnist", clicking_train_mnist)
    panel.train_button.click()
    assert panel.trainings == 1 and panel.ignored_clicks == 2, "one click, one run; 2 clicks during it (one per epoch)"
    assert [disabled for disabled, _ in seen_during_run] == [True, True]
    assert all("still training: click ignored" in status for _, status in seen_during_run)
    assert not panel.train_button.disabled and not panel.busy
    history, result = panel.history, panel.status.value

    # Clicks queued in the browser during the run arrive now, with the settings unchanged:
    panel.train_button.click()
    panel.train_button.click()
    assert panel.trainings == 1 and panel.ignored_clicks == 4 and panel.history is history
    assert panel.status.value.startswith(result), "the result stays in view"
    assert "same settings as the last run (seed 0): it would train the same network again" in panel.status.value

    # A slider move queued before a click: that click trains with the new settings at once.
    panel.batch_size.value = 64
    panel.train_button.click()
    assert panel.trainings == 2 and panel.ignored_clicks == 6, "2 more clicks during this run"
    assert panel.history is not history and panel.history.steps_per_epoch == 79
    assert "bs=64" in panel.status.value and "same settings" not in panel.status.value

    # Earlier settings after other ones: a new run, not a repeat of the last one.
    panel.batch_size.value = 128
    panel.train_button.click()
    assert panel.trainings == 3 and panel.history.step_loss == history.step_loss

    # Every control counts as a setting: a new seed alone trains a new network (nothing else changed).
    panel.seed.value = 1
    panel.train_button.click()
    assert panel.trainings == 4 and panel.history.step_loss != history.step_loss
    assert "(bs=128, seed 1)" in panel.status.value, "labelled with what differs from the runs on the plot"
    panel.train_button.click()
    assert panel.trainings == 4 and "same settings as the last run (seed 1)" in panel.status.value


def test_clear_during_a_run_is_refused(monkeypatch):
    panel = mw.TrainingPanel(num_epochs=1, **SMALL)
    panel.train_button.click()
    seen_during_run = []
    real = mw.train_mnist

    def clearing_train_mnist(callback, **settings):
        def on_epoch(history):
            seen_during_run.append(panel.clear_button.disabled)
            panel.clear_button.click()  # a Clear handled while the run is going (re-entrant)
            callback(history)

        return real(callback=on_epoch, **settings)

    monkeypatch.setattr(mw, "train_mnist", clearing_train_mnist)
    panel.seed.value = 2
    panel.train_button.click()
    assert seen_during_run == [True] and panel.ignored_clicks == 1
    assert len(panel.runs) == 2, "the Clear during the run removed nothing"
    assert not panel.clear_button.disabled


def test_an_error_is_shown_and_the_panel_recovers(monkeypatch):
    panel = mw.TrainingPanel(**SMALL)

    def broken(**settings):
        raise RuntimeError("no MNIST here")

    monkeypatch.setattr(mw, "train_mnist", broken)
    with pytest.raises(RuntimeError):
        panel.train()
    assert "no MNIST here" in panel.status.value and "error" in panel.status.value
    assert not panel.busy and not panel.train_button.disabled
    monkeypatch.undo()
    panel.train_button.click()  # the same settings as the failed run: it did not finish, so this one trains
    assert panel.history is not None and "validation accuracy" in panel.status.value
