"""Widgets for the lessons: a training panel (lessons 05, 06) and a drawing pad (lesson 08), each a thin
layer over pure functions. The panel's function is

    params, history = train_mnist(lr=None, init="he", num_epochs=3, batch_size=128, seed=0,
                                  sizes=(784, 10, 10), optimizer="sgd", train_size=None)

trains a fresh network on MNIST's 55,000 training images (or the first ``train_size``) and returns its
parameters and :class:`~mathnn.train.History` (``history.step_loss`` is the loss of every step,
``history.val_acc`` the accuracy on the 5,000 validation images after every epoch; ``history.diverged``
says where training stopped if the loss blew up). Everything the panel shows comes from that function,
so a lesson (or a test) can check the panel by calling the function directly with the same arguments.

    panel = TrainingPanel(lr=0.1, init="he")
    display(panel)              # controls, Train and Clear buttons, the plot, a status line
    panel.train_button.click()  # what a click in the browser does

Only a click trains: moving a control just sets a value. A click that does not train (a run
is going, lr is not a number, or nothing changed since the last run) says why in the status
line (see :meth:`TrainingPanel._on_click`). Each run is added to the plot, beside the earlier
ones, until **Clear** is clicked.

:class:`mathnn.widgets.DrawingPad` reads a digit drawn with the mouse through :func:`mathnn.draw.preprocess` after every
stroke; everything it computes lives in :mod:`mathnn.draw`, callable without a mouse.

This module needs ipywidgets (``pip install mathnn[notebooks]``; the pad also ipycanvas); ``import mathnn``
does not import it: ``mn.TrainingPanel`` and ``mn.DrawingPad`` import it when first asked for.
"""

import base64
import html
import math
import numbers
import textwrap

import ipywidgets as widgets
import numpy as np

from mathnn.data import load_mnist_splits
from mathnn.debugging import dead_units, diagnose
from mathnn.draw import chart_png, predict_proba, preprocess, render_strokes
from mathnn.network import INITS
from mathnn.optim import OPTIMIZERS
from mathnn.plots import CYCLE, INIT_COLORS, OPTIMIZER_COLORS, image_bundle
from mathnn.train import CHANCE, train_mnist  # below CHANCE the status line shows mn.diagnose
from mathnn.validate import validate_number, validate_params, validate_positive_int

LR_EXPONENTS = (-4, 2)  # the lr slider runs from 10**-4 to 10**2 (log scale)
MAX_EPOCHS = 10  # the num_epochs slider runs from 1 to this
MAX_SEED = 10**6  # the seed box takes 0 .. this
BATCH_SIZES = (32, 64, 128, 256, 512)
HIDDEN_WIDTHS = (10, 32, 100)  # hidden units n1: the network is (784, n1, 10)
TRAIN_SIZES = (1000, 2000, 5000, 10000, 20000, 55000)  # the first this many training images; 55,000: all
LINE_STYLES = ("-", "--", ":", "-.")  # runs that share a colour: the first solid, the next dashed, ...
# How a run's settings read in its label, in this order.
SETTING_TEXT = {
    "lr": lambda v: f"lr={v:.3g}",
    "init": str,
    "optimizer": str,
    "sizes": lambda v: "-".join(map(str, v)),
    "train_size": lambda v: f"{v:,} images",
    "batch_size": lambda v: f"bs={v}",
    "num_epochs": lambda v: f"{v} epoch{'s' * (v != 1)}",
    "seed": lambda v: f"seed {v}",
}
LEGEND_WIDTH = 32  # characters per line of a run's label in the legend (longer labels wrap)
LOSS_TOP = 100  # the loss axis ends here; a diverging run's larger (or NaN) losses are drawn at it
ERROR_STYLE = "color: var(--jp-error-color1, #d32f2f)"  # red that reads on JupyterLab's light and dark themes


