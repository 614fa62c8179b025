"""Plots: a live learning curve, grids of digits, hidden-unit weights, a confusion matrix.

Static helpers return a matplotlib Figure; a lesson shows it with ``show(fig, alt=...)``, which
displays it once as a PNG with alt text (what the figure shows, for a screen reader and for the
HTML pages of the course) and closes it. The live curve draws on a Figure outside pyplot and shows
it through an IPython display handle, so each redraw replaces the same single output.
Every initialization scheme and every optimizer has one colour in every figure of the course
(``INIT_COLORS``, ``OPTIMIZER_COLORS``; ``CYCLE`` for anything else): colours that stay apart for
the three kinds of colour blindness, each at least 3:1 against white (Okabe-Ito's, one of Paul Tol's).
matplotlib is imported when the first plot is drawn, not by ``import mathnn``.
"""

import base64
import html
import io
import math

import numpy as np

from mathnn.validate import ShapeError, validate_number, validate_positive_int

__all__ = ["INIT_COLORS", "OPTIMIZER_COLORS", "CYCLE", "show", "set_accuracy_limits", "LiveCurve", "show_digits",
           "show_hidden_weights", "show_confusion", "show_backprop_graph"]

INIT_COLORS = {
    "zeros": "#000000",   # black: every unit the same
    "normal": "#D55E00",  # vermillion
    "small": "#CC79A7",   # reddish purple
    "lecun": "#009E73",   # bluish green
    "glorot": "#882255",  # wine (Paul Tol's; Okabe-Ito's orange is too light on white)
    "he": "#0072B2",      # blue
}
OPTIMIZER_COLORS = {"sgd": "#0072B2", "momentum": "#D55E00", "adam": "#009E73"}
CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#882255", "#000000")  # for runs of any other kind


def png_bytes(fig, dpi=80, tight=False):
    """Render a matplotlib Figure to PNG bytes on an opaque white background (readable in a dark theme).

    tight: crop to what is drawn, legends placed outside the axes included (sizes may then vary
    between redraws, so live plots keep the figure's size).
    """
    buffer = io.BytesIO()
    fig.patch.set_alpha(1.0)  # an alpha set on the figure's patch would override the white facecolor below
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight" if tight else None,
                pad_inches=0.1)
    return buffer.getvalue()


def image_bundle(fig, alt, tight=False, dpi=80):
    """A display bundle for ``fig``: the PNG, the same PNG as an <img alt=...>, and alt as plain text.

    JupyterLab's image renderer and nbconvert's lab template ignore an image's alt metadata; both
    prefer the HTML form, which keeps its alt (and its data: source, in untrusted outputs too).
    nbconvert's classic template reads the metadata. The price: a saved notebook holds each figure's PNG
    twice (the HTML pages built from it, once).
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"expected a matplotlib Figure (e.g. fig = mn.show_digits(...)), got {type(fig).__name__}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must say what the figure shows, e.g. alt='loss falls from 2.3 to 0.3 "
                         "over 5 epochs'; got " + repr(alt))
    png = png_bytes(fig, dpi=dpi, tight=tight)
    encoded = base64.b64encode(png).decode("ascii")
    data = {"image/png": encoded,
            "text/html": f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}">',
            "text/plain": alt}
    metadata = {"image/png": {"alt": alt}}  # nbconvert's classic template reads this
    return data, metadata


def show(fig, alt):
    """Show a matplotlib Figure once as a PNG with alt text (what it shows), then close it.

    alt: a sentence or two on what the figure shows, the data, not "a plot", e.g. "validation
    accuracy per epoch: He 85% to 92%, small 20% to 77%". Closing the figure keeps the notebook's
    inline backend from showing it a second time; returning None keeps a cell ending in
    ``mn.show(fig, alt="...")`` from showing it as the cell's value.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    data, metadata = image_bundle(fig, alt, tight=True)
    display(data, metadata=metadata, raw=True)
    plt.close(fig)


