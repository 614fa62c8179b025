"""mathnn.check, lesson 09: check.linear_module (a Linear class) and check.sequential_backward.

As in test_check.py: each wrong implementation makes one mistake, and the checker must print the hint
naming it and return mathnn's version instead.
"""

import numpy as np
import pytest
from check_helpers import assert_hint, assert_passes, copy_of, verdict

import mathnn as mn
from mathnn import check

# ----------------------------------------------------------------------------- linear_module


def linear_with(*, bias=True, relu=False, keep_input=True, transpose_dW=False, divide_by_m=False, accumulate=False,
                store=True, db_axis=1, keepdims=True, sum_db=True, dA="W.T @ dZ", update=False, layout="columns",
                forward_stub=False, backward_stub=False):
    """The lesson's Linear with switches for the classic mistakes (the defaults are right: eqs. 1, 6-8)."""
    class Linear:
        def __init__(self, n_in, n_out, rng, init="he", dtype=np.float32):
            params = mn.init_params((n_in, n_out), init, rng, dtype)
            self.W, self.b = params["W1"], params["b1"]  # (n_out, n_in), (n_out, 1)
            self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)

        def forward(self, A_prev):
            if forward_stub:
                raise NotImplementedError()
            if keep_input:
                self.A_prev = A_prev
            Z = self.W @ A_prev + (self.b if bias else 0)  # (n_out, n_in) @ (n_in, m) -> (n_out, m)
            Z = np.maximum(Z, 0) if relu else Z
            return Z.T if layout == "rows" else Z

        def backward(self, dZ):
            if backward_stub:
                raise NotImplementedError()
            m = dZ.shape[1] if divide_by_m else 1
            dW = (self.A_prev @ dZ.T if transpose_dW else dZ @ self.A_prev.T) / m  # (n_out, m) @ (m, n_in)
            db = (dZ.sum(axis=db_axis, keepdims=keepdims) if sum_db else dZ) / m
            if store:
                if accumulate:
                    self.dW += dW
                else:
                    self.dW = dW
                self.db = db
            dA_prev = {"W.T @ dZ": lambda: self.W.T @ dZ, "W @ dZ": lambda: self.W @ dZ,  # (n_in, n_out) @ (n_out, m)
                       "dZ": lambda: dZ, "none": lambda: None}[dA]()
            if update:
                self.W -= 0.1 * dW
                self.b -= 0.1 * db
            return dA_prev

        def params(self):
            return {"W": self.W, "b": self.b}

        def grads(self):
            return {"dW": self.dW, "db": self.db}

    return Linear


def test_linear_module_right(capsys):
    assert_passes(check.linear_module, linear_with(), capsys)
    assert_passes(check.linear_module, copy_of(mn.Linear), capsys)


@pytest.mark.parametrize("cls, phrase", [
    (linear_with(bias=False), "forward left out the bias"),
    (linear_with(relu=True), "forward applied a ReLU"),
    (linear_with(layout="rows"), "forward returned (m, n_out)"),
    (linear_with(keep_input=False), "does forward keep what backward needs"),
    (linear_with(update=True), "backward changed self.W or self.b"),
    (linear_with(dA="dZ"), "backward returned an (n_out, m)"),
    (linear_with(dA="W @ dZ"), "dA_prev = W.T @ dZ is (n_in, n_out) @ (n_out, m)"),
    (linear_with(dA="none"), "did you forget the `return`?"),
    (linear_with(transpose_dW=True), "self.dW is transposed"),
    (linear_with(store=False), "self.dW is still zeros"),
    (linear_with(divide_by_m=True), "self.dW is divided by m"),
    (linear_with(accumulate=True), "self.dW adds up over backward calls"),
    (linear_with(keepdims=False), "self.db has shape (n_out,)"),
    (linear_with(db_axis=0), "self.db was summed over axis 0"),
    (linear_with(sum_db=False), "self.db is dZ itself"),
])
def test_linear_module_mistakes(cls, phrase, capsys):
    assert_hint(check.linear_module, cls, phrase, capsys)


