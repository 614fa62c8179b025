"""Widgets for the lessons: a training panel, a thin layer over one pure function.

    params, history = train_mnist(lr=0.1, init="he", num_epochs=3, batch_size=128, seed=0)

trains the 784-10-10 network on MNIST's 55,000 training images and returns its parameters and
:class:`~mathnn.train.History` (``history.val_acc`` is the accuracy on the 5,000 validation
images; ``history.diverged`` says where training stopped if the loss blew up). Everything a
widget shows comes from that function, so a lesson (or a test) can check the panel by
calling the function directly with the same arguments.

    panel = TrainingPanel(lr=0.1, init="he")
    display(panel)              # sliders, dropdowns, a Train button, the live curve, a status line
    panel.train_button.click()  # what a click in the browser does

Only a click trains: moving a slider just sets a value. A click that does not train (a run
is going, lr is not a number, or nothing changed since the last run) says why in the status
line (see :meth:`TrainingPanel._on_click`).

This module needs ipywidgets (``pip install mathnn[notebooks]``); ``import mathnn``
does not import it.
"""

import base64
import html
import math

import ipywidgets as widgets
import numpy as np

from mathnn.data import load_mnist_splits
from mathnn.debugging import dead_units, diagnose
from mathnn.network import INITS
from mathnn.plots import LiveCurve, png_bytes
from mathnn.train import train_mnist