class LiveCurve:
    """A learning curve that redraws in place after every epoch (d2l's ProgressBoard).

        with LiveCurve() as curve:
            history = fit(..., callback=curve.update)

    Left: train and validation loss; right: validation accuracy, and with ``train_acc=True`` the
    training accuracy beside it (the history's train_acc: the gap between the two is overfitting).
    ``update(history)`` redraws from a History; several runs can share one board with
    ``update(history, label)``, each in its own colour (or ``color=``, e.g. ``INIT_COLORS["he"]``).
    ``update(history, label, seed=s)`` for several seeds of one setting draws the first seed with
    markers and the others as thin lines in the same colour: the spread a difference must beat.
    The curves labelled "validation" are the history's val_loss/val_acc: give ``fit`` the validation
    images as ``X_val`` (the test set is touched once, at the end). The PNG carries alt text that
    says what the curves show (``alt_text()``).
    """

    def __init__(self, title="learning curve", figsize=(9, 3.2), display=True, train_acc=False):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize, facecolor="white", layout="constrained")
        self.ax_loss, self.ax_acc = self.fig.subplots(1, 2)
        self.title = title
        self.train_acc = train_acc
        self.runs = {}  # label -> History of its first seed
        self.other_seeds = {}  # label -> {seed: History} of its other seeds
        self.colors = {}  # label -> colour
        self._first_seed = {}  # label -> the seed of runs[label]
        self.handle = None
        if display:
            from IPython.display import display as show_output

            data, metadata = image_bundle(self.fig, self.alt_text())
            self.handle = show_output(data, metadata=metadata, raw=True, display_id=True)

    def update(self, history, label="", seed=None, color=None):
        """Redraw with the latest numbers of ``history`` (for run ``label``, seed ``seed``)."""
        if not all(hasattr(history, name) for name in ("epoch", "train_loss", "val_acc", "step_loss", "diverged")):
            raise TypeError(f"LiveCurve.update(): history must be the History that mn.fit returns (or passes to its "
                            f"callback, callback=curve.update); got {type(history).__name__}")
        if self.train_acc and len(history.train_acc) < len(history.epoch):
            raise ValueError("LiveCurve(train_acc=True) draws the training accuracy, but this history has none: "
                             "train with mn.fit(..., train_acc=True) (or mn.train_mnist(..., train_acc=True))")
        if color is not None:
            self.colors[label] = color
        if label not in self.runs or self._first_seed.get(label) == seed:
            self.runs[label] = history
            self._first_seed[label] = seed
        else:
            self.other_seeds.setdefault(label, {})[seed] = history
        self.redraw()

    def _color(self, label):
        if label not in self.colors:
            used = set(self.colors.values())
            self.colors[label] = next((c for c in CYCLE if c not in used), CYCLE[len(self.colors) % len(CYCLE)])
        return self.colors[label]

    def redraw(self):
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        ax_loss, ax_acc = self.ax_loss, self.ax_acc
        ax_loss.clear()
        ax_loss.set_yscale("linear")
        ax_acc.clear()
        notes, handles = [], []
        for label, h in self.runs.items():
            prefix = f"{label} " if label else ""
            color = self._color(label)
            for other in self.other_seeds.get(label, {}).values():  # thin, no markers: the seed spread
                ax_loss.plot(other.epoch, other.train_loss, "-", color=color, lw=0.8, alpha=0.5)
                if other.val_loss:
                    ax_loss.plot(other.epoch, other.val_loss, "--", color=color, lw=0.8, alpha=0.5)
                    ax_acc.plot(other.epoch, other.val_acc, "--", color=color, lw=0.8, alpha=0.5)
                if self.train_acc and other.train_acc:
                    ax_acc.plot(other.epoch, other.train_acc, "-", color=color, lw=0.8, alpha=0.5)
            ax_loss.plot(h.epoch, h.train_loss, "o-", color=color, label=f"{prefix}train")
            if h.val_loss:
                ax_loss.plot(h.epoch, h.val_loss, "s--", color=color, label=f"{prefix}validation")
                ax_acc.plot(h.epoch, h.val_acc, "s--", color=color, label=f"{prefix}validation")
            if self.train_acc and h.train_acc:
                ax_acc.plot(h.epoch, h.train_acc, "o-", color=color, label=f"{prefix}train")
            if label:
                handles.append(Line2D([], [], color=color, lw=2.5, label=label))
            if h.diverged:
                notes.append(f"{prefix}{h.diverged.split(':')[0]}")
                # the steps of the epoch that diverged: the last one is where the loss blew up
                steps = h.step_loss[len(h.epoch) * h.steps_per_epoch:]
                if steps and h.steps_per_epoch:
                    x = len(h.epoch) + np.arange(1, len(steps) + 1) / h.steps_per_epoch
                    ax_loss.plot(x, steps, ".-", color=color, lw=0.8, label=f"{prefix}last steps")
                    ax_loss.set_yscale("log")
        ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="train and validation accuracy" if self.train_acc
                   else "validation accuracy")
        for ax in (ax_loss, ax_acc):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        set_accuracy_limits(ax_acc)
        for legend in self.fig.legends:
            legend.remove()
        if self.runs:
            style = [Line2D([], [], color="black", marker="o", label="train"),
                     Line2D([], [], color="black", marker="s", ls="--", label="validation")]
            if self.other_seeds:
                style.append(Line2D([], [], color="black", lw=0.8, alpha=0.5, label="other seeds"))
            self.fig.legend(handles=handles + style, loc="outside right upper", fontsize=8)
        self.fig.suptitle(self.title + ("\n" + "; ".join(notes) if notes else ""), fontsize=10,
                          color="#D55E00" if notes else "black")
        if self.handle is not None:
            data, metadata = image_bundle(self.fig, self.alt_text())
            self.handle.update(data, metadata=metadata, raw=True)

    def alt_text(self):
        """What the curves show, in words: the first and last numbers of every run (the PNG's alt text)."""
        accuracy = "training and validation accuracy" if self.train_acc else "validation accuracy"
        text = f"Learning curves, {self.title}: loss (left) and {accuracy} (right) per epoch."
        for label, h in self.runs.items():
            if not h.epoch:
                continue
            n = h.epoch[-1]
            part = (f" {label or 'The run'}: training loss {h.train_loss[0]:.3f} after epoch 1, "
                    f"{h.train_loss[-1]:.3f} after epoch {n}")
            if h.val_acc:
                part += f"; validation accuracy {h.val_acc[0]:.1%} after epoch 1, {h.val_acc[-1]:.1%} after epoch {n}"
                others = [o.val_acc[-1] for o in self.other_seeds.get(label, {}).values() if o.val_acc]
                if others:
                    finals = [h.val_acc[-1]] + others
                    part += f" ({min(finals):.1%} to {max(finals):.1%} over {len(finals)} seeds)"
            if self.train_acc and h.train_acc:
                part += f"; training accuracy {h.train_acc[-1]:.1%} after epoch {n}"
            if h.diverged:
                part += f"; diverged in epoch {n + 1}"
            text += part + "."
        if not any(h.epoch for h in self.runs.values()):
            text += " No epoch finished yet."
        return text

    def close(self):
        """Free the figure (the last PNG stays in the notebook)."""
        self.fig.clf()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def set_accuracy_limits(ax, min_span=0.1):
    """Give an accuracy axis at least ``min_span`` (10 points) of range within [0, 1], so a gap of
    one point between two single-seed runs is not drawn as a chasm; ticks as percentages."""
    from matplotlib.ticker import PercentFormatter

    if not ax.lines:
        return
    values = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.lines])
    values = values[np.isfinite(values)]
    if values.size:
        low, high = values.min(), values.max()
        pad = max(min_span - (high - low), 0) / 2 + 0.01
        low, high = max(low - pad, 0.0), min(high + pad, 1.0)
        if high - low < min_span:  # against 0 or 1: grow the other way
            low, high = (0.0, min_span) if low == 0 else (1.0 - min_span, 1.0)
        ax.set_ylim(low, high)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _images_problem(name, X, hint):
    """ShapeError for X that is not (784, m) images, one per column: X.T when transposed."""
    shape = getattr(X, "shape", None)
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] == 784:
        return
    if shape is not None and len(shape) == 2 and shape[1] == 784:
        fix = f"{name} is {shape} = (m, 784), one image per row: transpose it, {hint}"
    elif shape is not None and len(shape) == 1 and shape[0] == 784:
        fix = f"{name} is one image of shape (784,): make it a column, {name}.reshape(784, 1)"
    else:
        fix = f"{name} should be a NumPy array (784, m), one 28x28 image per column; got {shape or type(X).__name__}"
    raise ShapeError(fix)


