"""Checkers for the exercises: run *your* function, compare it with mathnn's, get a hint, go on either way.

    from mathnn import check
    relu = check.relu(relu)  # prints "✓ relu: all N checks passed" and returns your relu,
                             # or "✗ relu: <what to fix>" and returns mathnn's relu
    check.progress()         # the whole course: every part, its state, when it last passed, what is next

Each checker feeds your function crafted inputs (random ones from ``np.random.default_rng``, and
edge cases: huge and wide-spread logits, square and non-square layers, hyper-parameters other than
the defaults, dicts in another key order) and compares its answer with mathnn's, float64 to float64
precision. When they differ, it also compares your answer with the answers of the classic mistakes
(wrong axis, forgotten 1/m, missing ReLU mask, ...) and tells you which one you made. The first
time a part fails, the hint names the symptom and the idea (equation, axis, shape); when it fails
again, the hint also shows the code. A function that changes an input it should leave alone
(Z -= ..., cache.clear(), g *= lr) is told so, even when its answer is right; so is an output that
is a list, an np.matrix or of another dtype than the inputs.

It returns the function the lesson should go on with: yours if it passed, else mathnn's
(``check.relu.fallback``), saying so in one line. A stub not written yet (it raises
NotImplementedError) is "not written yet", not an error; any other exception in your code is
reported with its type, message and the line of your code; a function that runs past its time limit
(``check.NAME.time_limit`` seconds per call) is stopped and told. A checker never raises because of
your code. mathnn's own function (the fallback handed back after a ✗, or a function that only calls
mathnn's) is told apart from yours.

Only the verdict on your own function for the stub (named like it, defined in your notebook) is
recorded, in your progress file (mathnn.check.progress: $MATHNN_PROGRESS, by default
~/.local/share/mathnn/progress.json); demonstrations and re-checks under other names never
overwrite it. ``check.NAME.lesson`` is the lesson a checker belongs to.

One module per lesson topic; ``core`` holds the shared machinery, ``progress`` the progress file.
Equation numbers refer to the notation page (notebooks/notation.md).
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