BATCH_SIZES = (32, 64, 128, 256, 512)
# Below this validation accuracy the status line calls the network no better than guessing and shows what
# mn.diagnose finds. A network that only guesses scores about 0.1 (about 0.11 when it always answers the most
# frequent digit, "1"); 0.2 leaves room above that.
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
      ``INITS``; ``num_epochs``: IntSlider "num_epochs" 1..10; ``batch_size``: Dropdown "batch_size"
      (32 .. 512); ``train_button``: Button "Train".
    - ``output``: Output widget holding the learning curve as one PNG image, replaced after
      every epoch (so the page shows an ``<img>`` whose ``src`` changes).
    - ``status``: HTML line, e.g. "validation accuracy 0.915 after 3 epochs (...)", with the dead
      hidden units if any ("; 3/10 hidden units dead") and, below CHANCE, the findings of
      :func:`mathnn.diagnose`; or the "diverged at epoch k, step s (lr=...): ..." message of the
      history; or why a click did not train.
    - ``params``, ``history``: the trained parameters and History of the last run (None before the first one).
    - ``trainings`` / ``ignored_clicks``: counters of runs and of clicks that did not train.

    ``seed``, ``optimizer`` and ``train_size`` are fixed per panel (passed on to
    :func:`train_mnist`). ``max_runs`` > 1 keeps the last few runs on the board, for
    comparing settings.
    """

    def __init__(self, lr=0.1, init="he", num_epochs=3, batch_size=128, seed=0, optimizer="sgd",
                 train_size=None, max_runs=1, title="784-10-10 on MNIST"):
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=2, step=0.1, description="lr",
                                         continuous_update=False, readout_format=".3g")
        self.init = widgets.Dropdown(options=INITS, value=init, description="init")
        self.num_epochs = widgets.IntSlider(value=num_epochs, min=1, max=10, description="num_epochs",
                                            continuous_update=False, style={"description_width": "initial"})
        self.batch_size = widgets.Dropdown(options=BATCH_SIZES, value=batch_size, description="batch_size")
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train a fresh network with these settings")
        self.output = widgets.Output()
        self.status = widgets.HTML()
        self._set_status("Choose the settings, then click <b>Train</b>.")
        self.seed, self.optimizer, self.train_size = seed, optimizer, train_size
        self.max_runs, self.title = max_runs, title
        self.params = self.history = None
        self.trainings = 0
        self.ignored_clicks = 0
        self.busy = False
        self._last_settings = None  # the settings of the last run that finished
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
        """The arguments of :func:`train_mnist` the next training will use."""
        return dict(lr=self.lr.value, init=self.init.value, num_epochs=self.num_epochs.value,
                    batch_size=self.batch_size.value, seed=self.seed, optimizer=self.optimizer,
                    train_size=self.train_size)

    def _lr_problem(self):
        """Why the lr slider's value is not a learning rate (None if it is). Typing "nan" into its readout
        gives NaN, which the slider does not clamp."""
        if math.isfinite(self.lr.value) and self.lr.value > 0:
            return None
        return (f"lr = {self.lr.value} is not a learning rate: type a number from "
                f"{self.lr.base ** self.lr.min:g} to {self.lr.base ** self.lr.max:g}")

    def _on_click(self, _button=None):
        """Train with the current settings, or say in the status line why this click does not.

        A click does not train, and is counted in ``ignored_clicks``, when

        - a run is going (the handler was re-entered): "still training: click ignored";
        - lr is not a number (NaN typed into the readout): "lr = nan is not a learning rate ...";
        - the settings equal those of the run that just finished: "same settings as the last run ...".

        Why the last rule. A click in the browser reaches the kernel as a comm message. While the
        handler trains, the kernel reads no messages, so clicks made meanwhile (the button is
        disabled, but clicks sent before the browser learnt that are on their way) wait in its
        queue, with any slider moves, in the order they were made, and are handled one after
        another right after the run ends. Their timing cannot tell them from a new click; their
        settings can. A queued click made before any setting changed repeats the run that just
        ended: with the panel's fixed ``seed`` it would train the very same network and draw the
        same curve again, so it does not train, and the status line says so. Any click after a
        setting changed (queued or not) trains with the new settings at once. Running earlier
        settings again after other ones is a new run: only a repeat of the *last* run is skipped.
        """
        settings = self.settings()
        if self.busy:
            notice = "still training: click ignored"
        elif problem := self._lr_problem():
            notice = problem + "; nothing trained"
        elif settings == self._last_settings:
            notice = (f"same settings as the last run (seed {self.seed}): it would train the same network "
                      f"again, so this click was ignored; change a setting to train")
        else:
            self.train()
            return
        self.ignored_clicks += 1
        self.status.value = f'{self._shown} — <span style="color:crimson">{html.escape(notice)}</span>'

    def train(self):
        """Train with the current settings (no click rules), redrawing after every epoch.

        Raises ValueError if lr is not a number.
        """
        if problem := self._lr_problem():
            raise ValueError(problem)
        settings = self.settings()
        label = f"lr={settings['lr']:.3g}, {settings['init']}, bs={settings['batch_size']}"
        self.busy = True
        self.train_button.disabled = True
        self._last_settings = None
        self._set_status(f"training ({html.escape(label)}) …")
        runs = self.curve.runs  # label -> History, oldest first
        runs.pop(label, None)
        while runs and len(runs) >= self.max_runs:
            del runs[next(iter(runs))]
        try:
            def on_epoch(history):
                self.curve.update(history, label)
                self._show_curve()
                if not history.diverged:
                    self._set_status(f"epoch {history.epoch[-1]}/{settings['num_epochs']}: validation accuracy "
                                     f"{history.val_acc[-1]:.3f} ({html.escape(label)})")

            self.params, self.history = train_mnist(**settings, callback=on_epoch)
            self._set_status(self.report(self.params, self.history, label))
            self._last_settings = settings
        except Exception as e:
            self._set_status(f'<span style="color:crimson">error: {html.escape(repr(e))}</span>')
            raise
        finally:
            self.busy = False
            self.train_button.disabled = False
            self.trainings += 1

    def _set_status(self, value):
        """Show value (HTML) in the status line; a refused click adds its notice to it (see _on_click)."""
        self._shown = self.status.value = value

    @staticmethod
    def report(params, history, label=""):
        """The status line (HTML) for a finished run: its trained params and its History.

        The validation accuracy, and the dead hidden units if any (on the 5,000 validation images);
        when the accuracy is below CHANCE, the findings of :func:`mathnn.diagnose` instead, causes
        first (a symmetric init before dead units before the learning rate).
        """
        suffix = f" ({html.escape(label)})" if label else ""
        if history.diverged:
            return f'<span style="color:crimson"><b>{html.escape(history.diverged)}</b></span>'
        n, acc = len(history.epoch), history.val_acc[-1]
        line = f"validation accuracy <b>{acc:.3f}</b> after {n} epoch{'s' * (n != 1)}{suffix}"
        X_val = load_mnist_splits().X_val
        if acc < CHANCE:
            findings = diagnose(params, X_val, history) or ["mn.diagnose finds no cause in the weights"]
            return f"{line} — no better than guessing: {html.escape('; '.join(findings))}"
        dead = np.concatenate(dead_units(params, X_val))  # (number of hidden units,) bool
        return line + (f"; {dead.sum()}/{dead.size} hidden units dead" if dead.any() else "")

    def _show_curve(self):
        """Replace what ``output`` shows with one PNG of the board.

        Setting the Output widget's ``outputs`` (rather than displaying inside ``with output:``)
        replaces the image in place from any handler, adds nothing to the notebook cell, and
        lets the browser swap one ``<img>``.
        """
        self.output.outputs = (_png_output(png_bytes(self.curve.fig)),)
