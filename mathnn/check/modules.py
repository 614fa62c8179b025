"""Lesson 09: a Linear module (forward and backward, eqs. 1 and 6-8) and the backward pass of a Sequential.

``linear_module`` builds your class as ``Linear(5, 4, rng)``, gives it known W (4, 5) and b (4, 1), and
runs forward and backward twice (A_prev (5, 6), dZ (4, 6)), comparing Z, dA_prev, dW and db with
eqs. 1 and 6-8. ``sequential_backward`` runs your function on the modules of a small network,
Linear(5, 4), ReLU, Linear(4, 3), after their forward pass, and watches which module's backward is
called, in which order, with which gradient.
"""

import numpy as np

from mathnn.check.core import _Fail, checker
from mathnn.modules import Linear, ReLU, Sequential

N_IN, N_OUT, M = 5, 4, 6  # the layer the Linear checker builds, and the batch size


def sequential_backward_mathnn(modules, dout):
    """mathnn's backward pass through modules (in forward order): ``Sequential(*modules).backward(dout)``.

    dout (n_D, m), the gradient with respect to the last module's output -> dX (n0, m).
    """
    return Sequential(*modules).backward(dout)


@checker(lesson=9, fallback=Linear, stub="Linear",
         signature="Linear(n_in, n_out, rng), then layer.forward(A_prev), layer.backward(dZ)")
def linear_module(c, cls):
    """Check a Linear class: ``forward(A_prev)`` -> Z = W @ A_prev + b (eq. 1); ``backward(dZ)`` stores
    dW = dZ @ A_prev.T and db = dZ summed over the examples in self.dW, self.db (eqs. 6-7) and returns
    dA_prev = W.T @ dZ (eq. 8), leaving W and b alone; ``params()`` and ``grads()`` return
    {"W": self.W, "b": self.b} and {"dW": self.dW, "db": self.db}, the arrays themselves.
    W is (n_out, n_in), b (n_out, 1), A_prev (n_in, m), dZ (n_out, m); float64 in, float64 out.
    Tried on a non-square (5 -> 4) and a square (4 -> 4) layer.
    """
    for n_in, n_out in ((N_IN, N_OUT), (N_OUT, N_OUT)):
        _linear(c, cls, n_in, n_out)


