"""A regression corpus for mathnn.check: typical wrong answers and valid alternatives, for every checker.

WRONG: (checker name, label, fn, phrase) — the checker must refuse fn (never ✓); phrase, if not None, must
appear in what it prints. VALID: (checker name, label, fn) — the checker must accept fn (✓).
FALLBACK as fn stands for the checker's own fallback (a learner re-running only the checker cell).

Plain data and plain functions (mathnn.check is imported only as a learner's code uses it), so that the
same corpus can be run against another version of the checkers: ``python tests/checker_corpus.py`` prints
the counts of the checkers of the mathnn it imports (see tally()).
"""

import math
import signal
import sys
import time

import numpy as np

import mathnn as mn
from mathnn import check  # only as a learner's code uses it: check.relu.fallback

WRONG, VALID = [], []
FALLBACK = "FALLBACK"


def wrong(part, label, phrase=None):
    """Decorator: fn is a wrong answer to checker `part`."""
    def add(fn):
        WRONG.append((part, label, fn, phrase))
        return fn
    return add


def valid(part, label):
    """Decorator: fn is a valid answer to checker `part`."""
    def add(fn):
        VALID.append((part, label, fn))
        return fn
    return add


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))  # (k, m)
    return E / E.sum(axis=0, keepdims=True)


def _log_softmax(Z):
    S = Z - Z.max(axis=0, keepdims=True)  # (k, m)
    return S - np.log(np.exp(S).sum(axis=0, keepdims=True))


# ----------------------------------------------------------------------------- one_hot (lesson 00)

@wrong("one_hot", "nested lists", "not a NumPy array")
def one_hot_list(y, num_classes=10):
    return [[1.0 if label == i else 0.0 for label in y] for i in range(num_classes)]


@wrong("one_hot", "hard-coded 10 classes")
def one_hot_ten(y, num_classes=10):
    Y = np.zeros((10, len(y)))
    Y[y, np.arange(len(y))] = 1
    return Y


@wrong("one_hot", "y.max() + 1 classes")
def one_hot_max(y, num_classes=10):
    Y = np.zeros((y.max() + 1, len(y)))
    Y[y, np.arange(len(y))] = 1
    return Y


@wrong("one_hot", "transposed (m, k)")
def one_hot_transposed(y, num_classes=10):
    return np.eye(num_classes)[y]


@wrong("one_hot", "whole rows")
def one_hot_rows(y, num_classes=10):
    Y = np.zeros((num_classes, len(y)))
    Y[y, :] = 1
    return Y


@wrong("one_hot", "labels off by one")
def one_hot_off_by_one(y, num_classes=10):
    Y = np.zeros((num_classes, len(y)))
    Y[(y + 1) % num_classes, np.arange(len(y))] = 1
    return Y


@wrong("one_hot", "sorts y in place")
def one_hot_sorts(y, num_classes=10):
    y.sort()
    Y = np.zeros((num_classes, len(y)))
    Y[y, np.arange(len(y))] = 1
    return Y


@wrong("one_hot", "np.matrix", "np.matrix")
def one_hot_matrix(y, num_classes=10):
    return np.asmatrix(np.eye(num_classes)[:, y])


@wrong("one_hot", "boolean", "dtype")
def one_hot_bool(y, num_classes=10):
    return np.arange(num_classes)[:, None] == y[None, :]


@wrong("one_hot", "calls mn.one_hot", "mn.one_hot")
def one_hot(y, num_classes=10):
    return mn.one_hot(y, num_classes)


@wrong("one_hot", "time.sleep", "an endless loop?")
def one_hot_sleeps(y, num_classes=10):
    time.sleep(1000)


WRONG.append(("one_hot", "mathnn's fallback (checker cell re-run)", FALLBACK, "this is mathnn's"))


@valid("one_hot", "the lesson's solution")
def one_hot_solution(y, num_classes=10):
    m = y.shape[0]
    Y = np.zeros((num_classes, m), dtype=np.float32)
    Y[y, np.arange(m)] = 1
    return Y


@valid("one_hot", "np.eye(k)[:, y]")
def one_hot_eye(y, num_classes=10):
    return np.eye(num_classes)[:, y]


@valid("one_hot", "np.eye(k)[y].T")
def one_hot_eye_T(y, num_classes=10):
    return np.eye(num_classes, dtype=np.float32)[y].T


@valid("one_hot", "comparison with arange, as float")
def one_hot_compare(y, num_classes=10):
    return (np.arange(num_classes)[:, None] == y[None, :]).astype(np.float64)


@valid("one_hot", "a loop over the columns, int dtype")
def one_hot_loop(y, num_classes=10):
    Y = np.zeros((num_classes, len(y)), dtype=int)
    for j, label in enumerate(y):
        Y[label, j] = 1
    return Y


# ----------------------------------------------------------------------------- relu (lesson 01)

@wrong("relu", "np.clip(Z, 0, 10)", "however large")
def relu_clip(Z):
    return np.clip(Z, 0, 10)


@wrong("relu", "nested lists", "not a NumPy array")
def relu_lists(Z):
    return [[max(0.0, z) for z in row] for row in Z]


@wrong("relu", "np.matrix", "np.matrix")
def relu_matrix(Z):
    return np.asmatrix(np.maximum(Z, 0))


WRONG.append(("relu", "mathnn's fallback (checker cell re-run)", FALLBACK, "this is mathnn's relu"))


@wrong("relu", "calls mn.relu_forward", "you called mn.relu_forward")
def relu(Z):
    return mn.relu_forward(Z)[0]


@wrong("relu", "np.max(Z, 0)", "axis 0")
def relu_max(Z):
    return np.max(Z, 0)


@wrong("relu", "the mask Z > 0")
def relu_mask(Z):
    return (Z > 0).astype(float)


@wrong("relu", "abs")
def relu_abs(Z):
    return np.abs(Z)


@wrong("relu", "in place", "in place")
def relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


@wrong("relu", "leaky", "leaky")
def relu_leaky(Z):
    return np.where(Z > 0, Z, 0.01 * Z)


@wrong("relu", "float32", "dtype float32")
def relu_float32(Z):
    return np.maximum(Z, 0).astype(np.float32)


@wrong("relu", "min", "min(0, Z)")
def relu_min(Z):
    return np.minimum(Z, 0)


@wrong("relu", "endless loop", "an endless loop?")
def relu_loops(Z):
    while True:
        pass


@wrong("relu", "time.sleep(1000)", "an endless loop?")
def relu_sleeps(Z):
    time.sleep(1000)
    return np.maximum(Z, 0)


@wrong("relu", "except Exception around an endless loop", "an endless loop?")
def relu_swallows(Z):
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass


@valid("relu", "the lesson's solution")
def relu_solution(Z):
    return np.maximum(Z, 0)


@valid("relu", "Z * (Z > 0)")
def relu_times_mask(Z):
    return Z * (Z > 0)


@valid("relu", "np.where")
def relu_where(Z):
    return np.where(Z > 0, Z, 0)


@valid("relu", "np.clip(Z, 0, None)")
def relu_clip_none(Z):
    return np.clip(Z, 0, None)


@valid("relu", "(Z + |Z|) / 2")
def relu_half(Z):
    return (Z + np.abs(Z)) / 2


@valid("relu", "a copy, then A[A < 0] = 0")
def relu_copy(Z):
    A = Z.copy()
    A[A < 0] = 0
    return A


@valid("relu", "np.maximum(0, Z)")
def relu_swapped(Z):
    return np.maximum(0, Z)


# ----------------------------------------------------------------------------- softmax (lesson 01)

