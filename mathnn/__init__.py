"""mathnn: the helper package of the mathnn course.

The functions the lessons derive (layers, network, gradients) live here once; the lessons
assert that their in-the-open versions agree, then import them. ``import mathnn as mn``.
Each module lists what it offers in its ``__all__``; all of it is here as ``mn.NAME``.
``import mathnn`` imports neither matplotlib (only when a plot is drawn) nor torch.
"""

from mathnn import check
from mathnn.batches import *  # noqa: F403
from mathnn.data import *  # noqa: F403
from mathnn.debugging import *  # noqa: F403
from mathnn.gradcheck import *  # noqa: F403
from mathnn.layers import *  # noqa: F403
from mathnn.network import *  # noqa: F403
from mathnn.optim import SGD, Adam, Momentum, cosine_schedule, make_optimizer, step_schedule
from mathnn.plots import *  # noqa: F403
from mathnn.shapes import *  # noqa: F403
from mathnn.train import DivergenceWarning, History, evaluate, fit, train_and_report

__all__ = [name for name in dir() if not name.startswith("_")]