@pytest.mark.parametrize("cls", [linear_with(forward_stub=True), linear_with(backward_stub=True)])
def test_linear_module_not_written_yet(cls, capsys):
    result, out = verdict(check.linear_module, cls, capsys)
    assert result is mn.Linear and out.startswith("○ Linear: not written yet"), out


def test_linear_module_refuses_a_layer_without_torch_layout(capsys):
    class Transposed(linear_with()):
        def __init__(self, n_in, n_out, rng):
            super().__init__(n_in, n_out, rng)
            self.W = self.W.T.copy()  # (n_in, n_out)
    assert_hint(check.linear_module, Transposed, "should hold W of shape (n_out, n_in) = (4, 5)", capsys)


def test_linear_module_wants_params_and_grads_to_be_the_arrays(capsys):
    class Copies(linear_with()):
        def params(self):
            return {"W": self.W.copy(), "b": self.b.copy()}
    assert_hint(check.linear_module, Copies, "params() should return {'W': self.W, 'b': self.b}", capsys)

# ----------------------------------------------------------------------------- sequential_backward


def backward_with(*, order="reverse", chain=True, ret="dX", skip=None, update=False):
    """Sequential.backward as a function of (modules, dout), with switches for the classic mistakes."""
    def sequential_backward(modules, dout):
        given = dout
        if order == "in place":
            modules.reverse()
            run = modules
        else:
            run = list(reversed(modules)) if order == "reverse" else list(modules)
        if skip is not None:
            run = [module for module in run if module is not modules[skip]]
        for module in run:
            out = module.backward(dout if chain else given)
            dout = out if chain else dout
            if update and hasattr(module, "W"):
                module.W -= 0.1 * module.dW
        return {"dX": dout, "dout": given, "none": None}[ret]
    return sequential_backward


def test_sequential_backward_right(capsys):
    assert_passes(check.sequential_backward, backward_with(), capsys)
    assert_hint(check.sequential_backward, lambda modules, dout: mn.Sequential(*modules).backward(dout),
                "you called mn.Sequential", capsys)


@pytest.mark.parametrize("fn, phrase", [
    (backward_with(order="forward"), "you went through the modules in forward order"),
    (backward_with(chain=False), "module 1 (ReLU) was not given what the module above it returned"),
    (backward_with(skip=0), "module 0 (Linear)'s backward never ran"),
    (backward_with(order="in place"), "your function changed the list of modules (modules.reverse()?)"),
    (backward_with(update=True), "your function changed the parameters"),
    (backward_with(ret="dout"), "you returned the gradient you were given"),
    (backward_with(ret="none"), "did you forget the `return`?"),
])
def test_sequential_backward_mistakes(fn, phrase, capsys):
    assert_hint(check.sequential_backward, fn, phrase, capsys)


def test_sequential_backward_names_a_module_run_twice(capsys):
    def twice(modules, dout):
        for module in reversed(modules):
            given, dout = dout, module.backward(dout)
        modules[0].backward(given)  # once more
        return dout
    assert_hint(check.sequential_backward, twice, "module 0 (Linear)'s backward ran 2 times", capsys)


def test_sequential_backward_fallback_is_mathnn_and_not_written_is_said(capsys):
    def stub(modules, dout):
        raise NotImplementedError()
    result, out = verdict(check.sequential_backward, stub, capsys)
    assert result is check.sequential_backward.fallback
    assert out.startswith("○ sequential_backward: not written yet"), out
    rng = np.random.default_rng(0)
    net = mn.Sequential(mn.Linear(3, 2, rng, dtype=np.float64), mn.ReLU(), mn.Linear(2, 2, rng, dtype=np.float64))
    net.forward(rng.random((3, 4)))
    dout = rng.random((2, 4))
    expected = net.backward(dout)
    np.testing.assert_array_equal(result(net.modules, dout), expected)
    assert check.linear_module.lesson == check.sequential_backward.lesson == 9