@wrong("softmax", "shift by the column min", "nan/inf")
def softmax_min(Z):
    E = np.exp(Z - Z.min(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@wrong("softmax", "shift by the column mean", "nan/inf")
def softmax_mean(Z):
    E = np.exp(Z - Z.mean(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@wrong("softmax", "no shift")
def softmax_naive(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


@wrong("softmax", "sum over axis 1")
def softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@wrong("softmax", "shift by the matrix max")
def softmax_global_max(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=0, keepdims=True)


@wrong("softmax", "no division")
def softmax_no_division(Z):
    return np.exp(Z - Z.max(axis=0, keepdims=True))


@wrong("softmax", "in place", "in place")
def softmax_in_place(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


@wrong("softmax", "float32", "dtype float32")
def softmax_float32(Z):
    return _softmax(Z).astype(np.float32)


@wrong("softmax", "nested list", "not a NumPy array")
def softmax_list(Z):
    return _softmax(Z).tolist()


@wrong("softmax", "calls mn.softmax", "you called mn.softmax")
def softmax(Z):
    return mn.softmax(Z)


@wrong("softmax", "exp of mn.log_softmax", "you called mn.log_softmax")
def softmax_via_log(Z):
    return np.exp(mn.log_softmax(Z))


@wrong("softmax", "shift by the row max")
def softmax_row_max(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


WRONG.append(("softmax", "mathnn's fallback (checker cell re-run)", FALLBACK, "this is mathnn's softmax"))


@valid("softmax", "the lesson's solution")
def softmax_solution(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@valid("softmax", "exp of a log-softmax by log-sum-exp")
def softmax_lse(Z):
    return np.exp(_log_softmax(Z))


@valid("softmax", "max without keepdims, broadcast with None")
def softmax_none(Z):
    E = np.exp(Z - Z.max(axis=0)[None, :])
    return E / E.sum(axis=0)[None, :]


@valid("softmax", "one column at a time")
def softmax_columns(Z):
    A = np.empty_like(Z)
    for j in range(Z.shape[1]):
        e = np.exp(Z[:, j] - Z[:, j].max())
        A[:, j] = e / e.sum()
    return A


# ----------------------------------------------------------------------------- forward (lesson 01)

def _forward_with(**switch):
    def forward(X, W1, b1, W2, b2):
        Z1 = (W1 @ X) + (0 if switch.get("no_b1") else b1)
        A1 = Z1 if switch.get("no_relu") else np.maximum(Z1, 0)
        Z2 = (W2.T if switch.get("W2T") else W2) @ A1 + (0 if switch.get("no_b2") else b2)
        if switch.get("logits"):
            return Z2
        if switch.get("rows"):
            E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
            return E / E.sum(axis=1, keepdims=True)
        return _softmax(Z2)
    return forward


for _label, _switch in (("no b1", "no_b1"), ("no b2", "no_b2"), ("no relu", "no_relu"), ("W2.T", "W2T"),
                        ("returns the logits", "logits"), ("softmax over axis 1", "rows")):
    wrong("forward", _label)(_forward_with(**{_switch: True}))


@wrong("forward", "float32", "dtype float32")
def forward_float32(X, W1, b1, W2, b2):
    return _softmax(W2 @ np.maximum(W1 @ X + b1, 0) + b2).astype(np.float32)


@wrong("forward", "calls mn.forward", "you called mn.forward")
def forward(X, W1, b1, W2, b2):
    return mn.forward({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X)[0]


@wrong("forward", "adds b1 into W1 @ X in place... into X", "in place")
def forward_in_place(X, W1, b1, W2, b2):
    X *= 1.0001
    return _softmax(W2 @ np.maximum(W1 @ X + b1, 0) + b2)


@wrong("forward", "returns (A2, cache)")
def forward_tuple(X, W1, b1, W2, b2):
    Z1 = W1 @ X + b1
    return _softmax(W2 @ np.maximum(Z1, 0) + b2), {"Z1": Z1}


@valid("forward", "the lesson's solution")
def forward_solution(X, W1, b1, W2, b2):
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    return _softmax(Z2)


@valid("forward", "rows, transposed back")
def forward_rows(X, W1, b1, W2, b2):
    A1 = np.maximum(X.T @ W1.T + b1.T, 0)
    return _softmax((A1 @ W2.T + b2.T).T)


@valid("forward", "np.dot and mn.softmax")
def forward_dot(X, W1, b1, W2, b2):
    return mn.softmax(np.dot(W2, np.maximum(np.dot(W1, X) + b1, 0)) + b2)


# ----------------------------------------------------------------------------- cross_entropy (lesson 02)

@wrong("cross_entropy", "log-softmax shifted by the column min")
def ce_min(Z, Y):
    S = Z - Z.min(axis=0, keepdims=True)
    return float(-(Y * (S - np.log(np.exp(S).sum(axis=0, keepdims=True)))).sum() / Z.shape[1])


@wrong("cross_entropy", "log-softmax shifted by the column mean")
def ce_mean_shift(Z, Y):
    S = Z - Z.mean(axis=0, keepdims=True)
    return float(-(Y * (S - np.log(np.exp(S).sum(axis=0, keepdims=True)))).sum() / Z.shape[1])


@wrong("cross_entropy", "sum, not mean", "1/m")
def ce_sum(Z, Y):
    return float(-(Y * _log_softmax(Z)).sum())


@wrong("cross_entropy", "log of softmax")
def ce_log_of_softmax(Z, Y):
    return float(-(Y * np.log(_softmax(Z))).sum() / Z.shape[1])


@wrong("cross_entropy", "log of softmax + eps")
def ce_eps(Z, Y):
    return float(-(Y * np.log(_softmax(Z) + 1e-12)).sum() / Z.shape[1])


@wrong("cross_entropy", "wrong sign", "sign")
def ce_sign(Z, Y):
    return float((Y * _log_softmax(Z)).sum() / Z.shape[1])


@wrong("cross_entropy", "np.mean over all entries", "m * k")
def ce_mean_all(Z, Y):
    return float(-np.mean(Y * _log_softmax(Z)))


@wrong("cross_entropy", "per-example losses", "one loss per example")
def ce_per_example(Z, Y):
    return -(Y * _log_softmax(Z)).sum(axis=0)


@wrong("cross_entropy", "float32 loss", "float32")
def ce_float32(Z, Y):
    return np.float32(-(Y * _log_softmax(Z)).sum() / Z.shape[1])


@wrong("cross_entropy", "Z -= max in place", "in place")
def ce_in_place(Z, Y):
    Z -= Z.max(axis=0, keepdims=True)
    return float(-(Y * (Z - np.log(np.exp(Z).sum(axis=0, keepdims=True)))).sum() / Z.shape[1])


@wrong("cross_entropy", "log10", "log10")
def ce_log10(Z, Y):
    return float(-(Y * _log_softmax(Z)).sum() / Z.shape[1] / np.log(10))


@wrong("cross_entropy", "calls mn.cross_entropy", "you called mn.cross_entropy")
def cross_entropy(Z, Y):
    return mn.cross_entropy(Z, Y)


@wrong("cross_entropy", "one-element array (told precisely)", "(the right value)")
def ce_one_element(Z, Y):
    return np.array([-(Y * _log_softmax(Z)).sum() / Z.shape[1]])


@valid("cross_entropy", "the lesson's solution")
def ce_solution(Z, Y):
    return float(-(Y * _log_softmax(Z)).sum() / Z.shape[1])


@valid("cross_entropy", "a 0-d array")
def ce_zero_d(Z, Y):
    return np.array(-(Y * _log_softmax(Z)).sum() / Z.shape[1])


@valid("cross_entropy", "np.float64, mean of column sums")
def ce_mean_of_sums(Z, Y):
    return np.mean(-(Y * _log_softmax(Z)).sum(axis=0))


@valid("cross_entropy", "indexing the true class")
def ce_index(Z, Y):
    y = Y.argmax(axis=0)
    return float(-_log_softmax(Z)[y, np.arange(Z.shape[1])].mean())


@valid("cross_entropy", "log-sum-exp written out")
def ce_lse(Z, Y):
    c = Z.max(axis=0)
    lse = c + np.log(np.sum(np.exp(Z - c), axis=0))
    return float(np.mean(lse - np.sum(Y * Z, axis=0)))


# ----------------------------------------------------------------------------- backward (lesson 03)

def _backward_with(**switch):
    def backward(params, cache, Y):
        m = 1 if switch.get("no_m") else Y.shape[1] * (Y.shape[1] if switch.get("m_twice") else 1)
        dZ2 = (cache["A2"] - Y) / m
        W2 = params["W2"] if switch.get("W2") else params["W2"].T
        dA1 = W2 @ dZ2
        mask = {"none": 1, "Z": cache["Z1"], "A": cache["A1"]}.get(switch.get("mask"), cache["Z1"] > 0)
        dZ1 = dA1 * mask
        db_axis = 0 if switch.get("db_axis0") else 1
        return {"dW2": (dZ2 @ cache["A1"].T).T if switch.get("dWT") else dZ2 @ cache["A1"].T,
                "db2": dZ2.sum(axis=1, keepdims=True), "dW1": dZ1 @ cache["A0"].T,
                "db1": dZ1 if switch.get("db_not_summed") else dZ1.sum(axis=db_axis, keepdims=True)}
    return backward


for _label, _switch in (("no 1/m", dict(no_m=True)), ("1/m twice", dict(m_twice=True)),
                        ("W2 not transposed", dict(W2=True)), ("no mask", dict(mask="none")),
                        ("mask by Z1", dict(mask="Z")), ("mask by A1 values", dict(mask="A")),
                        ("db1 over axis 0", dict(db_axis0=True)), ("dW2 transposed", dict(dWT=True)),
                        ("db1 not summed", dict(db_not_summed=True))):
    wrong("backward", _label)(_backward_with(**_switch))


@wrong("backward", "nested lists", "not a NumPy array")
def backward_lists(params, cache, Y):
    return {key: g.tolist() for key, g in _backward_with()(params, cache, Y).items()}


@wrong("backward", "dZ2 = A2; dZ2 -= Y changes the cache", "in place")
def backward_in_place(params, cache, Y):
    dZ2 = cache["A2"]
    dZ2 -= Y
    dZ2 /= Y.shape[1]
    dZ1 = (params["W2"].T @ dZ2) * (cache["Z1"] > 0)
    return {"dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True), "dW1": dZ1 @ cache["A0"].T,
            "db1": dZ1.sum(axis=1, keepdims=True)}


@wrong("backward", "float32 gradients", "float32")
def backward_float32(params, cache, Y):
    return {key: g.astype(np.float32) for key, g in _backward_with()(params, cache, Y).items()}


@wrong("backward", "calls mn.backward", "you called mn.backward")
def backward(params, cache, Y):
    return mn.backward(params, cache, Y)


@wrong("backward", "dW2 from Z1", "A1")
def backward_dW2_Z1(params, cache, Y):
    grads = _backward_with()(params, cache, Y)
    grads["dW2"] = (cache["A2"] - Y) / Y.shape[1] @ cache["Z1"].T
    return grads


@wrong("backward", "no db1", "no key")
def backward_missing(params, cache, Y):
    grads = _backward_with()(params, cache, Y)
    del grads["db1"]
    return grads


@valid("backward", "the lesson's solution")
def backward_solution(params, cache, Y):
    X, Z1, A1, A2 = cache["A0"], cache["Z1"], cache["A1"], cache["A2"]
    m = Y.shape[1]
    dZ2 = (A2 - Y) / m
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1 * (Z1 > 0)
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


@valid("backward", "the four gradients only, another order")
def backward_four(params, cache, Y):
    grads = _backward_with()(params, cache, Y)
    return {key: grads[key] for key in ("db1", "dW1", "db2", "dW2")}


@valid("backward", "mask from A1 > 0, np.where, np.dot")
def backward_where(params, cache, Y):
    dZ2 = (cache["A2"] - Y) / cache["A0"].shape[1]
    dZ1 = np.where(cache["A1"] > 0, np.dot(params["W2"].T, dZ2), 0.0)
    return {"dW1": np.dot(dZ1, cache["A0"].T), "db1": np.sum(dZ1, axis=1)[:, None],
            "dW2": np.dot(dZ2, cache["A1"].T), "db2": np.sum(dZ2, axis=1).reshape(-1, 1)}


# ----------------------------------------------------------------------------- numerical_gradient (lesson 03)

def _numgrad_with(**switch):
    def numerical_gradient(f, x, h=1e-5):
        h = 1e-5 if switch.get("fixed_h") else h
        grad = np.zeros_like(x, dtype=np.float64)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            plus = f()
            x[i] = old if switch.get("forward") else old - h
            minus = f()
            if not switch.get("no_restore"):
                x[i] = old
            grad[i] = (plus - minus) / (h if switch.get("forward") else 2 * h)
            if switch.get("parens"):
                grad[i] = (plus - minus) / 2 * h
        return -grad if switch.get("sign") else grad
    return numerical_gradient


for _label, _switch in (("forward difference", "forward"), ("no restore", "no_restore"), ("/ 2 * h", "parens"),
                        ("ignores h", "fixed_h"), ("wrong sign", "sign")):
    wrong("numerical_gradient", _label)(_numgrad_with(**{_switch: True}))


@wrong("numerical_gradient", "x = x + h: f never sees it", "all zeros")
def numgrad_rebind(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x_plus = x.copy()
        x_plus[i] += h
        grad[i] = (f() - f()) / (2 * h)
    return grad


@wrong("numerical_gradient", "nudges all of x at once", "one entry at a time")
def numgrad_all(f, x, h=1e-5):
    x += h
    plus = f()
    x -= 2 * h
    minus = f()
    x += h
    return np.full(x.shape, (plus - minus) / (2 * h))


@wrong("numerical_gradient", "flattened result")
def numgrad_flat_result(f, x, h=1e-5):
    return _numgrad_with()(f, x, h).ravel()


@wrong("numerical_gradient", "calls mn.numerical_gradient", "you called mn.numerical_gradient")
def numerical_gradient(f, x, h=1e-5):
    return mn.numerical_gradient(f, x, h)


@wrong("numerical_gradient", "a list", "not a NumPy array")
def numgrad_list(f, x, h=1e-5):
    return _numgrad_with()(f, x, h).tolist()


@valid("numerical_gradient", "the lesson's solution")
def numgrad_solution(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@valid("numerical_gradient", "a flat index (x.flat)")
def numgrad_flat(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        f_plus = f()
        x.flat[i] = old - h
        f_minus = f()
        x.flat[i] = old
        grad.flat[i] = (f_plus - f_minus) / (2 * h)
    return grad


@valid("numerical_gradient", "np.nditer with multi_index")
def numgrad_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


# ----------------------------------------------------------------------------- sgd_step (lesson 04)

@wrong("sgd_step", "zip(params.values(), grads.values())", "by position")
def sgd_step_zip(params, grads, lr):
    for p, g in zip(params.values(), grads.values()):
        p -= lr * g


@wrong("sgd_step", "rebinds p", "in place")
def sgd_step_rebinds(params, grads, lr):
    for key, p in params.items():
        p = p - lr * grads["d" + key]  # noqa: F841 (the mistake)


@wrong("sgd_step", "uphill", "uphill")
def sgd_step_uphill(params, grads, lr):
    for key, p in params.items():
        p += lr * grads["d" + key]


@wrong("sgd_step", "lr hard-coded 0.1")
def sgd_step_fixed_lr(params, grads, lr):
    for key, p in params.items():
        p -= 0.1 * grads["d" + key]


@wrong("sgd_step", "g *= lr changes grads", "grads")
def sgd_step_scales_grads(params, grads, lr):
    for key, p in params.items():
        g = grads["d" + key]
        g *= lr
        p -= g


@wrong("sgd_step", "replaces the arrays", "replaced")
def sgd_step_replaces(params, grads, lr):
    for key in params:
        params[key] = params[key] - lr * grads["d" + key]


@wrong("sgd_step", "returns new params", "returned new parameters")
def sgd_step_returns(params, grads, lr):
    return {key: p - lr * grads["d" + key] for key, p in params.items()}


@wrong("sgd_step", "only the weights", "did not change")
def sgd_step_weights_only(params, grads, lr):
    for key, p in params.items():
        if key.startswith("W"):
            p -= lr * grads["d" + key]


@wrong("sgd_step", "calls mn.SGD", "you called mn.SGD")
def sgd_step(params, grads, lr):
    mn.SGD(params, lr).step(grads)


@wrong("sgd_step", "empties params", "emptied")
def sgd_step_clears(params, grads, lr):
    params.clear()


WRONG.append(("sgd_step", "mathnn's fallback (checker cell re-run)", FALLBACK, "this is mathnn's"))


@valid("sgd_step", "the lesson's solution")
def sgd_step_solution(params, grads, lr):
    for key, p in params.items():
        p -= lr * grads["d" + key]


@valid("sgd_step", "p[...] = p - lr * g")
def sgd_step_ellipsis(params, grads, lr):
    for key, p in params.items():
        p[...] = p - lr * grads["d" + key]


@valid("sgd_step", "np.subtract(out=p)")
def sgd_step_out(params, grads, lr):
    for key, p in params.items():
        np.subtract(p, lr * grads["d" + key], out=p)


@valid("sgd_step", "loop over grads, params[key] -= ...")
def sgd_step_by_grads(params, grads, lr):
    for dkey, g in grads.items():
        params[dkey[1:]] -= g * lr


# ----------------------------------------------------------------------------- sgd_epoch (lesson 04)

def _step(params, grads, lr):
    for key, p in params.items():
        p -= lr * grads["d" + key]


def _epoch_with(order="permutation", **switch):
    def sgd_epoch(params, X, Y, lr, batch_size, rng):
        m = X.shape[1]
        perm = {"permutation": lambda: rng.permutation(m), "choice": lambda: rng.choice(m, m, replace=False),
                "none": lambda: np.arange(m), "global": lambda: np.random.permutation(m),
                "own": lambda: np.random.default_rng(0).permutation(m),
                "argsort": lambda: np.argsort(rng.random(m))}[order]()
        losses, start_params = [], {key: p.copy() for key, p in params.items()}
        stop = m - m % batch_size if switch.get("drop_last") else m
        for start in range(0, stop, batch_size):
            idx = perm[start:start + batch_size]
            X_batch, Y_batch = X[:, idx], Y[:, idx]
            A2, cache = mn.forward(start_params if switch.get("stale") else params, X_batch)
            loss = mn.cross_entropy(cache["Z2"], Y_batch)
            grads = mn.backward(start_params if switch.get("stale") else params, cache, Y_batch)
            if switch.get("loss_after"):
                _step(params, grads, lr)
                loss = mn.cross_entropy(mn.forward(params, X_batch)[1]["Z2"], Y_batch)
            else:
                _step(params, grads, -lr if switch.get("uphill") else (0.1 if switch.get("fixed_lr") else lr))
            losses.append(loss)
        return float(np.mean(losses)) if switch.get("mean") else losses
    return sgd_epoch


for _label, _kw in (("no shuffle", dict(order="none")), ("np.random.permutation (global)", dict(order="global")),
                    ("an rng of its own", dict(order="own")), ("uphill", dict(uphill=True)),
                    ("drops the last batch", dict(drop_last=True)), ("stale gradients", dict(stale=True)),
                    ("returns the mean loss", dict(mean=True)), ("losses after the step", dict(loss_after=True)),
                    ("lr hard-coded 0.1", dict(fixed_lr=True))):
    wrong("sgd_epoch", _label)(_epoch_with(**_kw))


@wrong("sgd_epoch", "shuffles X in place", "changed X or Y")
def sgd_epoch_shuffles_X(params, X, Y, lr, batch_size, rng):
    perm = rng.permutation(X.shape[1])
    X[:] = X[:, perm]
    Y[:] = Y[:, perm]
    losses = []
    for start in range(0, X.shape[1], batch_size):
        loss, grads = mn.loss_and_grads(params, X[:, start:start + batch_size], Y[:, start:start + batch_size])
        _step(params, grads, lr)
        losses.append(loss)
    return losses


@wrong("sgd_epoch", "endless loop", "an endless loop?")
def sgd_epoch_loops(params, X, Y, lr, batch_size, rng):
    start = 0
    while start < X.shape[1]:
        loss, grads = mn.loss_and_grads(params, X[:, :batch_size], Y[:, :batch_size])  # forgot start += batch_size


@wrong("sgd_epoch", "calls mn.fit", "you called mn.fit")
def sgd_epoch(params, X, Y, lr, batch_size, rng):
    mn.fit(params, X, Y.argmax(axis=0), rng=rng, lr=lr, num_epochs=1, batch_size=batch_size)
    return [0.0] * -(-X.shape[1] // batch_size)


@valid("sgd_epoch", "the lesson's solution")
def sgd_epoch_solution(params, X, Y, lr, batch_size, rng):
    m = X.shape[1]
    perm = rng.permutation(m)
    losses = []
    for start in range(0, m, batch_size):
        idx = perm[start:start + batch_size]
        X_batch = X.T[idx].T
        Y_batch = Y.T[idx].T
        A2, cache = mn.forward(params, X_batch)
        loss = mn.cross_entropy(cache["Z2"], Y_batch)
        grads = mn.backward(params, cache, Y_batch)
        _step(params, grads, lr)
        losses.append(loss)
    return losses


VALID.append(("sgd_epoch", "rng.choice(m, m, replace=False)", _epoch_with(order="choice")))
VALID.append(("sgd_epoch", "np.argsort(rng.random(m))", _epoch_with(order="argsort")))


@valid("sgd_epoch", "rng.shuffle of np.arange, mn.minibatches-free, losses as an array")
def sgd_epoch_shuffle(params, X, Y, lr, batch_size, rng):
    order = np.arange(X.shape[1])
    rng.shuffle(order)
    losses = np.zeros(-(-X.shape[1] // batch_size))
    for b, start in enumerate(range(0, X.shape[1], batch_size)):
        idx = order[start:start + batch_size]
        losses[b], grads = mn.loss_and_grads(params, X[:, idx], Y[:, idx])
        mn.SGD(params, lr).step(grads)
    return losses


@valid("sgd_epoch", "mn.minibatches, mn.loss_and_grads")
def sgd_epoch_minibatches(params, X, Y, lr, batch_size, rng):
    losses = []
    for X_batch, Y_batch in mn.minibatches(X, Y, batch_size, rng):
        loss, grads = mn.loss_and_grads(params, X_batch, Y_batch)
        _step(params, grads, lr)
        losses.append(loss)
    return losses


# ----------------------------------------------------------------------------- he_init, glorot_init (lesson 05)

for _part, _sigma, _wrongs in (
        ("he_init", lambda n_in, n_out: np.sqrt(2 / n_in),
         (("n_out for n_in", lambda n_in, n_out: np.sqrt(2 / n_out)), ("LeCun", lambda n_in, n_out: np.sqrt(1 / n_in)),
          ("variance as std", lambda n_in, n_out: 2 / n_in))),
        ("glorot_init", lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)),
         (("He", lambda n_in, n_out: np.sqrt(2 / n_in)), ("1 / (n_in + n_out)", lambda n_in, n_out:
                                                           np.sqrt(1 / (n_in + n_out))),
          ("variance as std", lambda n_in, n_out: 2 / (n_in + n_out))))):
    for _label, _s in _wrongs:
        WRONG.append((_part, _label, (lambda s: lambda n_in, n_out, rng: s(n_in, n_out) *
                                      rng.standard_normal((n_out, n_in)))(_s), None))
    WRONG.append((_part, "uniform with the right limit", (lambda s: lambda n_in, n_out, rng: rng.uniform(
        -s(n_in, n_out), s(n_in, n_out), (n_out, n_in)))(_sigma), None))
    WRONG.append((_part, "np.random (global)", (lambda s: lambda n_in, n_out, rng: s(n_in, n_out) *
                                                np.random.standard_normal((n_out, n_in)))(_sigma), None))
    WRONG.append((_part, "an rng of its own", (lambda s: lambda n_in, n_out, rng: s(n_in, n_out) *
                                               np.random.default_rng(0).standard_normal((n_out, n_in)))(_sigma), None))
    WRONG.append((_part, "(n_in, n_out)", (lambda s: lambda n_in, n_out, rng: s(n_in, n_out) *
                                           rng.standard_normal((n_in, n_out)))(_sigma), None))
    WRONG.append((_part, "a list", (lambda s: lambda n_in, n_out, rng: (s(n_in, n_out) * rng.standard_normal(
        (n_out, n_in))).tolist())(_sigma), "not a NumPy array"))
    VALID.append((_part, "rng.normal(0, sigma, size)", (lambda s: lambda n_in, n_out, rng: rng.normal(
        0, s(n_in, n_out), size=(n_out, n_in)))(_sigma)))
    VALID.append((_part, "sigma * rng.standard_normal", (lambda s: lambda n_in, n_out, rng: s(n_in, n_out) *
                                                         rng.standard_normal((n_out, n_in)))(_sigma)))
    VALID.append((_part, "float32, as mn.init_params", (lambda s: lambda n_in, n_out, rng: (
        s(n_in, n_out) * rng.standard_normal((n_out, n_in))).astype(np.float32))(_sigma)))


@wrong("he_init", "calls mn.init_params", "you called mn.init_params")
def he_init(n_in, n_out, rng):
    return mn.init_params((n_in, n_out), "he", rng)["W1"]


# ----------------------------------------------------------------------------- schedules (lesson 06)

for _label, _f in (("starts one epoch late", lambda lr, n, e: lr * (1 + np.cos(np.pi * (e + 1) / n)) / 2),
                   ("num_epochs - 1", lambda lr, n, e: lr * (1 + np.cos(np.pi * e / (n - 1))) / 2),
                   ("degrees", lambda lr, n, e: lr * (1 + np.cos(180 * e / n)) / 2),
                   ("1 - cos", lambda lr, n, e: lr * (1 - np.cos(np.pi * e / n)) / 2),
                   ("2 pi", lambda lr, n, e: lr * (1 + np.cos(2 * np.pi * e / n)) / 2),
                   ("no / 2", lambda lr, n, e: lr * (1 + np.cos(np.pi * e / n))),
                   ("lr hard-coded 0.1", lambda lr, n, e: 0.1 * (1 + np.cos(np.pi * e / n)) / 2),
                   ("num_epochs hard-coded 10", lambda lr, n, e: lr * (1 + np.cos(np.pi * e / 10)) / 2)):
    WRONG.append(("cosine_schedule", _label,
                  (lambda f: lambda lr, num_epochs: lambda epoch: f(lr, num_epochs, epoch))(_f), None))
WRONG.append(("cosine_schedule", "returns the list of values", lambda lr, num_epochs: [
    lr * (1 + np.cos(np.pi * e / num_epochs)) / 2 for e in range(num_epochs)], "not a function"))


@wrong("cosine_schedule", "calls mn.cosine_schedule", "you called mn.cosine_schedule")
def cosine_schedule(lr, num_epochs):
    return mn.cosine_schedule(lr, num_epochs)


@valid("cosine_schedule", "the lesson's solution")
def cosine_solution(lr, num_epochs):
    def schedule(epoch):
        return lr * (1 + np.cos(np.pi * epoch / num_epochs)) / 2
    return schedule


@valid("cosine_schedule", "math.cos in a lambda")
def cosine_math(lr, num_epochs):
    return lambda epoch: 0.5 * lr * (1 + math.cos(math.pi * epoch / num_epochs))


for _label, _f in (("epoch / every", lambda lr, d, k, e: lr * d ** (e / k)),
                   ("(epoch + 1) // every", lambda lr, d, k, e: lr * d ** ((e + 1) // k)),
                   ("drop every epoch", lambda lr, d, k, e: lr * d ** e),
                   ("drop hard-coded 0.5", lambda lr, d, k, e: lr * 0.5 ** (e // k)),
                   ("every hard-coded 2", lambda lr, d, k, e: lr * d ** (e // 2)),
                   ("subtracts", lambda lr, d, k, e: lr - d * (e // k))):
    WRONG.append(("step_schedule", _label, (lambda f: lambda lr, drop, every: lambda epoch: f(lr, drop, every, epoch))(
        _f), None))


@valid("step_schedule", "the lesson's solution")
def step_solution(lr, drop, every):
    def schedule(epoch):
        return lr * drop ** (epoch // every)
    return schedule


@valid("step_schedule", "math.floor")
def step_floor(lr, drop, every):
    return lambda epoch: lr * drop ** math.floor(epoch / every)


# ----------------------------------------------------------------------------- momentum_step, adam_step (lesson 07)

@wrong("momentum_step", "beta hard-coded 0.9")
def momentum_fixed_beta(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = 0.9 * velocity[key] + grads["d" + key]
        p -= lr * velocity[key]


@wrong("momentum_step", "adds into grads and keeps it as the velocity", "grad")
def momentum_into_grads(params, grads, velocity, lr, beta):
    for key, p in params.items():
        g = grads["d" + key]
        g += beta * velocity[key]
        velocity[key] = g
        p -= lr * g


@wrong("momentum_step", "running-mean form", "running-mean")
def momentum_ema(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = beta * velocity[key] + (1 - beta) * grads["d" + key]
        p -= lr * velocity[key]


@wrong("momentum_step", "forgets the velocity")
def momentum_forgets(params, grads, velocity, lr, beta):
    for key, p in params.items():
        v = beta * 0 + grads["d" + key]
        p -= lr * v


@wrong("momentum_step", "Nesterov", "Nesterov")
def momentum_nesterov(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = beta * velocity[key] + grads["d" + key]
        p -= lr * (beta * velocity[key] + grads["d" + key])


@wrong("momentum_step", "uphill", "uphill")
def momentum_uphill(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = beta * velocity[key] + grads["d" + key]
        p += lr * velocity[key]


@wrong("momentum_step", "lr inside the velocity", "without lr")
def momentum_lr_inside(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = beta * velocity[key] + lr * grads["d" + key]
        p -= velocity[key]


@wrong("momentum_step", "keeps the caller's gradient array as the velocity", "gradient array itself")
def momentum_alias(params, grads, velocity, lr, beta):
    for key, p in params.items():
        if not velocity[key].any():
            velocity[key] = grads["d" + key]
        else:
            velocity[key] = beta * velocity[key] + grads["d" + key]
        p -= lr * velocity[key]


@wrong("momentum_step", "calls mn.Momentum", "you called mn.Momentum")
def momentum_step(params, grads, velocity, lr, beta):
    opt = mn.Momentum(params, lr, beta)
    opt.velocity = velocity
    opt.step(grads)


@valid("momentum_step", "the lesson's solution")
def momentum_solution(params, grads, velocity, lr, beta):
    for key, p in params.items():
        velocity[key] = beta * velocity[key] + grads["d" + key]
        p -= lr * velocity[key]


@valid("momentum_step", "v *= beta; v += g in place")
def momentum_in_place(params, grads, velocity, lr, beta):
    for key, p in params.items():
        v = velocity[key]
        v *= beta
        v += grads["d" + key]
        p -= lr * v


@valid("momentum_step", "np.multiply/np.add with out=")
def momentum_out(params, grads, velocity, lr, beta):
    for key in params:
        np.add(np.multiply(velocity[key], beta), grads["d" + key], out=velocity[key])
        params[key] -= lr * velocity[key]


def _adam_with(**switch):
    def adam_step(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        b1, b2 = (0.9, 0.999) if switch.get("defaults") else (beta1, beta2)
        for key, p in params.items():
            g = grads["d" + key]
            m[key] = b1 * m[key] + (1 - b1) * g
            v[key] = b2 * v[key] + (1 - b2) * (g if switch.get("no_square") else g**2)
            tt = t + 1 if switch.get("t_plus") else t
            m_hat = m[key] if switch.get("no_correction") else m[key] / (1 - b1**tt)
            v_hat = v[key] if switch.get("no_correction") or switch.get("only_m") else v[key] / (1 - b2**tt)
            step = m_hat / (np.sqrt(v_hat + eps) if switch.get("eps_inside") else np.sqrt(v_hat) + eps)
            p -= (-lr if switch.get("uphill") else lr) * step
    return adam_step


for _label, _kw in (("no bias correction", "no_correction"), ("corrects only m", "only_m"),
                    ("eps inside the sqrt", "eps_inside"), ("t + 1", "t_plus"), ("v of g, not g**2", "no_square"),
                    ("uphill", "uphill"), ("ignores beta1, beta2 (hard-coded defaults)", "defaults")):
    wrong("adam_step", _label)(_adam_with(**{_kw: True}))


@wrong("adam_step", "g **= 2 in place", "grads")
def adam_squares_grads(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    for key, p in params.items():
        g = grads["d" + key]
        m[key] = beta1 * m[key] + (1 - beta1) * g
        g **= 2
        v[key] = beta2 * v[key] + (1 - beta2) * g
        p -= lr * (m[key] / (1 - beta1**t)) / (np.sqrt(v[key] / (1 - beta2**t)) + eps)


@wrong("adam_step", "calls mn.Adam", "you called mn.Adam")
def adam_step(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    opt = mn.Adam(params, lr, beta1, beta2, eps)
    opt.m, opt.v, opt.t = m, v, t - 1
    opt.step(grads)


@valid("adam_step", "the lesson's solution")
def adam_solution(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    for key, p in params.items():
        g = grads["d" + key]
        m[key] = beta1 * m[key] + (1 - beta1) * g
        v[key] = beta2 * v[key] + (1 - beta2) * g**2
        m_hat = m[key] / (1 - beta1**t)
        v_hat = v[key] / (1 - beta2**t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)


@valid("adam_step", "m and v updated in place, np.square")
def adam_in_place(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    for key in params:
        g = grads["d" + key]
        m[key] *= beta1
        m[key] += (1 - beta1) * g
        v[key] *= beta2
        v[key] += (1 - beta2) * np.square(g)
        params[key] -= lr * (m[key] / (1 - beta1**t)) / (np.sqrt(v[key] / (1 - beta2**t)) + eps)


# ----------------------------------------------------------------------------- linear_module (lesson 09)

class _LinearBase:
    def __init__(self, n_in, n_out, rng, init="he", dtype=np.float32):
        params = mn.init_params((n_in, n_out), init, rng, dtype)
        self.W, self.b = params["W1"], params["b1"]
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)

    def forward(self, A_prev):
        self.A_prev = A_prev
        return self.W @ A_prev + self.b

    def backward(self, dZ):
        self.dW = dZ @ self.A_prev.T
        self.db = dZ.sum(axis=1, keepdims=True)
        return self.W.T @ dZ

    def params(self):
        return {"W": self.W, "b": self.b}

    def grads(self):
        return {"dW": self.dW, "db": self.db}


VALID.append(("linear_module", "the lesson's solution", type("Linear", (_LinearBase,), {})))


class _LinearDot(_LinearBase):
    def forward(self, A_prev):
        self.A_prev = A_prev.copy()
        return np.dot(self.W, A_prev) + self.b

    def backward(self, dZ):
        self.dW = np.dot(dZ, self.A_prev.T)
        self.db = np.sum(dZ, axis=1, keepdims=True)
        return np.dot(self.W.T, dZ)


VALID.append(("linear_module", "np.dot, a copy of A_prev", type("Linear", (_LinearDot,), {})))


class _LinearFloat32(_LinearBase):
    def forward(self, A_prev):
        self.A_prev = A_prev
        return (self.W @ A_prev + self.b).astype(np.float32)


class _LinearNoBias(_LinearBase):
    def forward(self, A_prev):
        self.A_prev = A_prev
        return self.W @ A_prev


class _LinearReLU(_LinearBase):
    def forward(self, A_prev):
        self.A_prev = A_prev
        return np.maximum(self.W @ A_prev + self.b, 0)


class _LinearAccumulates(_LinearBase):
    def backward(self, dZ):
        self.dW = self.dW + dZ @ self.A_prev.T
        self.db = self.db + dZ.sum(axis=1, keepdims=True)
        return self.W.T @ dZ


class _LinearDbVector(_LinearBase):
    def backward(self, dZ):
        out = super().backward(dZ)
        self.db = dZ.sum(axis=1)
        return out


class _LinearDividesByM(_LinearBase):
    def backward(self, dZ):
        out = super().backward(dZ)
        self.dW = self.dW / dZ.shape[1]
        return out


class _LinearUpdates(_LinearBase):
    def backward(self, dZ):
        out = super().backward(dZ)
        self.W -= 0.1 * self.dW
        return out


class _LinearCopies(_LinearBase):
    def params(self):
        return {"W": self.W.copy(), "b": self.b.copy()}


class _LinearSquareBug(_LinearBase):
    def forward(self, A_prev):
        self.A_prev = A_prev
        W = self.W.T if self.W.shape[0] == self.W.shape[1] else self.W
        return W @ A_prev + self.b


for _label, _cls, _phrase in (("forward returns float32", _LinearFloat32, "float32"), ("no bias", _LinearNoBias, None),
                              ("a ReLU in forward", _LinearReLU, None), ("dW accumulates", _LinearAccumulates, None),
                              ("db of shape (n,)", _LinearDbVector, None), ("dW / m", _LinearDividesByM, None),
                              ("backward updates W", _LinearUpdates, None), ("params() copies", _LinearCopies, None),
                              ("W.T on a square layer", _LinearSquareBug, None)):
    WRONG.append(("linear_module", _label, type("Linear", (_cls,), {}), _phrase))
WRONG.append(("linear_module", "inherits mn.Linear", type("Linear", (mn.Linear,), {}), "mn.Linear"))


# ----------------------------------------------------------------------------- sequential_backward (lesson 09)

@wrong("sequential_backward", "forward order", "forward order")
def seq_forward_order(modules, dout):
    for module in modules:
        dout = module.backward(dout)
    return dout


@wrong("sequential_backward", "modules.reverse()", "changed the list")
def seq_reverses(modules, dout):
    modules.reverse()
    for module in modules:
        dout = module.backward(dout)
    return dout


@wrong("sequential_backward", "does not pass the gradient down")
def seq_same_dout(modules, dout):
    out = dout
    for module in reversed(modules):
        out = module.backward(dout) if module is modules[-1] else module.backward(out * 0 + out)
    return dout


@wrong("sequential_backward", "skips the first module", "never ran")
def seq_skips_first(modules, dout):
    for module in reversed(modules[1:]):
        dout = module.backward(dout)
    return dout


@wrong("sequential_backward", "calls mn.Sequential", "you called mn.Sequential")
def sequential_backward(modules, dout):
    return mn.Sequential(*modules).backward(dout)


@valid("sequential_backward", "the lesson's solution")
def seq_solution(modules, dout):
    for module in reversed(modules):
        dout = module.backward(dout)
    return dout


@valid("sequential_backward", "modules[::-1]")
def seq_slice(modules, dout):
    for module in modules[::-1]:
        dout = module.backward(dout)
    return dout


@valid("sequential_backward", "an index loop")
def seq_index(modules, dout):
    for i in range(len(modules) - 1, -1, -1):
        dout = modules[i].backward(dout)
    return dout


# ----------------------------------------------------------------------------- regularization (lesson 10)

def _l2_with(scale=1.0, biases=False, keep=True):
    def l2_grads(params, grads, weight_decay):
        return {key: g + scale * weight_decay * params[key[1:]] if key.startswith("dW") or biases else g
                for key, g in grads.items() if keep or key.startswith("dW")}
    return l2_grads


for _label, _f in (("weight_decay / 2", _l2_with(0.5)), ("2 weight_decay", _l2_with(2.0)), ("minus", _l2_with(-1.0)),
                   ("decays the biases", _l2_with(biases=True)), ("leaves out the biases", _l2_with(keep=False))):
    WRONG.append(("l2_grads", _label, _f, None))


@wrong("l2_grads", "only weight_decay * W", "only weight_decay * W")
def l2_only_penalty(params, grads, weight_decay):
    return {key: weight_decay * params[key[1:]] if key.startswith("dW") else g for key, g in grads.items()}


@wrong("l2_grads", "adds into grads in place", "in place")
def l2_in_place(params, grads, weight_decay):
    for key, g in grads.items():
        if key.startswith("dW"):
            g += weight_decay * params[key[1:]]
    return grads


@wrong("l2_grads", "zips grads with params by position")
def l2_zip(params, grads, weight_decay):
    return {key: g + weight_decay * p if key.startswith("dW") else g
            for (key, g), p in zip(grads.items(), params.values())}


@wrong("l2_grads", "float32", "float32")
def l2_float32(params, grads, weight_decay):
    return {key: g.astype(np.float32) for key, g in _l2_with()(params, grads, weight_decay).items()}


@wrong("l2_grads", "weight_decay hard-coded 0.3")
def l2_fixed_lam(params, grads, weight_decay):
    return _l2_with()(params, grads, 0.3)


@wrong("l2_grads", "calls mn.l2_grads", "you called mn.l2_grads")
def l2_grads(params, grads, weight_decay):
    return mn.l2_grads(params, grads, weight_decay)


@valid("l2_grads", "the lesson's solution")
def l2_solution(params, grads, weight_decay):
    reg = {}
    for key, g in grads.items():
        if key.startswith("dW"):
            reg[key] = g + weight_decay * params[key[1:]]
        else:
            reg[key] = g
    return reg


@valid("l2_grads", "copies, then adds in place to the copies")
def l2_copies(params, grads, weight_decay):
    reg = {key: g.copy() for key, g in grads.items()}
    for key in reg:
        if key[1] == "W":
            reg[key] += weight_decay * params[key[1:]]
    return reg


def _dropout_with(**switch):
    def dropout_forward(A, keep, rng):
        p = 0.8 if switch.get("fixed_keep") else keep
        draw = np.random.random(A.shape) if switch.get("global") else rng.random(A.shape)
        kept = draw >= p if switch.get("drop_prob") else draw < p
        M = kept * (1.0 if switch.get("unscaled") else (p if switch.get("times_keep") else 1 / p))
        return (M, A * M) if switch.get("swapped") else (A * M, M)
    return dropout_forward


for _label, _kw in (("keep as the drop probability", "drop_prob"), ("not scaled", "unscaled"),
                    ("scaled by keep", "times_keep"), ("np.random (global)", "global"),
                    ("returns (M, A_drop)", "swapped"), ("keep hard-coded 0.8", "fixed_keep")):
    wrong("dropout_forward", _label)(_dropout_with(**{_kw: True}))


@wrong("dropout_forward", "A *= M in place", "in place")
def dropout_in_place(A, keep, rng):
    M = (rng.random(A.shape) < keep) / keep
    A *= M
    return A, M


@wrong("dropout_forward", "one mask per unit", "for the whole batch")
def dropout_per_unit(A, keep, rng):
    M = (rng.random((A.shape[0], 1)) < keep) / keep
    return A * M, M


@wrong("dropout_forward", "float32 A_drop", "float32")
def dropout_float32(A, keep, rng):
    M = (rng.random(A.shape) < keep) / keep
    return (A * M).astype(np.float32), M


@valid("dropout_forward", "the lesson's solution")
def dropout_solution(A, keep, rng):
    M = (rng.random(A.shape) < keep) / keep
    return A * M, M


@valid("dropout_forward", "rng.binomial")
def dropout_binomial(A, keep, rng):
    M = rng.binomial(1, keep, size=A.shape) / keep
    return A * M, M


@valid("dropout_forward", "rng.uniform, np.where")
def dropout_uniform(A, keep, rng):
    M = np.where(rng.uniform(size=A.shape) < keep, 1 / keep, 0.0)
    return A * M, M


@wrong("dropout_backward", "unchanged", "unchanged")
def dropout_backward_identity(dA_drop, M):
    return dA_drop.copy()


@wrong("dropout_backward", "mask not scaled", "did not scale")
def dropout_backward_unscaled(dA_drop, M):
    return dA_drop * (M != 0)


@wrong("dropout_backward", "divides by M", "divided by M")
def dropout_backward_divides(dA_drop, M):
    with np.errstate(all="ignore"):
        return dA_drop / M


@wrong("dropout_backward", "dA_drop *= M in place", "in place")
def dropout_backward_in_place(dA_drop, M):
    dA_drop *= M
    return dA_drop


@wrong("dropout_backward", "a list", "not a NumPy array")
def dropout_backward_list(dA_drop, M):
    return (dA_drop * M).tolist()


@wrong("dropout_backward", "calls mn.dropout_backward", "you called mn.dropout_backward")
def dropout_backward(dA_drop, M):
    return mn.dropout_backward(dA_drop, M)


@valid("dropout_backward", "the lesson's solution")
def dropout_backward_solution(dA_drop, M):
    return dA_drop * M


@valid("dropout_backward", "np.multiply")
def dropout_backward_multiply(dA_drop, M):
    return np.multiply(dA_drop, M)


# ----------------------------------------------------------------------------- a learner's review (issue 17, round 2)

def _sgd_epoch_drawn(draw):
    """An otherwise right epoch whose order is draw(rng, m)."""
    def sgd_epoch(params, X, Y, lr, batch_size, rng):
        m = X.shape[1]
        perm = draw(rng, m)
        losses = []
        for start in range(0, m, batch_size):
            idx = perm[start:start + batch_size]
            A2, cache = mn.forward(params, X[:, idx])
            losses.append(mn.cross_entropy(cache["Z2"], Y[:, idx]))
            _step(params, mn.backward(params, cache, Y[:, idx]), lr)
        return losses
    return sgd_epoch


VALID.append(("sgd_epoch", "np.argsort(rng.standard_normal(m))",
              _sgd_epoch_drawn(lambda rng, m: np.argsort(rng.standard_normal(m)))))
VALID.append(("sgd_epoch", "rng.permutation(m)[::-1]", _sgd_epoch_drawn(lambda rng, m: rng.permutation(m)[::-1])))


@valid("sgd_epoch", "argsort of rng draws, batches by np.take and X.T[idx].T")
def sgd_epoch_take(params, X, Y, lr, batch_size, rng):
    perm = np.argsort(rng.random(X.shape[1]) + 0.5)[::-1]
    losses = []
    for start in range(0, X.shape[1], batch_size):
        idx = perm[start:start + batch_size]
        X_batch = np.take(X, idx, axis=1) if start == 0 else X.T[idx].T
        A2, cache = mn.forward(params, X_batch)
        losses.append(mn.cross_entropy(cache["Z2"], Y.T[idx].T))
        _step(params, mn.backward(params, cache, Y.T[idx].T), lr)
    return losses


@valid("sgd_epoch", "shuffled copies X[:, perm], then contiguous slices")
def sgd_epoch_shuffled_copies(params, X, Y, lr, batch_size, rng):
    perm = np.argsort(rng.standard_normal(X.shape[1]))
    X_shuffled, Y_shuffled = X[:, perm], Y[:, perm]
    losses = []
    for start in range(0, X.shape[1], batch_size):
        X_batch, Y_batch = X_shuffled[:, start:start + batch_size], Y_shuffled[:, start:start + batch_size]
        A2, cache = mn.forward(params, X_batch)
        losses.append(mn.cross_entropy(cache["Z2"], Y_batch))
        _step(params, mn.backward(params, cache, Y_batch), lr)
    return losses


WRONG.append(("sgd_epoch", "argsort of a fixed rng's draws", _sgd_epoch_drawn(
    lambda rng, m: np.argsort(np.random.default_rng(1).standard_normal(m))), "rng argument"))


@wrong("sgd_epoch", "X and Y shuffled by two different draws")
def sgd_epoch_two_orders(params, X, Y, lr, batch_size, rng):
    m = X.shape[1]
    perm_X, perm_Y = rng.permutation(m), rng.permutation(m)
    losses = []
    for start in range(0, m, batch_size):
        X_batch, Y_batch = X[:, perm_X[start:start + batch_size]], Y[:, perm_Y[start:start + batch_size]]
        A2, cache = mn.forward(params, X_batch)
        losses.append(mn.cross_entropy(cache["Z2"], Y_batch))
        _step(params, mn.backward(params, cache, Y_batch), lr)
    return losses


def relu(Z):  # noqa: F811 (each entry is a learner's `def relu`)
    return check.relu.fallback(Z)


WRONG.append(("relu", "check.relu.fallback", relu, "you called check.relu.fallback"))


def _relu_helper(Z):
    return mn.relu_forward(Z)[0]


def relu(Z):  # noqa: F811
    return _relu_helper(Z)


WRONG.append(("relu", "mn.relu_forward through a helper of one's own", relu, "you called mn.relu_forward"))


def _relu_two_levels(Z):
    return _relu_helper(Z)


def relu(Z):  # noqa: F811
    return _relu_two_levels(Z)


WRONG.append(("relu", "mn.relu_forward two helpers down", relu, "you called mn.relu_forward"))


def relu(Z):  # noqa: F811
    import mathnn.layers
    return mathnn.layers.relu_forward(Z)[0]


WRONG.append(("relu", "mathnn.layers.relu_forward", relu, "you called mn.relu_forward"))


@valid("relu", "a helper of one's own that is right")
def relu_via_own_helper(Z):
    return _own_positive_part(Z)


def _own_positive_part(Z):
    return np.maximum(Z, 0)


@wrong("momentum_step", "zips params.items() with grads.values()", "by position")
def momentum_zip(params, grads, velocity, lr, beta):
    for (key, p), g in zip(params.items(), grads.values()):
        velocity[key] = beta * velocity[key] + g
        p -= lr * velocity[key]


@wrong("adam_step", "zips params.items() with grads.values()", "by position")
def adam_zip(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    for (k, p), g in zip(params.items(), grads.values()):
        m[k] = beta1 * m[k] + (1 - beta1) * g
        v[k] = beta2 * v[k] + (1 - beta2) * g * g
        p -= lr * (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps)


@wrong("l2_grads", "zips grads.items() with params.values() (the reviewer's)", "by position")
def l2_zip_items(params, grads, weight_decay):
    return {gk: g + weight_decay * p if gk.startswith("dW") else g
            for (gk, g), p in zip(grads.items(), params.values())}


@wrong("glorot_init", "np.sqrt(2 / n_in + n_out): std about 20", "parentheses")
def glorot_precedence(n_in, n_out, rng):
    return np.sqrt(2 / n_in + n_out) * rng.standard_normal((n_out, n_in))


@wrong("he_init", "np.sqrt(2 // n_in): all zeros", "all your weights are 0")
def he_floor_division(n_in, n_out, rng):
    return np.sqrt(2 // n_in) * rng.standard_normal((n_out, n_in))


@wrong("he_init", "a constant 0.01 * ones", None)
def he_constant(n_in, n_out, rng):
    return np.full((n_out, n_in), 0.01)


@wrong("cross_entropy", "float32 inside, float64 out", "float32")
def cross_entropy_float32_inside(Z, Y):
    Z32, Y32 = Z.astype(np.float32), Y.astype(np.float32)
    S = Z32 - Z32.max(axis=0, keepdims=True)
    log_p = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
    return float(-(Y32 * log_p).sum() / Z.shape[1])


@wrong("backward", "dZ1 = dA1, then masked in place (aliasing)", "same array")
def backward_alias(params, cache, Y):
    m = Y.shape[1]
    dZ2 = (cache["A2"] - Y) / m
    dA1 = params["W2"].T @ dZ2
    dZ1 = dA1
    dZ1[cache["Z1"] <= 0] = 0
    return {"dW1": dZ1 @ cache["A0"].T, "db1": dZ1.sum(axis=1, keepdims=True), "dW2": dZ2 @ cache["A1"].T,
            "db2": dZ2.sum(axis=1, keepdims=True), "dA1": dA1, "dZ1": dZ1, "dZ2": dZ2}


@wrong("numerical_gradient", "flat = x.flatten(): nudges a copy", "flatten")
def numgrad_flatten(f, x, h=1e-5):
    flat = x.flatten()
    grad = np.zeros(x.size)
    for i in range(x.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(x.shape)


@wrong("l2_grads", "only dW1 updated", "dW2")
def l2_only_dW1(params, grads, weight_decay):
    reg = dict(grads)
    reg["dW1"] = grads["dW1"] + weight_decay * params["W1"]
    return reg


@wrong("dropout_forward", "a fixed count of kept entries", "independently")
def dropout_fixed_count(A, keep, rng):
    M = np.zeros(A.size)
    M[rng.permutation(A.size)[:int(keep * A.size)]] = 1 / keep
    M = M.reshape(A.shape)
    return A * M, M


@wrong("dropout_forward", "the boolean mask returned (A scaled apart)", ".astype(np.float64)")
def dropout_bool_mask(A, keep, rng):
    M = rng.random(A.shape) < keep
    return A * M / keep, M


@wrong("dropout_forward", "a float32 mask for float64 A", "float32")
def dropout_float32_mask(A, keep, rng):
    M = ((rng.random(A.shape) < keep) / keep).astype(np.float32)
    return A * M, M


# ----------------------------------------------------------------------------- place_in_field (lesson 08)
# (tests/test_check_draw.py holds more, with the hint each mistake gets)

def _com(small):
    """Centre of mass (row, column) of small (h, w), written without mathnn."""
    rows, cols = np.indices(small.shape)
    return float((rows * small).sum() / small.sum()), float((cols * small).sum() / small.sum())


def _paste(small, dy, dx):
    field = np.zeros((28, 28))  # (28, 28)
    field[dy:dy + small.shape[0], dx:dx + small.shape[1]] = small
    return field


@valid("place_in_field", "rounded offsets, clamped into the field")
def place_in_field_rounded(small):
    h, w = small.shape
    row, col = _com(small)
    return _paste(small, int(np.clip(np.rint(14 - row), 0, 28 - h)), int(np.clip(np.rint(14 - col), 0, 28 - w)))


@valid("place_in_field", "np.pad, clamp with min and max")
def place_in_field_pad(small):
    h, w = small.shape
    row, col = _com(small)
    dy, dx = min(max(int(round(14 - row)), 0), 28 - h), min(max(int(round(14 - col)), 0), 28 - w)
    return np.pad(small, ((dy, 28 - h - dy), (dx, 28 - w - dx)))


@wrong("place_in_field", "centres the bounding box, not the centre of mass", "centre of mass")
def place_in_field_box(small):
    h, w = small.shape
    return _paste(small, (28 - h) // 2, (28 - w) // 2)


@wrong("place_in_field", "rows and columns swapped", "swapped")
def place_in_field_swapped(small):
    h, w = small.shape
    row, col = _com(small)
    return _paste(small, int(np.clip(np.rint(14 - col), 0, 28 - h)), int(np.clip(np.rint(14 - row), 0, 28 - w)))


@wrong("place_in_field", "returns a list")
def place_in_field_list(small):
    return place_in_field_rounded(small).tolist()


@wrong("place_in_field", "transposed field", "transposed")
def place_in_field_T(small):
    return place_in_field_rounded(small).T


@wrong("place_in_field", "offsets truncated, not rounded")
def place_in_field_truncated(small):
    h, w = small.shape
    row, col = _com(small)
    return _paste(small, int(np.clip(int(14 - row), 0, 28 - h)), int(np.clip(int(14 - col), 0, 28 - w)))


@wrong("place_in_field", "calls mathnn's", "mn.draw.place_in_field")
def place_in_field(small):
    return mn.draw.place_in_field(small)


# ----------------------------------------------------------------------------- running the corpus

class _Hang(BaseException):
    pass


def tally(check, seconds=20, quiet=True):
    """Run the corpus against the checkers in ``check``: {"wrong accepted": [...], "valid refused": [...],
    "raised": [...], "hung": [...]}, each a list of (part, label). A checker that runs longer than `seconds`
    on one entry (one without a time limit, on an endless loop) is stopped by an alarm and counted as hung.
    """
    import contextlib
    import io

    found = {"wrong accepted": [], "valid refused": [], "raised": [], "hung": []}
    entries = [(part, label, fn, False) for part, label, fn, _ in WRONG] + [
        (part, label, fn, True) for part, label, fn in VALID]
    for part, label, fn, right in entries:
        checker = getattr(check, part)
        fn = checker.fallback if fn is FALLBACK else fn

        def alarm(signum, frame):
            raise _Hang
        old = signal.signal(signal.SIGALRM, alarm)
        signal.alarm(seconds)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                result = checker(fn)
        except _Hang:
            found["hung"].append((part, label))
            continue
        except Exception as e:  # noqa: BLE001 (a checker that raises is what we count)
            found["raised"].append((part, f"{label}: {type(e).__name__}: {e}"))
            continue
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        accepted = result is fn and out.getvalue().startswith("✓")
        if not quiet:
            print(out.getvalue(), end="")
        if right and not accepted:
            found["valid refused"].append((part, label))
        if not right and accepted:
            found["wrong accepted"].append((part, label))
    return found


if __name__ == "__main__":
    from mathnn import check as _check

    for part in getattr(_check, "__all__", []):
        checker = getattr(_check, part)
        if hasattr(checker, "time_limit"):
            checker.time_limit = 2.0  # the corpus's endless loops: stop them soon
    counts = tally(_check, seconds=int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    print(f"corpus: {len(WRONG)} wrong answers, {len(VALID)} valid answers")
    for what, items in counts.items():
        print(f"{what}: {len(items)}")
        for part, label in items:
            print(f"  {part}: {label}")
