"""Checkers for the exercises: run *your* function, compare it with mathnn's, get a hint, go on either way.

    from mathnn import check
    relu = check.relu(relu)  # prints "✓ relu: all N checks passed" and returns your relu,
                             # or "✗ relu: <what to fix>" and returns mathnn's relu
    check.progress()         # which parts of the lessons run so far you have written and passed

Each checker feeds your function a few crafted inputs (random ones from
``np.random.default_rng(0)`` and edge cases such as huge logits) and compares its answer
with mathnn's. When they differ, it also compares your answer with the answers of the
classic mistakes (wrong axis, forgotten 1/m, missing ReLU mask, ...) and tells you which one
you made, on which input, with the shapes. A function that changes an input it should leave
alone (Z -= ..., cache.clear(), g *= lr) is told so, even when its answer is right.

It returns the function the lesson should go on with: yours if it passed, else mathnn's
(``check.relu.fallback``), saying so in one line. A stub not written yet (it raises
NotImplementedError) is "not written yet", not an error; any other exception in your code is
reported with its type, message and the line of your code. A checker never raises because of
your code. ``check.NAME.lesson`` is the lesson a checker belongs to.

One module per lesson topic; ``core`` holds the shared machinery. Equation numbers refer to
the notation page (notebooks/notation.md).
"""

from mathnn.check.backprop import backward, numerical_gradient
from mathnn.check.core import progress
from mathnn.check.data import one_hot
from mathnn.check.draw import place_in_field
from mathnn.check.forward_pass import forward, relu, softmax
from mathnn.check.initialization import glorot_init, he_init
from mathnn.check.loss import cross_entropy
from mathnn.check.modules import linear_module, sequential_backward
from mathnn.check.optimizers import adam_step, momentum_step
from mathnn.check.regularization import dropout_backward, dropout_forward, l2_grads
from mathnn.check.schedules import cosine_schedule, step_schedule
from mathnn.check.training import sgd_epoch, sgd_step

__all__ = ["one_hot", "relu", "softmax", "forward", "cross_entropy", "backward", "numerical_gradient", "sgd_step",
           "sgd_epoch", "he_init", "glorot_init", "cosine_schedule", "step_schedule", "momentum_step", "adam_step",
           "linear_module", "sequential_backward", "l2_grads", "dropout_forward", "dropout_backward",
           "place_in_field",
           "progress"]