def _figure_output(fig, alt):
    """One nbformat display_data output holding fig as a PNG with its alt text (what an Output widget stores)."""
    data, metadata = image_bundle(fig, alt, dpi=90)
    return {"output_type": "display_data", "metadata": metadata, "data": data}


def _dropdown(description, options, value, labels=None):
    """A Dropdown over options (shown as labels(option) if given); ValueError naming the choices if value is
    not one of them."""
    if value not in options:
        raise ValueError(f"TrainingPanel: {description}={value!r} is not one of its choices {tuple(options)}")
    shown = options if labels is None else [(labels(o), o) for o in options]
    return widgets.Dropdown(options=shown, value=value, description=description)


def _in_range(description, value, low, high, whole=False):
    """value if it is a number (a whole one if whole) in [low, high], else ValueError: a slider would clamp it
    silently to a value the learner did not ask for."""
    kind = "a whole number" if whole else "a number"
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real)
            or not low <= value <= high):  # NaN fails too
        raise ValueError(f"TrainingPanel: {description}={value!r} is not {kind} from {low:g} to {high:g}, the range "
                         f"of its control; pass one in that range")
    return value


def smoothed(losses):
    """The running mean of losses (T,) over the last tenth of the steps: point t (from 1) averages the last
    max(1, t // 10) steps, up to step t (so steps 1 to 19 stay as they are). On a log-scaled step axis that
    window looks equally wide everywhere, and the first steps, where runs differ most, are not blurred."""
    T = len(losses)
    total = np.concatenate([[0.0], np.cumsum(losses)])  # (T + 1,)
    t = np.arange(1, T + 1)  # (T,) steps, from 1
    window = np.maximum(t // 10, 1)  # (T,)
    return (total[t] - total[t - window]) / window


def run_labels(settings):
    """Labels for runs given by their settings (dicts of train_mnist's arguments), and the shared text.

    Each label names the settings in which the runs differ (lr and init when there is one run); the shared
    text names the others, e.g. (["lr=0.1, he", "lr=0.3, he"], ...) -> labels ["lr=0.1", "lr=0.3"],
    shared "he, 784-10-10, 55,000 images, bs=128, 3 epochs, seed 0".
    """
    differ = [k for k in SETTING_TEXT if len({str(s[k]) for s in settings}) > 1] or ["lr", "init"]
    labels = [", ".join(SETTING_TEXT[k](s[k]) for k in differ) for s in settings]
    shared = ", ".join(SETTING_TEXT[k](settings[0][k]) for k in SETTING_TEXT if k not in differ) if settings else ""
    return labels, shared


def run_styles(settings):
    """A (colour, line style) per run. The colour is the init's (INIT_COLORS, as in every lesson) when the runs'
    inits differ, else the optimizer's (OPTIMIZER_COLORS) when theirs do, else plots.CYCLE in order; runs that
    share a colour are told apart by LINE_STYLES (the first solid, the next dashed, ...)."""
    colors = [CYCLE[i % len(CYCLE)] for i in range(len(settings))]
    for key, palette in (("init", INIT_COLORS), ("optimizer", OPTIMIZER_COLORS)):
        if len({s[key] for s in settings}) > 1:
            colors = [palette[s[key]] for s in settings]
            break
    return [(color, LINE_STYLES[colors[:i].count(color) % len(LINE_STYLES)]) for i, color in enumerate(colors)]


class TrainingPanel:
    """Controls for a training run, and a plot of the runs so far, overlaid for comparison.

        TrainingPanel(lr=0.1, init="he", num_epochs=3, batch_size=128, seed=0, optimizer="sgd", hidden=10,
                      train_size=None, max_runs=5, title="training on MNIST")

    sets the controls' first values: ValueError for a value that is not among a menu's choices or outside a
    slider's range (lr 1e-4 .. 100, num_epochs 1 .. 10, seed 0 .. 10**6), which the slider would clamp
    without a word; the plot keeps the last ``max_runs`` (>= 1) runs, under ``title``.

    Public attributes (the browser tests rely on them):

    - the controls, whose values are :func:`train_mnist`'s arguments (see :meth:`settings`): ``lr``:
      FloatLogSlider "lr", 1e-4 .. 100 (log scale; from about 30 up the 784-10-10 network diverges, at 1 to
      10 its ReLUs die and it stays at chance); ``init``: Dropdown "init" over ``INITS``; ``optimizer``:
      Dropdown "optimizer" (sgd, momentum, adam); ``num_epochs``: IntSlider "num_epochs" 1..10;
      ``batch_size``: Dropdown "batch_size" (BATCH_SIZES); ``hidden``: Dropdown "hidden", the hidden units
      n1 of the (784, n1, 10) network (HIDDEN_WIDTHS); ``train_size``: Dropdown "train_size", the first this
      many training images (TRAIN_SIZES; None: all 55,000); ``seed``: BoundedIntText "seed" (0 .. 10**6).
    - ``train_button``: Button "Train"; ``clear_button``: Button "Clear" (removes every run from the plot).
    - ``output``: Output widget holding the plot as one PNG image, replaced after every epoch (so the
      page shows an ``<img>`` whose ``src`` changes). Left: the loss of every step, on log-scaled axes
      (faint), and its running mean (see :func:`smoothed`); right: the validation accuracy after every
      epoch. One colour and one legend entry per run, labelled with the settings that differ between the
      runs (:func:`run_labels`); the settings they share are in the title.
    - ``status``: HTML line, e.g. "validation accuracy 0.915 after 3 epochs (lr=0.1, he); 0/10 hidden units
      dead" and, below CHANCE, the findings of :func:`mathnn.diagnose`; or the "diverged at epoch k, step s
      (lr=...): ..." message of the history; or why a click did nothing.
    - ``runs``: the runs on the plot, oldest first, as (settings, History) pairs; at most ``max_runs``
      (the oldest goes first), none after Clear.
    - ``params``, ``history``: the trained parameters and History of the last run (None before the first one).
    - ``trainings`` / ``ignored_clicks``: counters of runs and of clicks that did not train.
    - ``fig``, ``ax_loss``, ``ax_acc``: the matplotlib Figure (outside pyplot) and its two Axes.
    """

    def __init__(self, lr=OPTIMIZERS["sgd"].default_lr, init="he", num_epochs=3, batch_size=128, seed=0,
                 optimizer="sgd", hidden=10, train_size=None, max_runs=5, title="training on MNIST"):
        from matplotlib.figure import Figure

        _in_range("lr", lr, 10.0**LR_EXPONENTS[0], 10.0**LR_EXPONENTS[1])
        _in_range("num_epochs", num_epochs, 1, MAX_EPOCHS, whole=True)
        _in_range("seed", seed, 0, MAX_SEED, whole=True)
        _in_range("max_runs", max_runs, 1, math.inf, whole=True)
        if not isinstance(title, str):
            raise ValueError(f"TrainingPanel: title must be a string, got {type(title).__name__} {title!r:.60}")
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1], step=0.1,
                                         description="lr", continuous_update=False, readout_format=".3g")
        self.init = _dropdown("init", INITS, init)
        self.optimizer = _dropdown("optimizer", tuple(OPTIMIZERS), optimizer)
        self.num_epochs = widgets.IntSlider(value=num_epochs, min=1, max=MAX_EPOCHS, description="num_epochs",
                                            continuous_update=False)
        self.batch_size = _dropdown("batch_size", BATCH_SIZES, batch_size)
        self.hidden = _dropdown("hidden", HIDDEN_WIDTHS, hidden, lambda n: f"{n} (784-{n}-10)")
        self.train_size = _dropdown("train_size", TRAIN_SIZES, TRAIN_SIZES[-1] if train_size is None else train_size,
                                    lambda n: f"{n:,}" + (" (all)" if n == TRAIN_SIZES[-1] else ""))
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=MAX_SEED, description="seed")
        for control in (self.lr, self.init, self.optimizer, self.num_epochs, self.batch_size, self.hidden,
                        self.train_size, self.seed):  # three columns, labels of one width
            control.style.description_width = "90px"
            control.layout.width = "330px" if control in (self.lr, self.num_epochs, self.train_size) else "240px"
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train a fresh network with these settings, beside the runs shown")
        self.clear_button = widgets.Button(description="Clear", icon="eraser", tooltip="remove every run from the plot")
        self.output = widgets.Output()
        self.status = widgets.HTML()
        self._set_status("Choose the settings, then click <b>Train</b>.")
        self.max_runs, self.title = max_runs, title
        self.runs = []  # (settings, History) pairs, oldest first
        self.params = self.history = None
        self.trainings = 0
        self.ignored_clicks = 0
        self.busy = False
        self._last_settings = None  # the settings of the last run that finished
        self.fig = Figure(figsize=(10.5, 3.8), facecolor="white")  # white under the PNG in either theme
        self.ax_loss, self.ax_acc = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.07, right=0.74, bottom=0.15, top=0.78, wspace=0.3)  # legend at the right
        self.redraw()
        self.train_button.on_click(self._on_click)
        self.clear_button.on_click(self._on_clear)
        self.widget = widgets.VBox([
            widgets.HBox([self.lr, self.init, self.optimizer]),
            widgets.HBox([self.num_epochs, self.batch_size, self.hidden]),
            widgets.HBox([self.train_size, self.seed, self.train_button, self.clear_button]),
            self.output,
            self.status,
        ])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def png(self):
        """The PNG bytes of the plot the panel shows now."""
        return base64.b64decode(self.output.outputs[0]["data"]["image/png"])

    def settings(self):
        """The arguments of :func:`train_mnist` the next training will use."""
        return dict(lr=self.lr.value, init=self.init.value, optimizer=self.optimizer.value,
                    sizes=(784, self.hidden.value, 10), train_size=self.train_size.value,
                    batch_size=self.batch_size.value, num_epochs=self.num_epochs.value, seed=self.seed.value)

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
        - all the settings (every control, the seed too) equal those of the run that just finished:
          "same settings as the last run ...".

        Why the last rule. A click in the browser reaches the kernel as a comm message. While the
        handler trains, the kernel reads no messages, so clicks made meanwhile (the button is
        disabled, but clicks sent before the browser learnt that are on their way) wait in its
        queue, with any control changes, in the order they were made, and are handled one after
        another right after the run ends. Their timing cannot tell them from a new click; their
        settings can. A queued click made before any setting changed repeats the run that just
        ended: with the same seed it would train the very same network and draw the same curves
        again, so it does not train, and the status line says so. Any click after a setting
        changed (queued or not) trains with the new settings at once. Running earlier settings
        again after other ones is a new run (it replaces the earlier one on the plot), and so is
        the same run after Clear: only a repeat of the *last* run is skipped.
        """
        if self.busy:
            self._refuse("still training: click ignored")
        elif problem := self._lr_problem():
            self._refuse(problem + "; nothing trained")
        elif self.settings() == self._last_settings:
            self._refuse(f"same settings as the last run (seed {self.seed.value}): it would train the same "
                         f"network again, so this click was ignored; change a setting (the seed, say) to train")
        else:
            self.train()

    def _on_clear(self, _button=None):
        """Remove every run from the plot (refused while a run is going). The next click trains, even with
        the last run's settings."""
        if self.busy:
            self._refuse("still training: click ignored")
            return
        self.runs = []
        self._last_settings = None
        self.redraw()
        self._set_status("Plot cleared. Choose the settings, then click <b>Train</b>.")

    def _refuse(self, notice):
        """Count a click that did nothing and say why, after the status line it leaves in view."""
        self.ignored_clicks += 1
        self.status.value = f'{self._shown} — <span style="{ERROR_STYLE}">{html.escape(notice)}</span>'

    def train(self):
        """Train with the current settings (no click rules), adding the run to the plot and redrawing
        after every epoch.

        Raises ValueError if lr is not a number.
        """
        if problem := self._lr_problem():
            raise ValueError(problem)
        settings = self.settings()
        self.busy = True
        self.train_button.disabled = self.clear_button.disabled = True
        self._last_settings = None
        self.runs = [run for run in self.runs if run[0] != settings]  # a rerun replaces its earlier curves
        del self.runs[:max(len(self.runs) - self.max_runs + 1, 0)]  # room for this run: the oldest go
        label = run_labels([s for s, _ in self.runs] + [settings])[0][-1]
        self._set_status(f"training ({html.escape(label)}) …")
        try:
            def on_epoch(history):
                if not self.runs or self.runs[-1][1] is not history:
                    self.runs.append((settings, history))
                self.redraw()
                if not history.diverged:
                    self._set_status(f"epoch {history.epoch[-1]}/{settings['num_epochs']}: validation accuracy "
                                     f"{history.val_acc[-1]:.3f} ({html.escape(label)})")

            self.params, self.history = train_mnist(**settings, callback=on_epoch)
            self._set_status(self.report(self.params, self.history, label))
            self._last_settings = settings
        except Exception as e:
            self._set_status(f'<span style="{ERROR_STYLE}">error: {html.escape(repr(e))}</span>')
            raise
        finally:
            self.busy = False
            self.train_button.disabled = self.clear_button.disabled = False
            self.trainings += 1

    def _set_status(self, value):
        """Show value (HTML) in the status line; a refused click adds its notice to it (see _refuse)."""
        self._shown = self.status.value = value

    @staticmethod
    def report(params, history, label=""):
        """The status line (HTML) for a finished run: its trained params and its History.

        The validation accuracy and how many hidden units are dead (on the 5,000 validation images);
        when the accuracy is below CHANCE, the findings of :func:`mathnn.diagnose` instead, causes
        first (a symmetric init before dead units before the learning rate).
        """
        suffix = f" ({html.escape(label)})" if label else ""
        if history.diverged:
            return f'<span style="{ERROR_STYLE}"><b>{html.escape(history.diverged)}</b></span>'
        n, acc = len(history.epoch), history.val_acc[-1]
        line = f"validation accuracy <b>{acc:.3f}</b> after {n} epoch{'s' * (n != 1)}{suffix}"
        X_val = load_mnist_splits().X_val
        if acc < CHANCE:
            findings = diagnose(params, X_val, history) or ["mn.diagnose finds no cause in the weights"]
            return f"{line} — no better than guessing: {html.escape('; '.join(findings))}"
        dead = np.concatenate(dead_units(params, X_val))  # (number of hidden units,) bool
        return f"{line}; {dead.sum()}/{dead.size} hidden units dead"

    def redraw(self):
        """Draw the runs on the figure and show it in ``output`` as one PNG.

        Setting the Output widget's ``outputs`` (rather than displaying inside ``with output:``)
        replaces the image in place from any handler, adds nothing to the notebook cell, and
        lets the browser swap one ``<img>``.
        """
        from matplotlib.ticker import LogLocator, MaxNLocator, MultipleLocator, NullFormatter

        ax_loss, ax_acc = self.ax_loss, self.ax_acc
        ax_loss.clear()
        ax_acc.clear()
        settings = [s for s, _ in self.runs]
        labels, shared = run_labels(settings)
        lowest_acc, last_epoch = 1.0, 3
        for (s, h), label, (color, style) in zip(self.runs, labels, run_styles(settings)):
            loss = np.nan_to_num(np.minimum(h.step_loss, LOSS_TOP), nan=LOSS_TOP)  # (T,) a diverged run ends at the top
            t = np.arange(1, len(loss) + 1)  # (T,)
            ax_loss.plot(t, loss, color=color, lw=0.4, alpha=0.25)
            ax_loss.plot(t, smoothed(loss), color=color, ls=style, lw=1.8,
                         label=textwrap.fill(label + (" (diverged)" if h.diverged else ""), LEGEND_WIDTH))
            if h.diverged:
                ax_loss.plot(t[-1], loss[-1], "X", color=color, ms=9)
            ax_acc.plot(h.epoch, h.val_acc, marker="o", color=color, ls=style, lw=1.8)
            lowest_acc = min([lowest_acc, *h.val_acc])
            last_epoch = max(last_epoch, s["num_epochs"])
        ax_loss.set(xscale="log", yscale="log", xlabel="step $t$ (log scale)", ylabel="loss $L$ (log scale)",
                    title="training loss of every step, and its running mean")
        if not self.runs:
            ax_loss.set(xlim=(1, 1000), ylim=(0.1, 10))
        ax_loss.set_ylim(top=min(ax_loss.get_ylim()[1], LOSS_TOP * 1.2))
        for axis, (low, high) in ((ax_loss.xaxis, ax_loss.get_xlim()), (ax_loss.yaxis, ax_loss.get_ylim())):
            # labels 0.2, 0.5, 1, 2 (1, 10, 100 over more than two decades) rather than 2x10^-1
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if high / low < 100 else (1.0,)))
            axis.set_major_formatter("{x:g}")
            axis.set_minor_formatter(NullFormatter())
        # Accuracy from at most 0.8 to 1: a 1-point gap between two runs stays a small gap on the plot.
        bottom = min(0.8, math.floor(lowest_acc * 10) / 10)
        ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="accuracy on the 5,000 validation images",
                   xlim=(0.5, last_epoch + 0.5), ylim=(bottom, 1.0))
        ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_acc.yaxis.set_major_locator(MultipleLocator(0.05 if bottom >= 0.7 else 0.1))
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3, which="both" if ax is ax_loss else "major")
        if self.runs:
            ax_acc.legend(*ax_loss.get_legend_handles_labels(), loc="upper left", bbox_to_anchor=(1.04, 1.0),
                          borderaxespad=0, fontsize=9, title="runs", title_fontsize=9, frameon=False)
        else:
            ax_acc.text(0.5, 0.5, "click Train", transform=ax_acc.transAxes, ha="center", color="0.4")
        subtitle = f"every run: {shared}" if len(self.runs) > 1 and shared else shared
        self.fig.suptitle(f"{self.title}\n{subtitle}" if subtitle else self.title, fontsize=10)
        self.output.outputs = (_figure_output(self.fig, self.alt_text(labels)),)

    def alt_text(self, labels):
        """What the plot shows, in words (the PNG's alt text): each run's label (labels, as the legend has them)
        and its numbers."""
        if not self.runs:
            return "an empty training plot: no run yet; click Train"
        parts = []
        for (_, h), label in zip(self.runs, labels):
            accs = ", ".join(f"{a:.2f}" for a in h.val_acc) or "none"
            end = "diverged" if h.diverged else f"last step loss {h.step_loss[-1]:.2f}" if h.step_loss else "no steps"
            parts.append(f"{label}: validation accuracy after each epoch {accs}; {end}")
        return (f"training loss per step (log axes) and validation accuracy per epoch of {len(self.runs)} "
                f"run{'s' * (len(self.runs) != 1)}: " + "; ".join(parts))


