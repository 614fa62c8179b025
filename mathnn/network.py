"""The network: ReLU hidden layers and a softmax output, 784-10-10 by default.

Parameters live in a dict ``{"W1": (n1, n0), "b1": (n1, 1), "W2": (n2, n1), "b2": (n2, 1), ...}``
with ``n0 = 784`` inputs. Gradients use the same keys with a ``d`` in front
(``dW1``, ``db1``, ...). For the 784-10-10 network, :func:`forward` computes

    Z1 = W1 @ X + b1,  A1 = relu(Z1),  Z2 = W2 @ A1 + b2,  A2 = softmax(Z2).
"""

import os
from pathlib import Path

import numpy as np

from mathnn.layers import (
    cross_entropy_backward,
    linear_backward,
    linear_forward,
    log_softmax,
    nll,
    relu_backward,
    relu_forward,
)
from mathnn.shapes import ShapeError, check_array, shapes

SCHEMES = ("zeros", "normal", "small", "lecun", "glorot", "he")


def init_params(sizes=(784, 10, 10), scheme="he", rng=None, dtype=np.float32):
    """Random weights W_l (n_l, n_{l-1}) and zero biases b_l (n_l, 1).

    scheme: "zeros" (all 0), "normal" (sigma = 1), "small" (sigma = 0.01),
    "lecun" (sigma^2 = 1/n_in), "glorot" (Glorot and Bengio's "Xavier" init, sigma^2 = 2/(n_in + n_out),
    as torch.nn.init.xavier_normal_), "he" (sigma^2 = 2/n_in)  (eq. 11).
    rng: a ``np.random.Generator`` (pass ``np.random.default_rng(seed)``).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {SCHEMES}")
    if rng is None:
        raise ValueError("init_params needs an explicit rng, e.g. rng=np.random.default_rng(0)")
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        sigma = {"zeros": 0.0, "normal": 1.0, "small": 0.01,
                 "lecun": np.sqrt(1 / n_in), "glorot": np.sqrt(2 / (n_in + n_out)), "he": np.sqrt(2 / n_in)}[scheme]
        params[f"W{l}"] = (sigma * rng.standard_normal((n_out, n_in))).astype(dtype)
        params[f"b{l}"] = np.zeros((n_out, 1), dtype=dtype)
    return params


def num_layers(params):
    """Number of (linear) layers D in a parameter dict (2 for the 784-10-10 network)."""
    return sum(1 for key in params if key.startswith("W"))


@shapes(params="layers", X="n0 m")
def forward(params, X):
    """Forward pass. X (n0, m) -> A_D (n_out, m) class probabilities, and the cache.

    D is the number of layers. The cache holds every intermediate by name: A0 = X, Z1,
    A1, ..., Z_D, A_D (each (n_l, m)), log_A = log A_D (n_out, m) for the loss, and the
    per-layer caches ("linear1", ...) needed by :func:`backward`.
    """
    D = num_layers(params)
    cache = {"A0": X}
    A = X
    for l in range(1, D + 1):
        Z, cache[f"linear{l}"] = linear_forward(params[f"W{l}"], A, params[f"b{l}"])  # (n_l, m)
        cache[f"Z{l}"] = Z
        if l < D:
            A, _ = relu_forward(Z)  # (n_l, m)
            cache[f"A{l}"] = A
    cache["log_A"] = log_softmax(Z)  # (n_out, m), stable log-sum-exp (eq. 4)
    cache[f"A{D}"] = np.exp(cache["log_A"])  # softmax(Z_D), (n_out, m)
    return cache[f"A{D}"], cache


@shapes(params="layers", Y="n_out m")
def backward(params, cache, Y):
    """Backward pass: gradients of the mean cross-entropy for one-hot Y (n_out, m).

    Returns {"dW1": (n1, n0), "db1": (n1, 1), ...}, same shapes as the params.
    """
    D = num_layers(params)
    check_array("backward", "Y", Y, ["n_out", "m"], {"n_out": Y.shape[0], "m": cache["A0"].shape[1]})
    dZ = cross_entropy_backward(1.0, (cache[f"A{D}"], Y))  # dZ_D = (A_D - Y) / m (eq. 5'), (n_out, m)
    grads = {}
    for l in range(D, 0, -1):
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, cache[f"linear{l}"], need_dA_prev=l > 1)
        if l > 1:
            dZ = relu_backward(dA_prev, cache[f"Z{l - 1}"])  # dZ_{l-1} = dA_{l-1} * 1[Z_{l-1} > 0]
    return grads


@shapes(params="layers", X="n0 m", Y="n_out m")
def loss_and_grads(params, X, Y):
    """Mean cross-entropy loss and its gradients for X (n0, m), one-hot Y (n_out, m)."""
    _, cache = forward(params, X)
    return nll(cache["log_A"], Y), backward(params, cache, Y)


@shapes(params="layers", X="n0 m")
def predict(params, X):
    """Predicted class of every column of X (n0, m) -> (m,) int64."""
    A, _ = forward(params, X)
    return A.argmax(axis=0)


@shapes(params="layers", X="n0 m")
def accuracy(params, X, y):
    """Fraction of columns of X (n0, m) whose predicted class equals the label y (m,)."""
    y = np.asarray(y)
    if y.shape != (X.shape[1],):
        raise ShapeError(f"accuracy(): argument 'y' has shape {y.shape}, expected (m={X.shape[1]},)")
    return float((predict(params, X) == y).mean())


def confusion_matrix(y_true, y_pred, num_classes=10):
    """C (k, k) of counts from labels y_true (m,) and predictions y_pred (m,): C[i, j] = #(true i, predicted j)."""
    C = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return C


def save_params(path, params):
    """Save a parameter dict to an .npz file, atomically: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **params)
    os.replace(tmp, path)


def load_params(path):
    """Load a parameter dict saved by :func:`save_params`."""
    with np.load(path) as f:
        return {key: f[key] for key in f.files}
