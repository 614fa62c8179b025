"""mathnn: the helper package of the mathnn course.

The functions the lessons derive (layers, network, gradients) live here once; the lessons
assert that their in-the-open versions agree, then import them. ``import mathnn as mn``.
Each module lists what it offers in its ``__all__``; all of it is here as ``mn.NAME``.
``import mathnn`` imports neither matplotlib (only when a plot is drawn) nor torch, nor ipywidgets
(only when a lesson asks for ``mn.TrainingPanel``; the drawing pad imports ipycanvas when it is made).
"""

import types

from mathnn import check
from mathnn.batches import *
from mathnn.data import *
from mathnn.debugging import *
from mathnn.draw import *
from mathnn.gradcheck import *
from mathnn.layers import *
from mathnn.modules import *
from mathnn.network import *
from mathnn.optim import *
from mathnn.plots import *
from mathnn.regularization import *
from mathnn.shapes import *
from mathnn.train import *

__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and not isinstance(value, types.ModuleType)] + ["check", "TrainingPanel"]


def __getattr__(name):
    """``mn.TrainingPanel`` imports ipywidgets only when a lesson asks for the panel."""
    if name == "TrainingPanel":
        from mathnn.widgets import TrainingPanel

        return TrainingPanel
    raise AttributeError(f"module 'mathnn' has no attribute {name!r}")