def _linear(c, cls, n_in, n_out):
    """Check one layer cls(n_in, n_out, rng) (see linear_module)."""
    rng = np.random.default_rng(n_in)
    layer = c.call(cls, n_in, n_out, rng)
    shapes = np.shape(getattr(layer, "W", None)), np.shape(getattr(layer, "b", None))
    c.require(shapes == ((n_out, n_in), (n_out, 1)),
              f"Linear({n_in}, {n_out}, rng) should hold W of shape (n_out, n_in) = ({n_out}, {n_in}) and b of shape "
              f"({n_out}, 1), as torch.nn.Linear does; it has W {shapes[0]} and b {shapes[1]}")
    W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal((n_out, 1))
    layer.W, layer.b = W.copy(), b.copy()
    first_dW = None
    for run in ("first", "second"):
        A_prev, dZ = rng.standard_normal((n_in, M)), rng.standard_normal((n_out, M))
        Z = c.array(c.call(layer.forward, A_prev, keep=["A_prev"], fix="compute Z from A_prev without changing it",
                           on_error={ValueError: f" — Z = W @ A_prev + b: W is (n_out, n_in) = ({n_out}, {n_in}), "
                                                 f"A_prev (n_in, m) = ({n_in}, {M})"}),
                    what="forward's Z", dtype=np.float64)
        c.require_shape(Z, (n_out, M), {(M, n_out): f"forward returned (m, n_out) = {Z.shape}: one example per "
                                                    f"column, Z = W @ A_prev + b is (n_out, m)"}, what="forward's Z")
        c.compare(Z, W @ A_prev + b, [  # (4, 5) @ (5, 6) + (4, 1) -> (4, 6)
            ("forward left out the bias b (eq. 1)", W @ A_prev),  # (4, 5) @ (5, 6) -> (4, 6)
            ("forward applied a ReLU: a Linear module is only Z = W @ A_prev + b; the ReLU is a module of its own",
             np.maximum(W @ A_prev + b, 0)),  # (4, 5) @ (5, 6) -> (4, 6)
        ], otherwise="forward's Z is wrong: W times A_prev, plus b (eq. 1)")
        dA_prev = c.array(c.call(layer.backward, dZ, keep=["dZ"], fix="compute the gradients without changing dZ",
                                 on_error={AttributeError: " — does forward keep what backward needs (self.A_prev = "
                                                           "A_prev)?",
                                           ValueError: " — dW = dZ @ A_prev.T is (n_out, m) @ (m, n_in); dA_prev = "
                                                       "W.T @ dZ is (n_in, n_out) @ (n_out, m)"}),
                          what="backward's dA_prev", dtype=np.float64)
        c.require(np.array_equal(layer.W, W) and np.array_equal(layer.b, b),
                  "backward changed self.W or self.b: backward only computes the gradients and stores them; the "
                  "optimizer updates the parameters (opt.step(net.grads())). Section 3 shows what updating inside "
                  "backward breaks")
        c.require_shape(dA_prev, (n_in, M), {
            (n_out, M): f"backward returned an (n_out, m) = {dA_prev.shape} array: return dA_prev = W.T @ dZ "
                        f"(n_in, m), the gradient the module below needs (eq. 8)"}, what="backward's dA_prev")
        c.compare(dA_prev, W.T @ dZ, [  # (5, 4) @ (4, 6) -> (5, 6)
            ("backward's dA_prev is divided by m: dZ already carries the 1/m of eq. 5' (eq. 8)",
             W.T @ dZ / M),  # (5, 4) @ (4, 6) -> (5, 6)
        ], otherwise="backward's return value is wrong: dA_prev goes back through W's transpose (eq. 8)")
        dW, db = (c.array(getattr(layer, name, None), what=f"self.{name} after backward") for name in ("dW", "db"))
        c.require_shape(dW, (n_out, n_in), {
            (n_in, n_out): f"self.dW is transposed, {dW.shape}: dW = dZ @ A_prev.T has W's shape (n_out, n_in) "
                           f"(eq. 6)",
            (): "backward did not store self.dW: the optimizer reads the gradient there (self.dW = ...)",
        }, what="self.dW")
        right_dW = dZ @ A_prev.T  # (4, 6) @ (6, 5) -> (4, 5)
        mistakes = [
            ("self.dW is still zeros: store the gradient in the layer (eq. 6)«, self.dW = dZ @ self.A_prev.T»",
             np.zeros_like(right_dW)),
            ("self.dW is divided by m: dZ already carries the 1/m of eq. 5' (eq. 6)", right_dW / M)]
        if first_dW is not None:
            mistakes.append(("self.dW adds up over backward calls (self.dW += ...): a mathnn module keeps the gradient "
                             "of the last backward (self.dW = ...). PyTorch adds up, which is why it needs zero_grad "
                             "(section 4)", right_dW + first_dW))
        c.compare(dW, right_dW, mistakes, rtol=1e-5,
                  otherwise=f"self.dW is wrong after the {run} backward: dZ times A_prev's "
                                                    f"transpose (eq. 6)")
        first_dW = right_dW
        c.require_shape(db, (n_out, 1), {
            (n_out,): "self.db has shape (n_out,): keep the column axis (keepdims)",
            (1, M): "self.db was summed over axis 0, the units: sum over the examples, axis=1 (eq. 7)",
            (n_out, M): "self.db is dZ itself: sum it over the examples, axis 1 (eq. 7)",
            (): "backward did not store self.db: the optimizer reads the gradient there (self.db = ...)",
        }, what="self.db")
        c.compare(db, dZ.sum(axis=1, keepdims=True), rtol=1e-5, mistakes=[
            ("self.db is divided by m: dZ already carries the 1/m of eq. 5'", dZ.sum(axis=1, keepdims=True) / M),
        ], otherwise=f"self.db is wrong after the {run} backward: dZ summed over the examples (eq. 7)")
    params, grads = c.call(layer.params), c.call(layer.grads)
    c.require(isinstance(params, dict) and params.keys() == {"W", "b"} and params["W"] is layer.W
              and params["b"] is layer.b, "params() should return {'W': self.W, 'b': self.b}, the arrays themselves "
                                          "(the optimizer updates them in place)")
    c.require(isinstance(grads, dict) and grads.keys() == {"dW", "db"} and grads["dW"] is layer.dW
              and grads["db"] is layer.db, "grads() should return {'dW': self.dW, 'db': self.db}")


