"""mathnn: the helper package of the mathnn course.

The functions the lessons derive (layers, network, gradients) live here once; the lessons
assert that their in-the-open versions agree, then import them. ``import mathnn as mn``.
"""

from mathnn import check
from mathnn.batches import minibatches, one_hot
from mathnn.data import MNISTError, MNISTSplits, load_mnist, load_mnist_splits, split_train_val
from mathnn.debugging import dead_units, diagnose
from mathnn.gradcheck import grad_check, numerical_gradient, print_grad_table, rel_error
from mathnn.layers import (
    cross_entropy,
    cross_entropy_backward,
    cross_entropy_forward,
    linear_backward,
    linear_forward,
    log_softmax,
    nll,
    relu_backward,
    relu_forward,
    softmax,
    softmax_backward,
    softmax_forward,
)
from mathnn.network import (
    accuracy,
    backward,
    confusion_matrix,
    forward,
    init_params,
    load_params,
    loss_and_grads,
    predict,
    save_params,
)
from mathnn.optim import SGD, Adam, Momentum, cosine_schedule, make_optimizer, step_schedule
from mathnn.plots import LiveCurve, show_confusion, show_digits, show_hidden_weights
from mathnn.shapes import ShapeError, shapes
from mathnn.train import DivergenceWarning, History, evaluate, fit, train_and_report

__all__ = [name for name in dir() if not name.startswith("_")]
