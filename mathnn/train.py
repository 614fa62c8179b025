"""Training: mini-batch gradient descent over epochs, with a history and a callback.

    history = fit(params, X, y, X_val=X_val, y_val=y_val, lr=0.1, num_epochs=5,
                  batch_size=128, rng=np.random.default_rng(0), callback=curve.update)
    params, history = train_mnist(lr=0.1, init="he", num_epochs=3)   # a fresh network on MNIST

X (n0, m) inputs, y (m,) integer labels. ``fit`` changes ``params`` in place and
returns a :class:`History`. If the loss becomes NaN, infinite or larger than DIVERGED_LOSS, training stops,
``history.diverged`` says where, and a :class:`DivergenceWarning` is issued.
"""

import functools
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from mathnn import layers, network, regularization
from mathnn.batches import one_hot
from mathnn.data import load_mnist_splits
from mathnn.layers import cross_entropy
from mathnn.mnist import num_images
from mathnn.network import forward, init_params, num_layers
from mathnn.optim import make_optimizer
from mathnn.shapes import shapes
from mathnn.splits import NUM_VAL
from mathnn.validate import (
    validate_callable,
    validate_finite,
    validate_labels,
    validate_positive_int,
    validate_rate,
    validate_rng,
    validate_sizes,
)

__all__ = ["DIVERGED_LOSS", "DivergenceWarning", "History", "evaluate", "fit", "train_mnist"]