class _Watched:
    """A module that notes every backward call in a shared log: (its index, the gradient given, what it returned)."""

    def __init__(self, index, module, log):
        self.index, self.module, self.log = index, module, log

    def __getattr__(self, name):
        return getattr(self.module, name)

    def backward(self, dout):
        self.log.append([self.index, dout, None])
        self.log[-1][2] = out = self.module.backward(dout)
        return out


@checker(lesson=9, fallback=sequential_backward_mathnn, signature="fn(modules, dout), modules in forward order",
         mathnn=(Sequential,))
def sequential_backward(c, fn):
    """Check ``fn(modules, dout)``: the backward pass of a Sequential, after its forward pass.

    modules: the list of modules in forward order; dout (n_D, m): the gradient of the loss with respect
    to the last module's output. Call every module's backward once, last module first, each with what
    the module above it returned; return what the first module's backward returned, dX (n0, m).
    Leave the list (its order) and the parameters alone.
    """
    rng = np.random.default_rng(0)
    real = [Linear(5, 4, rng, dtype=np.float64), ReLU(), Linear(4, 3, rng, dtype=np.float64)]
    X, dout = rng.standard_normal((5, M)), rng.standard_normal((3, M))
    reference = Sequential(*real)
    reference.forward(X)
    right_dX, right_grads = reference.backward(dout), {key: g.copy() for key, g in reference.grads().items()}
    before = {key: p.copy() for key, p in reference.params().items()}
    log = []
    modules = [_Watched(i, module, log) for i, module in enumerate(real)]
    given = list(modules)
    try:
        dX = c.call(fn, given, dout, keep=("", "dout"), fix="compute new arrays, and leave dout as it is")
    except _Fail:
        _check_calls(log, modules)  # a wrong order usually ends in a shape error: name the order instead
        raise
    c.require([m is w for m, w in zip(given, modules)] == [True] * len(modules) and len(given) == len(modules),
              "your function changed the list of modules (modules.reverse()?): that reverses the network itself, so "
              "its next forward pass runs backwards; go through reversed(modules) or modules[::-1] instead")
    _check_calls(log, modules)
    c.passed += 1
    c.require(all(np.array_equal(p, before[key]) for key, p in reference.params().items()),
              "your function changed the parameters: backward only computes the gradients; the optimizer updates the "
              "parameters (opt.step(net.grads())). Section 3 shows what updating inside backward breaks")
    dX = c.array(dX, dtype=np.float64)
    c.compare(dX, right_dX, [
        ("you returned the gradient you were given: return what the first module's backward returned, dX",
         dout),
    ], otherwise="the returned dX is wrong: return what the first module's backward returned")
    for key, g in reference.grads().items():
        c.compare(g, right_grads[key], otherwise=f"{key} is wrong after your backward pass")


def _check_calls(log, modules):
    """Raise _Fail naming the first problem with the backward calls in log (see _Watched), if any."""
    names = [f"module {i} ({type(module.module).__name__})" for i, module in enumerate(modules)]
    order = [index for index, _, _ in log]
    if order[:1] == [0] and len(modules) > 1:
        raise _Fail("you went through the modules in forward order: the backward pass runs them in reverse, the last "
                    "module first«: for module in reversed(modules): ...»")
    for index in range(len(modules)):
        if order.count(index) > 1:
            raise _Fail(f"{names[index]}'s backward ran {order.count(index)} times: run every module's backward once")
    for (_, _, out), (index, given, _) in zip(log, log[1:]):
        if not (given is out or (np.shape(given) == np.shape(out) and np.array_equal(given, out))):
            raise _Fail(f"{names[index]} was not given what the module above it returned: pass the gradient down, "
                        f"dout = module.backward(dout)")
    for index in range(len(modules)):
        if index not in order:
            raise _Fail(f"{names[index]}'s backward never ran: run every module's backward once, the first "
                        f"module's too (a Linear computes its dW and db there)")
    if order != sorted(order, reverse=True):
        raise _Fail(f"the modules' backward ran in the order {order}: run them last module first, "
                    f"{list(range(len(modules)))[::-1]}")
