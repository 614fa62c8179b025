"""Training: mini-batch gradient descent over epochs, with a history and a callback.

    history = fit(params, X, y, X_val=X_test, y_val=y_test, lr=0.1, num_epochs=5,
                  batch_size=128, rng=np.random.default_rng(0), callback=curve.update)

X (n0, m) inputs, y (m,) integer labels. ``fit`` changes ``params`` in place and
returns a :class:`History`. If the loss becomes NaN, infinite or larger than DIVERGED_LOSS, training stops,
``history.diverged`` says where, and a :class:`DivergenceWarning` is issued.
"""

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from mathnn.batches import minibatches, one_hot
from mathnn.data import load_mnist_splits
from mathnn.layers import nll
from mathnn.network import backward, forward, init_params, num_layers
from mathnn.optim import make_optimizer
from mathnn.shapes import shapes

# A loss above this counts as diverged. The stable log-softmax keeps an exploding loss
# finite (it can settle at ~1e3-1e4 once every ReLU is dead), so NaN/inf alone is not
# enough. A fresh 784-10-10 starts near ln 10 = 2.3; even with N(0, 1) weights below 100.
DIVERGED_LOSS = 1e3


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN, infinite or larger than DIVERGED_LOSS."""


@dataclass
class History:
    """What ``fit`` measured. Per-epoch lists share an index; ``step_loss`` is per step
    (after a divergence it ends with the loss that blew up).

    seconds[e] is the cumulative training time (excluding evaluation) after epoch e.
    """

    epoch: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    steps_per_epoch: int = 0
    diverged: str | None = None
    params: dict | None = field(default=None, repr=False)  # set by train_and_report


@shapes(params="layers", X="n0 m", y="m")
def evaluate(params, X, y):
    """Mean cross-entropy loss and accuracy on X (n0, m), labels y (m,)."""
    A, cache = forward(params, X)
    return nll(cache["log_A"], one_hot(y, A.shape[0])), float((A.argmax(axis=0) == y).mean())


@shapes(params="layers", X="n0 m", y="m", X_val="n0 m_val", y_val="m_val")
def fit(params, X, y, *, rng, X_val=None, y_val=None, optimizer="sgd", lr=0.1,
        num_epochs=5, batch_size=128, lr_schedule=None, callback=None):
    """Train params in place on X (n0, m), y (m,); return a History.

    rng: ``np.random.Generator`` for the shuffling. optimizer: "sgd", "momentum",
    "adam" or an optimizer object. lr_schedule: optional ``epoch -> lr`` (epochs from 0).
    callback(history): called after every epoch (and on divergence), e.g. a live plot.

    The shapes are checked once, here; the calls inside the loop are not re-checked.
    """
    opt = make_optimizer(optimizer, params, lr) if isinstance(optimizer, str) else optimizer
    Y = one_hot(y, params[f"W{num_layers(params)}"].shape[0]).astype(X.dtype)
    history = History(steps_per_epoch=math.ceil(X.shape[1] / batch_size))
    train_seconds = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below instead
        for epoch in range(num_epochs):
            if lr_schedule is not None:
                opt.lr = lr_schedule(epoch)
            start = time.perf_counter()
            losses = []
            for step, (X_batch, Y_batch) in enumerate(minibatches(X, Y, batch_size, rng)):
                _, cache = forward(params, X_batch)
                loss = nll(cache["log_A"], Y_batch)
                if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                    losses.append(loss)  # step_loss ends with the loss that blew up
                    history.diverged = (
                        f"diverged at epoch {epoch + 1}, step {step + 1} (lr={opt.lr:g}): the loss "
                        f"became {loss:.3g}. Usually the learning rate is too large: try a smaller one "
                        f"(or check the initialization)."
                    )
                    break
                opt.step(backward(params, cache, Y_batch))
                losses.append(loss)
            train_seconds += time.perf_counter() - start
            history.step_loss += losses
            if history.diverged:
                warnings.warn(history.diverged, DivergenceWarning, stacklevel=3)  # the caller of fit (past @shapes)
                if callback is not None:
                    callback(history)
                break
            history.epoch.append(epoch + 1)
            history.lr.append(opt.lr)
            history.train_loss.append(float(np.mean(losses)))
            history.seconds.append(train_seconds)
            if X_val is not None:
                val_loss, val_acc = evaluate(params, X_val, y_val)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
            if callback is not None:
                callback(history)
    return history


def train_and_report(lr, init, num_epochs, batch_size, seed, optimizer="sgd", train_size=None, callback=None,
                     lr_schedule=None):
    """Train a fresh 784-10-10 network on MNIST's 55,000 training images; return its History.

    The history's val_loss/val_acc are measured on the 5,000 validation images
    (:func:`mathnn.data.load_mnist_splits`); the test set is not touched.

    lr: learning rate; init: a scheme of ``mathnn.network.SCHEMES``; num_epochs: passes over
    the training set; batch_size: examples per step; seed: seeds ``np.random.default_rng``,
    which draws the initial weights and then shuffles the batches, so equal arguments give
    equal histories. optimizer: "sgd", "momentum" or "adam". train_size: train on the first
    ``train_size`` training images only (None: all 55,000). callback(history) and
    lr_schedule(epoch): as in :func:`fit`. The trained parameters are ``history.params``.

    A diverging run does not raise: it returns early with ``history.diverged`` set (the
    DivergenceWarning of :func:`fit` is silenced here; the message is in the history).
    """
    X, y, X_val, y_val, _, _ = load_mnist_splits()
    if train_size is not None:
        X, y = X[:, :train_size], y[:train_size]
    rng = np.random.default_rng(seed)
    params = init_params((784, 10, 10), init, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        history = fit(params, X, y, rng=rng, X_val=X_val, y_val=y_val, optimizer=optimizer, lr=lr,
                      num_epochs=num_epochs, batch_size=batch_size, callback=callback, lr_schedule=lr_schedule)
    history.params = params
    return history
