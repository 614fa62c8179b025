"""Widgets for the lessons: a training panel, a thin layer over one pure function.

    history = train_and_report(lr=0.1, init="he", num_epochs=3, batch_size=128, seed=0)

trains the 784-10-10 network on MNIST and returns the :class:`~mathnn.train.History`
(``history.diverged`` says where training stopped if the loss blew up). Everything a
widget shows comes from that function, so a lesson (or a test) can check the panel by
calling the function directly with the same arguments.

    panel = TrainingPanel(lr=0.1, init="he")
    display(panel)              # sliders, dropdowns, a Train button, the live curve, a status line
    panel.train_button.click()  # what a click in the browser does

Only a click trains: moving a slider just sets a value. While a training runs, the
button is disabled and clicks are ignored (see :meth:`TrainingPanel._on_click`).

This module needs ipywidgets (``pip install mathnn[notebooks]``); ``import mathnn``
does not import it.
"""

import base64
import html
import time

import ipywidgets as widgets
import numpy as np

from mathnn.network import SCHEMES
from mathnn.plots import LiveCurve, png_bytes
from mathnn.train import train_and_report

BATCH_SIZES = (32, 64, 128, 256, 512)
# Below this test accuracy the status line hints that lr may be too large. A network that only guesses scores
# about 0.1 (0.1135 when it always answers the most frequent digit, "1"); 0.2 leaves room above that.
CHANCE = 0.2


