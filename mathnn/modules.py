"""Layers as objects ("modules", lesson 09): the same network, built from parts that keep their own state.

A module's ``forward`` computes its output and keeps what its ``backward`` will need; ``backward(dout)``
takes the gradient of the loss with respect to that output and returns the gradient with respect to
the module's input; a module with parameters also stores their gradients. ``params()`` and ``grads()``
return the arrays themselves (not copies), so that an optimizer from :mod:`mathnn.optim` can update the
parameters in place. ``backward`` never changes a parameter: updating is the optimizer's job.
Each module wraps a forward/backward pair of :mod:`mathnn.layers`. Column layout: one example per column.

    net = Sequential(Linear(784, 10, rng), ReLU(), Linear(10, 10, rng))
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(net.params(), lr=0.1)              # {"W1", "b1", "W2", "b2"}, as init_params gives
    L = loss_fn.forward(net.forward(X), Y)       # X (784, m), Y (10, m) -> the mean loss (eq. 5)
    net.backward(loss_fn.backward())             # fills dW, db of every Linear (eqs. 5'-9)
    opt.step(net.grads())                        # {"dW1", "db1", "dW2", "db2"}
"""

import numpy as np

from mathnn import layers
from mathnn.network import init_params

__all__ = ["Linear", "ReLU", "SoftmaxCrossEntropy", "Sequential"]


def _need_forward(module, cache):
    """Refuse a backward that has no forward pass to go back through."""
    if cache is None:
        raise RuntimeError(f"{type(module).__name__}.backward() was called before forward(): run forward first "
                           f"(it keeps what backward needs)")


class Linear:
    """Z = W @ A_prev + b  (eq. 1), with W (n_out, n_in) and b (n_out, 1): torch.nn.Linear's layout.

    W is drawn as ``init_params((n_in, n_out), init, rng, dtype)`` draws W1 (eq. 11), b starts at 0.
    After ``backward``, dW (n_out, n_in) and db (n_out, 1) hold the gradients of the last backward
    pass (zeros before the first).
    """

    def __init__(self, n_in, n_out, rng, init="he", dtype=np.float32):
        params = init_params((n_in, n_out), init, rng, dtype)
        self.W, self.b = params["W1"], params["b1"]  # (n_out, n_in), (n_out, 1)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self.cache = None  # (W, A_prev) of the last forward pass

    def forward(self, A_prev):
        """A_prev (n_in, m) -> Z (n_out, m)."""
        Z, self.cache = layers.linear_forward(self.W, A_prev, self.b)
        return Z

    def backward(self, dZ):
        """dZ (n_out, m) -> dA_prev (n_in, m); stores dW (n_out, n_in) and db (n_out, 1)  (eqs. 6-8)."""
        _need_forward(self, self.cache)
        dA_prev, self.dW, self.db = layers.linear_backward(dZ, self.cache)
        return dA_prev

    def params(self):
        """{"W": W (n_out, n_in), "b": b (n_out, 1)}, the arrays themselves."""
        return {"W": self.W, "b": self.b}

    def grads(self):
        """{"dW": dW (n_out, n_in), "db": db (n_out, 1)}, of the last backward pass."""
        return {"dW": self.dW, "db": self.db}


class ReLU:
    """A = max(0, Z) elementwise  (eq. 2); no parameters."""

    def __init__(self):
        self.cache = None  # Z of the last forward pass

    def forward(self, Z):
        """Z (n, m) -> A (n, m)."""
        A, self.cache = layers.relu_forward(Z)
        return A

    def backward(self, dA):
        """dA (n, m) -> dZ = dA * 1[Z > 0] (n, m)  (eq. 9)."""
        _need_forward(self, self.cache)
        return layers.relu_backward(dA, self.cache)

    def params(self):
        return {}

    def grads(self):
        return {}


class SoftmaxCrossEntropy:
    """The loss: softmax of the logits, then the mean cross-entropy (eqs. 3-5); torch.nn.CrossEntropyLoss.

    ``forward(Z, Y)`` with logits Z (k, m) and one-hot Y (k, m) returns the mean loss L, a float;
    ``backward()`` returns dZ = (A - Y) / m (k, m)  (eq. 5'), the start of the backward pass.
    """

    def __init__(self):
        self.cache = None  # (A, Y) of the last forward pass, A = softmax(Z) (k, m)

    def forward(self, Z, Y):
        """Z (k, m), Y (k, m) -> L, a float."""
        L, self.cache = layers.cross_entropy_forward(Z, Y)
        return L

    def backward(self):
        """-> dZ (k, m), the gradient of L with respect to the logits."""
        _need_forward(self, self.cache)
        return layers.cross_entropy_backward(1.0, self.cache)

    def params(self):
        return {}

    def grads(self):
        return {}


class Sequential:
    """Modules run one after another: forward in order, backward in reverse order.

    ``params()`` numbers the modules that have parameters from 1, so that
    ``Sequential(Linear(784, 10, rng), ReLU(), Linear(10, 10, rng)).params()`` is a parameter
    dict {"W1" (10, 784), "b1" (10, 1), "W2" (10, 10), "b2" (10, 1)} like ``init_params``'
    (and ``mn.forward``, ``mn.accuracy`` accept it); ``grads()`` has the keys "dW1", "db1", ...
    """

    def __init__(self, *modules):
        if not modules:
            raise ValueError("Sequential() needs at least one module, e.g. Sequential(Linear(784, 10, rng), ReLU())")
        for i, module in enumerate(modules):
            missing = [name for name in ("forward", "backward", "params", "grads") if not hasattr(module, name)]
            if missing or isinstance(module, type):
                raise TypeError(f"Sequential(): module {i} ({module!r:.60}) is not a module: it needs the methods "
                                f"forward, backward, params and grads" + (" (a class? make one: ReLU(), not ReLU)"
                                                                          if isinstance(module, type) else ""))
        self.modules = list(modules)

    def forward(self, X):
        """X (n0, m) -> the last module's output (n_D, m)."""
        A = X
        for module in self.modules:
            A = module.forward(A)
        return A

    def backward(self, dout):
        """dout (n_D, m), the gradient of the loss with respect to the output -> dX (n0, m)."""
        for module in reversed(self.modules):
            dout = module.backward(dout)
        return dout

    def _numbered(self, arrays):
        """{name + l: array} over the modules with parameters, l = 1, 2, ...; arrays(module) -> {name: array}."""
        with_params = [module for module in self.modules if module.params()]
        return {name + str(l): array for l, module in enumerate(with_params, start=1)
                for name, array in arrays(module).items()}

    def params(self):
        """{"W1": ..., "b1": ..., "W2": ...}: every parameter array itself, numbered by layer."""
        return self._numbered(lambda module: module.params())

    def grads(self):
        """{"dW1": ..., "db1": ..., "dW2": ...}: the gradients of the last backward pass, numbered as params()."""
        return self._numbered(lambda module: module.grads())
