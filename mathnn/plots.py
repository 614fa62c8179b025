"""Plots: a live learning curve, grids of digits, hidden-unit weights, a confusion matrix.

Static helpers return a matplotlib Figure (the notebook shows it). The live curve
draws on a Figure outside pyplot and shows it as a PNG through an IPython display
handle, so each redraw replaces the same single output instead of adding one.
matplotlib is imported when the first plot is drawn, not by ``import mathnn``.
"""

import io

import numpy as np

__all__ = ["LiveCurve", "show_digits", "show_hidden_weights", "show_confusion"]


def png_bytes(fig):
    """Render a matplotlib Figure to PNG bytes (for display handles and widgets)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


class LiveCurve:
    """A learning curve that redraws in place after every epoch (d2l's ProgressBoard).

        with LiveCurve() as curve:
            history = fit(..., callback=curve.update)

    Left: train and validation loss; right: validation accuracy, and with ``train_acc=True`` the
    training accuracy beside it (the history's train_acc: the gap between the two is overfitting).
    ``update(history)`` redraws from a History; several runs can share one board with
    ``update(history, label)``. The curves labelled "validation" are the history's val_loss/val_acc: give
    ``fit`` the validation images as ``X_val`` (the test set is touched once, at the end).
    """

    def __init__(self, title="learning curve", figsize=(9, 3.2), display=True, train_acc=False):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize)
        self.ax_loss, self.ax_acc = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.8, wspace=0.25)  # fixed: redraws stay cheap
        self.title = title
        self.train_acc = train_acc
        self.runs = {}  # label -> History
        self.handle = None
        if display:
            from IPython.display import display as show

            self.handle = show(self._image(), display_id=True)

    def _image(self):
        from IPython.display import Image

        return Image(data=png_bytes(self.fig), format="png")

    def update(self, history, label=""):
        """Redraw with the latest numbers of ``history`` (for run ``label``)."""
        self.runs[label] = history
        self.redraw()

    def redraw(self):
        ax_loss, ax_acc = self.ax_loss, self.ax_acc
        ax_loss.clear()
        ax_loss.set_yscale("linear")
        ax_acc.clear()
        notes = []
        for label, h in self.runs.items():
            prefix = f"{label} " if label else ""
            line, = ax_loss.plot(h.epoch, h.train_loss, "o-", label=f"{prefix}train" if h.epoch else "_nolegend_")
            if h.val_loss:
                ax_loss.plot(h.epoch, h.val_loss, "s--", color=line.get_color(), label=f"{prefix}validation")
                ax_acc.plot(h.epoch, h.val_acc, "s--", color=line.get_color(), label=f"{prefix}validation")
            if self.train_acc and h.train_acc:
                ax_acc.plot(h.epoch, h.train_acc, "o-", color=line.get_color(), label=f"{prefix}train")
            if h.diverged:
                notes.append(f"{prefix}{h.diverged.split(':')[0]}")
                # the steps of the epoch that diverged: the last one is where the loss blew up
                steps = h.step_loss[len(h.epoch) * h.steps_per_epoch:]
                if steps and h.steps_per_epoch:
                    x = len(h.epoch) + np.arange(1, len(steps) + 1) / h.steps_per_epoch
                    ax_loss.plot(x, steps, ".-", color=line.get_color(), lw=0.8, label=f"{prefix}last steps")
                    ax_loss.set_yscale("log")
        ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="train and validation accuracy" if self.train_acc
                   else "validation accuracy")
        for ax in (ax_loss, ax_acc):
            if ax.lines:
                ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        self.fig.suptitle(self.title + ("\n" + "; ".join(notes) if notes else ""), fontsize=10,
                          color="crimson" if notes else "black")
        self.fig.subplots_adjust(top=0.72 if notes else 0.8)  # room for a second title line
        if self.handle is not None:
            self.handle.update(self._image())

    def close(self):
        """Free the figure (the last PNG stays in the notebook)."""
        self.fig.clf()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def show_digits(X, y=None, pred=None, ncols=10, nrows=2, title=None):
    """Grid of images from X (784, m) (first ncols*nrows columns); labels/predictions as titles."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 1.05))
    for j, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if j >= X.shape[1]:
            continue
        ax.imshow(X[:, j].reshape(28, 28), cmap="gray_r")
        if y is not None:
            text = str(y[j]) if pred is None else f"{y[j]}→{pred[j]}"
            ax.set_title(text, fontsize=9, color="black" if pred is None or pred[j] == y[j] else "crimson")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_hidden_weights(W1, title="what each hidden unit looks for (rows of W1)", limit=None):
    """The rows of W1 (n1, 784) as 28x28 images; red positive, blue negative.

    limit: the weight drawn at full color, one scale for every unit (to compare two networks);
    None scales each unit to its own largest |w|.
    """
    import matplotlib.pyplot as plt

    n = W1.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(n * 1.0, 1.4))
    for i, ax in enumerate(np.atleast_1d(axes)):
        w = W1[i].reshape(28, 28)
        unit_limit = limit or np.abs(w).max() or 1.0
        ax.imshow(w, cmap="RdBu_r", vmin=-unit_limit, vmax=unit_limit)
        ax.set_title(f"unit {i}", fontsize=8)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_confusion(C, title="confusion matrix (rows: true digit, columns: predicted)"):
    """Heat map of a confusion matrix C (k, k) of counts, with the counts written in."""
    import matplotlib.pyplot as plt

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