class DrawingPad:
    """A drawing pad (ipycanvas) that reads the digit with ``params`` after every stroke.

        pad = DrawingPad(params)
        pad            # in a notebook cell: the canvas, a Clear button, the prediction and its chart

    The mouse handlers only record points and draw them; ``update()`` renders the strokes
    with :func:`render_strokes`, runs :func:`preprocess` and the network, and refreshes the
    prediction text and the chart. Without a mouse, drive it with ``mouse_down``,
    ``mouse_move`` and ``mouse_up`` (or set ``strokes`` and call ``update()``).
    Errors inside the handlers are shown in the pad's own output area, not swallowed.
    """

    def __init__(self, params, size=280, width=20.0):
        from ipycanvas import Canvas

        validate_params(params, "DrawingPad", dims={"n0": 784})  # a network that reads 28 x 28 = 784 pixels
        validate_positive_int("size", size, "DrawingPad", "e.g. 280 (pixels)")
        width = validate_number("width", width, lambda x: 0 < x <= size,
                                f"the pen's width in pixels, a number above 0 and at most size={size}", "DrawingPad")
        self.params, self.size, self.width = params, size, width
        self.strokes = []
        self.drawing = False
        self.probs = None
        self.canvas = Canvas(width=size, height=size,
                             layout=widgets.Layout(width=f"{size}px", height=f"{size}px", border="1px solid #888"))
        self.canvas.add_class("mathnn-draw-canvas")
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.clear_button.add_class("mathnn-draw-clear")
        self.prediction = widgets.HTML()
        self.prediction.add_class("mathnn-draw-prediction")
        self.chart = widgets.Image(format="png")
        self.chart.add_class("mathnn-draw-chart")
        self.log = widgets.Output()  # handler errors are shown here
        capture = self.log.capture()
        self.canvas.on_mouse_down(capture(self.mouse_down))
        self.canvas.on_mouse_move(capture(self.mouse_move))
        self.canvas.on_mouse_up(capture(self.mouse_up))
        self.canvas.on_mouse_out(capture(self.mouse_up))
        self.canvas.on_client_ready(capture(self.redraw))
        self.clear_button.on_click(capture(self.clear))
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.canvas, self.clear_button]),
                          widgets.VBox([self.prediction, self.chart], layout=widgets.Layout(margin="0 0 0 16px"))]),
            self.log,
        ])
        self.redraw()
        self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _pen(self):
        self.canvas.stroke_style = self.canvas.fill_style = "black"
        self.canvas.line_width = self.width
        self.canvas.line_cap = self.canvas.line_join = "round"

    def mouse_down(self, x, y):
        self.drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_circle(x, y, self.width / 2)

    def mouse_move(self, x, y):
        if not self.drawing:
            return
        (x0, y0) = self.strokes[-1][-1]
        self.strokes[-1].append((x, y))
        self.canvas.stroke_line(x0, y0, x, y)

    def mouse_up(self, x, y):
        if self.drawing:
            self.drawing = False
            self.update()

    def redraw(self):
        """Repaint the canvas from the recorded strokes (also when a new view connects)."""
        from ipycanvas import hold_canvas

        with hold_canvas():
            self.canvas.clear()
            self.canvas.fill_style = "white"
            self.canvas.fill_rect(0, 0, self.size, self.size)
            self._pen()
            for stroke in self.strokes:
                self.canvas.fill_circle(*stroke[0], self.width / 2)
                if len(stroke) > 1:
                    self.canvas.stroke_lines(stroke)

    def clear(self, _button=None):
        self.strokes = []
        self.drawing = False
        self.redraw()
        self.update()

    def image(self):
        """The drawing as a (size, size) array, ink 1 on 0."""
        return render_strokes(self.strokes, (self.size, self.size), self.width)

    def update(self):
        """Read the drawing: preprocess, predict, refresh the text and the chart."""
        x = preprocess(self.image())
        if x is None:
            self.probs = None
            self.prediction.value = "<b>draw a digit</b> in the box (hold the mouse button down)"
        else:
            self.probs = predict_proba(self.params, x)
            digit = int(self.probs.argmax())
            self.prediction.value = (f"<span style='font-size: 1.4em'>prediction: <b>{digit}</b></span> "
                                     f"({self.probs[digit]:.0%} sure)")
        self.chart.value = chart_png(x, self.probs)

    @property
    def predicted(self):
        """The predicted digit, or None when the pad is blank."""
        return None if self.probs is None else int(self.probs.argmax())
