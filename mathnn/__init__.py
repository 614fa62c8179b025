"""mathnn: the helper package of the mathnn course.

The functions the lessons derive (layers, network, gradients) live here once; the lessons
assert that their in-the-open versions agree, then import them. ``import mathnn as mn``.
``mn.`` offers what the lessons and their readers call, listed below by topic; everything else
stays in its module (``mathnn.draw.BOX``, ``mathnn.plots.INIT_COLORS``, ``mathnn.validate``, ...).
``import mathnn`` imports neither matplotlib (only when a plot is drawn) nor torch, nor ipywidgets
(only when a lesson asks for ``mn.TrainingPanel`` or ``mn.DrawingPad``; the pad imports ipycanvas when made).
"""

import types

# The groups follow the lessons, not the alphabet.
# isort: off
from mathnn import check  # the learner's checkers: check.relu(relu), check.progress(), ...

# the data (lesson 00): MNIST from its IDX files, and the fixed 55,000 / 5,000 train/validation split
from mathnn.data import load_mnist_splits
from mathnn.mnist import find_or_download, load_mnist, read_idx_gz
from mathnn.splits import SPLIT_SEED, split_train_val

# targets and mini-batches (lessons 00, 04)
from mathnn.batches import minibatches, one_hot

# the layers, forward -> (out, cache) and backward(dout, cache) (lessons 01-03)
from mathnn.layers import (
    cross_entropy,
    linear_backward,
    linear_forward,
    log_softmax,
    relu_backward,
    relu_forward,
    softmax,
    softmax_backward,
)

# the network: init, forward, loss, backward, predictions, saved parameters (lessons 01-04)
from mathnn.network import (
    INITS,
    accuracy,
    backward,
    confusion_matrix,
    forward,
    init_params,
    load_params,
    loss,
    loss_and_grads,
    predict,
    save_params,
)

# where the course keeps a trained network (lessons 04, 08)
from mathnn.locations import trained_path

# gradients compared with centred differences (lessons 02, 03, 07)
from mathnn.gradcheck import compare_gradients, numerical_gradient, print_grad_table, rel_error

# a wrong shape or gradient dict fails loudly (lessons 01, 07)
from mathnn.validate import ShapeError, validate_grads

# debugging a network that does not learn (lessons 05-07)
from mathnn.debugging import StaleUpdateError, dead_units, diagnose, relative_update

# optimizers and learning-rate schedules (lessons 04, 06, 07)
from mathnn.optim import SGD, Adam, Momentum, cosine_schedule, step_schedule

# training: fit, and the course's MNIST recipe train_mnist (lessons 04-10)
from mathnn.train import DIVERGED_LOSS, DivergenceWarning, History, evaluate, fit, train_mnist

# regularization: L2 weight decay and dropout (lesson 10)
from mathnn.regularization import dropout_backward, dropout_forward, l2_grads, l2_penalty

# layers as objects, in PyTorch's style (lesson 09)
from mathnn.modules import Linear, ReLU, Sequential, SoftmaxCrossEntropy

# plots (every lesson)
from mathnn.plots import (
    LiveCurve,
    set_accuracy_limits,
    show,
    show_backprop_graph,
    show_confusion,
    show_digits,
    show_hidden_weights,
)

# a drawing made MNIST-like: 20 x 20 box, centred by mass in 28 x 28 (lesson 08)
from mathnn.draw import preprocess

# isort: on

_WIDGETS = ("TrainingPanel", "DrawingPad")  # in mathnn.widgets, imported on first use (they need ipywidgets)

__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and not isinstance(value, types.ModuleType)] + ["check", *_WIDGETS]


def __getattr__(name):
    """``mn.TrainingPanel`` and ``mn.DrawingPad`` import ipywidgets only when a lesson asks for one."""
    if name in _WIDGETS:
        from mathnn import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'mathnn' has no attribute {name!r}")