def show_digits(X, y=None, pred=None, ncols=10, nrows=2, title=None):
    """Grid of images from X (784, m) (first ncols*nrows columns); labels y/predictions pred (m,) as titles."""
    import matplotlib.pyplot as plt

    _images_problem("X", X, "show_digits(X.T, ...)")
    validate_positive_int("ncols", ncols, "show_digits", "e.g. 10")
    validate_positive_int("nrows", nrows, "show_digits", "e.g. 2")
    shown = min(X.shape[1], ncols * nrows)
    for name, labels in (("y", y), ("pred", pred)):
        if labels is not None and len(labels) < shown:
            raise ShapeError(f"show_digits(): {name} has {len(labels)} entries for {shown} images shown: pass one "
                             f"per column of X")

    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 1.05))
    for j, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if j >= X.shape[1]:
            continue
        ax.imshow(X[:, j].reshape(28, 28), cmap="gray_r")
        if y is not None:
            text = str(y[j]) if pred is None else f"{y[j]}→{pred[j]}"
            ax.set_title(text, fontsize=9, color="black" if pred is None or pred[j] == y[j] else "#D55E00")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_hidden_weights(W1, title="what each hidden unit looks for (rows of W1)", limit=None, ncols=10):
    """The rows of W1 (n1, 784) as 28x28 images on one symmetric colour scale, with a colorbar.

    Red: a positive weight (ink there raises the unit's pre-activation), blue: negative, white: 0.
    limit: the |weight| drawn at full colour; None takes the largest |w| in W1. Give two networks
    the same limit to compare them. Up to ncols units per row.
    """
    import matplotlib.pyplot as plt

    if not (isinstance(W1, np.ndarray) and W1.ndim == 2 and W1.shape[1] == 784 and W1.shape[0] >= 1):
        raise ShapeError(f"show_hidden_weights(): W1 should be the first layer's weights (n1, 784), one row per unit; "
                         f"got {getattr(W1, 'shape', type(W1).__name__)}"
                         + (": transpose it, W1.T" if getattr(W1, "ndim", 0) == 2 and W1.shape[0] == 784 else ""))
    validate_positive_int("ncols", ncols, "show_hidden_weights", "e.g. 10")
    if limit is not None:
        validate_number("limit", limit, lambda x: 0 < x < math.inf,
                        "a positive number (the |weight| at full colour) or None", "show_hidden_weights")
    n = W1.shape[0]
    limit = limit or float(np.abs(W1).max()) or 1.0
    nrows = -(-n // ncols)  # ceil
    fig, axes = plt.subplots(nrows, min(n, ncols), figsize=(min(n, ncols) * 0.95 + 1.0, nrows * 1.1 + 0.4),
                             layout="constrained", squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            image = ax.imshow(W1[i].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"unit {i}", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.9, label="weight")
    fig.suptitle(title, fontsize=10)
    return fig


def show_confusion(C, title="confusion matrix (rows: true digit, columns: predicted)"):
    """Heat map of a confusion matrix C (k, k) of counts, with the counts written in."""
    import matplotlib.pyplot as plt

    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.size == 0:
        raise ShapeError(f"show_confusion(): C should be a square (k, k) matrix of counts, rows the true class and "
                         f"columns the predicted one (mn.confusion_matrix(y_true, y_pred)); got shape {C.shape}")
    if C.dtype.kind not in "iu" or C.min() < 0:
        raise ValueError(f"show_confusion(): C should hold counts, whole numbers >= 0 (mn.confusion_matrix); got "
                         f"dtype {C.dtype}" + (f" and a minimum of {C.min()}" if C.dtype.kind in "iuf" else ""))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(C, cmap="Blues")
    k = C.shape[0]
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def show_backprop_graph(sizes=(784, 10, 10)):
    """The computation graph of a one-hidden-layer network: every array with its shape, the forward pass
    left to right (black), the gradients flowing back right to left (vermillion), each with its equation.

    sizes: (n0, n1, n2), e.g. (784, 10, 10); m stays a letter (the batch size).
    """
    import matplotlib.pyplot as plt

    n0, n1, n2 = sizes
    fwd, back = "black", CYCLE[1] if len(CYCLE) > 1 else "#D55E00"
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.set(xlim=(-0.6, 10.6), ylim=(-3.1, 2.1))
    ax.axis("off")

    def box(x, y, text, color=fwd, face="white"):
        ax.text(x, y, text, ha="center", va="center", fontsize=10, color=color,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": face, "edgecolor": color})

    def arrow(start, end, color, text="", offset=(0, 0.18), dashed=False):
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.3,
                                                          "shrinkA": 26, "shrinkB": 26,
                                                          "linestyle": "--" if dashed else "-"})
        if text:
            ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                    va="center", fontsize=8.5, color=color)

    main = {"X": 0, "Z1": 2, "A1": 4, "Z2": 6, "A2": 8, "L": 10}  # x of each array on the forward row
    box(0, 0, f"$X = A^{{[0]}}$\n({n0}, m)")
    box(2, 0, f"$Z^{{[1]}}$\n({n1}, m)")
    box(4, 0, f"$A^{{[1]}}$\n({n1}, m)")
    box(6, 0, f"$Z^{{[2]}}$\n({n2}, m)")
    box(8, 0, f"$A^{{[2]}}$\n({n2}, m)")
    box(10, 0, "$L$\na number")
    box(1, 1.55, f"$W^{{[1]}}$ ({n1}, {n0})\n$b^{{[1]}}$ ({n1}, 1)")
    box(5, 1.55, f"$W^{{[2]}}$ ({n2}, {n1})\n$b^{{[2]}}$ ({n2}, 1)")
    box(9, 1.55, f"$Y$ ({n2}, m)\none-hot")
    for (a, b), text in zip([("X", "Z1"), ("Z1", "A1"), ("A1", "Z2"), ("Z2", "A2"), ("A2", "L")],
                            ["(1)", "relu (2)", "(1)", "softmax (3)", "cross-entropy (5)"]):
        arrow((main[a], 0), (main[b], 0), fwd, text)
    for x_param, x_to in ((1, 2), (5, 6), (9, 10)):
        arrow((x_param, 1.55), (x_to, 0), fwd)

    box(10, -1.3, "start:\n$dL/dL = 1$", color=back)
    box(6, -1.3, f"$dZ^{{[2]}}$\n({n2}, m)", color=back)
    box(4, -1.3, f"$dA^{{[1]}}$\n({n1}, m)", color=back)
    box(2, -1.3, f"$dZ^{{[1]}}$\n({n1}, m)", color=back)
    arrow((10, -1.3), (6, -1.3), back, "(5'): softmax and\ncross-entropy together", offset=(0, 0.3))
    arrow((6, -1.3), (4, -1.3), back, "(8)")
    arrow((4, -1.3), (2, -1.3), back, "(9)")
    box(6, -2.75, f"$dW^{{[2]}}$ ({n2}, {n1}), $db^{{[2]}}$ ({n2}, 1)", color=back, face="#fff6ee")
    box(2, -2.75, f"$dW^{{[1]}}$ ({n1}, {n0}), $db^{{[1]}}$ ({n1}, 1)", color=back, face="#fff6ee")
    arrow((6, -1.3), (6, -2.75), back, "(6), (7)", offset=(0.45, 0), dashed=True)
    arrow((2, -1.3), (2, -2.75), back, "(6), (7)", offset=(0.45, 0), dashed=True)
    ax.text(-0.5, 0.75, "forward", fontsize=9, color=fwd, ha="left")
    ax.text(-0.5, -0.7, "backward: every gradient has the shape of its array", fontsize=9, color=back, ha="left")
    fig.tight_layout()
    return fig