# A loss above this counts as diverged. The stable log-softmax keeps an exploding loss
# finite (it can settle at ~1e3-1e4 once every ReLU is dead), so NaN/inf alone is not
# enough. A fresh 784-10-10 starts near ln 10 = 2.3; even with N(0, 1) weights below 100.
DIVERGED_LOSS = 1e3
# Below this accuracy a network is no better than guessing: about 0.1 for ten digits (0.11 always answering the
# most frequent one); 0.2 leaves room above that. The CLI fails such a run; the training panel says why.
CHANCE = 0.2
TRAIN_ACC_EXAMPLES = 5000  # History.train_acc is measured on the first this many training examples


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN, infinite or larger than DIVERGED_LOSS."""


@dataclass
class History:
    """What ``fit`` measured. Per-epoch lists share an index; ``step_loss`` is per step
    (after a divergence it ends with the loss that blew up).

    cumulative_seconds[e] is the training time (excluding evaluation) from the start up to the end of epoch e.
    train_loss[e] is the mean loss of epoch e's steps (measured during the epoch, with dropout if any, without
    the weight-decay penalty); train_acc[e] (only with ``fit(..., train_acc=True)``, else empty) the accuracy after
    epoch e on the first TRAIN_ACC_EXAMPLES training examples (a fixed subset, all of them if fewer), without dropout.
    val_loss/val_acc are measured on the X_val, y_val given to ``fit`` (empty without them).
    epoch[e] = e + 1; lr[e] the learning rate used in epoch e (after lr_schedule).
    """

    epoch: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    cumulative_seconds: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    steps_per_epoch: int = 0
    diverged: str | None = None


@shapes(params="layers", X="n0 m", y="m")
def evaluate(params, X, y):
    """Mean cross-entropy loss and accuracy on X (n0, m), labels y (m,), from one forward pass.

    The same numbers as :func:`mathnn.network.loss` and :func:`mathnn.network.accuracy` (which run one pass each).
    """
    D = num_layers(params)
    Y = one_hot(y, params[f"W{D}"].shape[0], dtype=X.dtype)  # (n_out, m)
    A, cache = forward(params, X)  # A = A_D (n_out, m)
    return cross_entropy(cache[f"Z{D}"], Y), float((A.argmax(axis=0) == y).mean())


@functools.cache
def blas_controller():
    """One threadpoolctl controller per process (creating it inspects the loaded libraries)."""
    return ThreadpoolController()


@shapes(params="layers", X="n0 m", y="m", X_val="n0 m_val", y_val="m_val")
def fit(params, X, y, *, rng, X_val=None, y_val=None, optimizer="sgd", lr=None,
        num_epochs=5, batch_size=128, lr_schedule=None, callback=None, weight_decay=0.0, keep=1.0, train_acc=False):
    """Train params in place on X (n0, m), y (m,); return a History.

    rng: ``np.random.Generator`` for the shuffling (one permutation per epoch, then batches
    of batch_size in that order; the last one smaller when batch_size does not divide m).
    optimizer: "sgd", "momentum" or "adam", made with lr (None: that optimizer's default, ``default_lr``: 0.1 for
    SGD and momentum, 0.001 for Adam), or an optimizer object of any kind with ``lr`` and ``step(grads)`` (then
    give lr to the object, not to fit). lr_schedule: optional ``epoch -> lr`` (epochs from 0), called
    for every epoch before training starts (a schedule that refuses an epoch, or gives no learning rate, stops
    fit before any work); with it, leave out lr (or give lr_schedule(0)).
    callback(history): called after every epoch (and on divergence), e.g. a live plot.
    weight_decay: lambda of L2 weight decay (eq. 15; 0: none). keep: the probability p of keeping a hidden
    unit in inverted dropout (eq. 16; 1: no dropout), masks drawn from rng; the History's accuracies and
    validation numbers are measured without dropout (evaluation mode).
    train_acc: also measure the accuracy on the training examples after every epoch (``history.train_acc``, on the
    first TRAIN_ACC_EXAMPLES: a forward pass over them each epoch, so off unless asked for).

    Every step is the lessons' own: the batch X[:, idx] (n0, B) and its one-hot Y (k, B), :func:`forward` (with
    dropout when keep < 1), :func:`cross_entropy` of the logits, :func:`backward`, :func:`l2_grads` (when
    weight_decay > 0), then the optimizer's ``step``; nothing else computes them. BLAS runs on one
    thread inside fit: the matrices of a small network are too small to gain from more, and
    extra threads make every step wait for a busy core. The shapes are checked once, here (the functions
    fit calls skip their checks, :func:`mathnn.shapes.shapes`).
    """
    validate_rng(rng, "fit")
    if (X_val is None) != (y_val is None):
        raise ValueError("fit(): pass X_val and y_val together (both, or neither)")
    validate_positive_int("num_epochs", num_epochs, "fit", "e.g. 5")
    validate_positive_int("batch_size", batch_size, "fit", "e.g. 128")
    validate_callable("callback", callback, "e.g. callback=curve.update, called as callback(history)")
    validate_callable("lr_schedule", lr_schedule, "e.g. lr_schedule=mn.cosine_schedule(0.1, num_epochs)")
    lrs = None if lr_schedule is None else [validate_rate(lr_schedule(epoch), f"lr_schedule({epoch})")
                                            for epoch in range(num_epochs)]  # (num_epochs,) before any work
    if lrs is not None and lr is not None and validate_rate(lr) != lrs[0]:
        raise ValueError(f"fit(): got lr={lr!r} and an lr_schedule that starts at {lrs[0]:g}; the schedule sets "
                         f"the learning rate of every epoch, so lr would be ignored: leave out lr")
    if X.shape[1] == 0:
        raise ValueError("X has no examples (shape (n0, 0)): pass at least one column")
    validate_finite("X", X)
    if X_val is not None:
        validate_finite("X_val", X_val)
    if isinstance(optimizer, str):
        opt = make_optimizer(optimizer, params, lrs[0] if lrs else lr)  # lr None: the optimizer's default
    elif lr is not None:
        raise ValueError(f"fit got both lr={lr!r} and an optimizer object (whose lr is {optimizer.lr!r}): "
                         f"set the lr on the object, e.g. Adam(params, lr={lr!r}), and leave out fit's lr")
    else:
        opt = optimizer
        if any(getattr(opt, "params", {}).get(k) is not p for k, p in params.items()):
            raise ValueError("the optimizer updates other arrays than params: make it with e.g. Adam(params, lr=...)")
    validate_rate(opt.lr)
    validate_rate(weight_decay, "weight_decay", "e.g. 5e-4")
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real) or not 0 < keep <= 1:
        raise ValueError(f"keep is the probability of keeping a hidden unit (dropout), in (0, 1], e.g. 0.8; "
                         f"1 means no dropout; got {keep!r}")
    if not isinstance(train_acc, bool):
        raise ValueError(f"fit(): train_acc is True (measure the training accuracy after every epoch) or False; "
                         f"got {train_acc!r}")
    D = num_layers(params)
    k = params[f"W{D}"].shape[0]  # the number of classes
    if y_val is not None:
        validate_labels(np.asarray(y_val), k, "fit", "y_val")  # and bad validation labels, not after the first epoch
    Y_rows = one_hot(y, k, dtype=X.dtype).T.copy()  # (m, k): Y^T, one example's one-hot per contiguous row
    X_acc, y_acc = X[:, :TRAIN_ACC_EXAMPLES], y[:TRAIN_ACC_EXAMPLES]  # (n0, <= 5000): train_acc's fixed subset
    history = History(steps_per_epoch=math.ceil(X.shape[1] / batch_size))
    train_seconds = 0.0
    with np.errstate(over="ignore", invalid="ignore"), blas_controller().limit(limits=1, user_api="blas"):
        for epoch in range(num_epochs):  # divergence is detected below, not by NumPy's warnings
            if lrs is not None:
                opt.lr = lrs[epoch]
            start = time.perf_counter()
            losses = []
            perm = rng.permutation(X.shape[1])
            for step, first in enumerate(range(0, len(perm), batch_size)):
                idx = perm[first:first + batch_size]  # (B,): this step's examples
                X_batch, Y_batch = X[:, idx], Y_rows[idx].T  # (n0, B), (k, B): columns idx of X and Y
                _, cache = network.forward(params, X_batch, keep, rng)  # dropout masks (keep < 1) drawn from rng
                loss = layers.cross_entropy(cache[f"Z{D}"], Y_batch)  # eq. 5, from the logits Z_D (k, B)
                losses.append(loss)  # after a divergence step_loss ends with the loss that blew up
                if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                    history.diverged = (
                        f"diverged at epoch {epoch + 1}, step {step + 1} (lr={opt.lr:g}): the loss "
                        f"became {loss:.3g}. Usually the learning rate is too large: try a smaller one "
                        f"(or check the initialization)."
                    )
                    break
                grads = network.backward(params, cache, Y_batch)  # eq. 5'-9 (and 16 through the masks)
                if weight_decay:
                    grads = regularization.l2_grads(params, grads, weight_decay)  # dW_l + lambda W_l  (eq. 15)
                opt.step(grads)  # eq. 12-14
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
            if train_acc:
                history.train_acc.append(evaluate(params, X_acc, y_acc)[1])  # X was validated above: not again
            history.cumulative_seconds.append(train_seconds)
            if X_val is not None:
                val_loss, val_acc = evaluate(params, X_val, y_val)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
            if callback is not None:
                callback(history)
    return history


def train_mnist(lr=None, init="he", num_epochs=3, batch_size=128, seed=0, *, sizes=(784, 10, 10), optimizer="sgd",
                train_size=None, lr_schedule=None, callback=None, weight_decay=0.0, keep=1.0, train_acc=False):
    """Train a fresh network on MNIST's 55,000 training images; return (params, history).

    The history's val_loss/val_acc are measured on the 5,000 validation images
    (:func:`mathnn.data.load_mnist_splits`); the test set is not touched: measure it once, at
    the end, with ``accuracy(params, X_test, y_test)``.

    lr: learning rate (None: the optimizer's default, or lr_schedule(0)); init: one of ``mathnn.INITS``;
    num_epochs: passes over the training set; batch_size: examples per step; seed: seeds
    ``np.random.default_rng``, which draws the initial weights and then shuffles the batches, so equal
    arguments give equal results.
    sizes: the layer sizes, (784, 10, 10) the course's network, (784, 128, 10) a wider one.
    optimizer: "sgd", "momentum" or "adam". train_size: train on the first ``train_size``
    training images only (None: all 55,000). callback(history), lr_schedule(epoch), weight_decay,
    keep (L2 weight decay and dropout) and train_acc: as in :func:`fit`.
    params: {"W1": (n1, 784), "b1": (n1, 1), ...}, trained.

    A diverging run does not raise: it returns early with ``history.diverged`` set (the
    DivergenceWarning of :func:`fit` is silenced here; the message is in the history).
    """
    sizes = validate_sizes(sizes, "train_mnist")
    if sizes[0] != 784 or sizes[-1] != 10:
        raise ValueError(f"train_mnist(): sizes must start with 784 (the pixels) and end with 10 (the digits), "
                         f"e.g. (784, 10, 10) or (784, 128, 10); got {sizes}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"train_mnist(): seed must be a whole number >= 0 (it seeds np.random.default_rng), "
                         f"got {seed!r}")
    m = num_images("train") - NUM_VAL  # 55,000 training images
    if train_size is not None:
        validate_positive_int("train_size", train_size, "train_mnist", f"at most {m:,}; None: all")
        if train_size > m:
            raise ValueError(f"train_mnist(): train_size={train_size} but there are only {m:,} training images; "
                             f"pass at most {m} (None: all of them)")
    X, y, X_val, y_val, _, _ = load_mnist_splits()
    if train_size is not None:
        X, y = X[:, :train_size], y[:train_size]
    rng = np.random.default_rng(seed)
    params = init_params(sizes, init, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        history = fit(params, X, y, rng=rng, X_val=X_val, y_val=y_val, optimizer=optimizer, lr=lr,
                      num_epochs=num_epochs, batch_size=batch_size, callback=callback, lr_schedule=lr_schedule,
                      weight_decay=weight_decay, keep=keep, train_acc=train_acc)
    return params, history