def _png_output(png, text="learning curve"):
    """One nbformat display_data output holding a PNG (what an Output widget stores)."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<{text}>"}}


class TrainingPanel:
    """Controls for one training run and its live learning curve.

    Public attributes (the browser tests rely on them):

    - ``lr``: FloatLogSlider "lr", 1e-4 .. 100 (log scale; from about 30 up the 784-10-10 network
      diverges, at 1 to 10 its ReLUs die and it stays at chance); ``init``: Dropdown "init" over
      ``SCHEMES``; ``num_epochs``: IntSlider "num_epochs" 1..10; ``batch_size``: Dropdown "batch_size"
      (32 .. 512); ``train_button``: Button "Train".
    - ``output``: Output widget holding the learning curve as one PNG image, replaced after
      every epoch (so the page shows an ``<img>`` whose ``src`` changes).
    - ``status``: HTML line, e.g. "test accuracy 0.915 after 3 epochs (...)" or the
      "diverged at epoch k, step s (lr=...): ..." message of the history.
    - ``history``: the History of the last run (None before the first one).
    - ``trainings`` / ``ignored_clicks``: counters of runs and of clicks that were ignored.

    ``seed``, ``optimizer`` and ``train_size`` are fixed per panel (passed on to
    :func:`train_and_report`). ``max_runs`` > 1 keeps the last few runs on the board, for
    comparing settings. ``quiet_period`` (seconds): see :meth:`_on_click`.
    """

    def __init__(self, lr=0.1, init="he", num_epochs=3, batch_size=128, seed=0, optimizer="sgd",
                 train_size=None, max_runs=1, quiet_period=0.25, title="784-10-10 on MNIST"):
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=2, step=0.1, description="lr",
                                         continuous_update=False, readout_format=".3g")
        self.init = widgets.Dropdown(options=SCHEMES, value=init, description="init")
        self.num_epochs = widgets.IntSlider(value=num_epochs, min=1, max=10, description="num_epochs",
                                            continuous_update=False, style={"description_width": "initial"})
        self.batch_size = widgets.Dropdown(options=BATCH_SIZES, value=batch_size, description="batch_size")
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train a fresh network with these settings")
        self.output = widgets.Output()
        self.status = widgets.HTML(value="Choose the settings, then click <b>Train</b>.")
        self.seed, self.optimizer, self.train_size = seed, optimizer, train_size
        self.max_runs, self.quiet_period, self.title = max_runs, quiet_period, title
        self.history = None
        self.trainings = 0
        self.ignored_clicks = 0
        self.busy = False
        self._ended = -np.inf  # time.monotonic() when the last training ended
        self.curve = LiveCurve(title=title, figsize=(9, 3.6), display=False)
        self.curve.redraw()
        self._show_curve()
        self.train_button.on_click(self._on_click)
        self.widget = widgets.VBox([
            widgets.HBox([self.lr, self.init]),
            widgets.HBox([self.num_epochs, self.batch_size, self.train_button]),
            self.output,
            self.status,
        ])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def png(self):
        """The PNG bytes of the learning curve the panel shows now."""
        return base64.b64decode(self.output.outputs[0]["data"]["image/png"])

    def settings(self):
        """The arguments of :func:`train_and_report` the next training will use."""
        return dict(lr=self.lr.value, init=self.init.value, num_epochs=self.num_epochs.value,
                    batch_size=self.batch_size.value, seed=self.seed, optimizer=self.optimizer,
                    train_size=self.train_size)

    def _on_click(self, _button=None):
        """Train, unless a training is running or has just ended.

        A click in the browser reaches the kernel as a comm message. While the click handler
        trains, the kernel cannot read new messages, so clicks made meanwhile wait in its queue
        and are delivered one after another right after the handler returns. (The button is
        disabled while training, but clicks sent before the browser learnt that are already
        queued.) Such queued clicks are ignored: a click whose handler starts while
        ``busy`` (re-entrant) or less than ``quiet_period`` seconds after the previous training
        ended is dropped and counted in ``ignored_clicks``. Queued messages arrive within a few
        milliseconds; a person clicks again only after seeing the new curve, which takes longer
        than 0.25 s. Moving a slider never trains, so slider moves cannot queue up trainings.
        """
        if self.busy or time.monotonic() - self._ended < self.quiet_period:
            self.ignored_clicks += 1
            return
        self.train()

    def train(self):
        """Train with the current settings (no click guard), redrawing after every epoch."""
        settings = self.settings()
        label = f"lr={settings['lr']:.3g}, {settings['init']}, bs={settings['batch_size']}"
        self.busy = True
        self.train_button.disabled = True
        self.status.value = f"training ({html.escape(label)}) …"
        runs = self.curve.runs  # label -> History, oldest first
        runs.pop(label, None)
        while runs and len(runs) >= self.max_runs:
            del runs[next(iter(runs))]
        try:
            def on_epoch(history):
                self.curve.update(history, label)
                self._show_curve()
                if not history.diverged:
                    self.status.value = (f"epoch {history.epoch[-1]}/{settings['num_epochs']}: "
                                         f"test accuracy {history.val_acc[-1]:.3f} ({html.escape(label)})")

            self.history = train_and_report(**settings, callback=on_epoch)
            self.status.value = self.report(self.history, label)
        except Exception as e:
            self.status.value = f'<span style="color:crimson">error: {html.escape(repr(e))}</span>'
            raise
        finally:
            self.busy = False
            self.train_button.disabled = False
            self.trainings += 1
            self._ended = time.monotonic()

    @staticmethod
    def report(history, label=""):
        """The status line (HTML) for a finished run."""
        suffix = f" ({html.escape(label)})" if label else ""
        if history.diverged:
            return f'<span style="color:crimson"><b>{html.escape(history.diverged)}</b></span>'
        n, acc = len(history.epoch), history.val_acc[-1]
        hint = " — no better than guessing: is lr too large?" if acc < CHANCE else ""
        return f"test accuracy <b>{acc:.3f}</b> after {n} epoch{'s' * (n != 1)}{suffix}{hint}"

    def _show_curve(self):
        """Replace what ``output`` shows with one PNG of the board.

        Setting the Output widget's ``outputs`` (rather than displaying inside ``with output:``)
        replaces the image in place from any handler, adds nothing to the notebook cell, and
        lets the browser swap one ``<img>``.
        """
        self.output.outputs = (_png_output(png_bytes(self.curve.fig)),)
