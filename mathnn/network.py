"""The network: ReLU hidden layers and a softmax output, 784-10-10 by default.

Parameters live in a dict ``{"W1": (n1, n0), "b1": (n1, 1), "W2": (n2, n1), "b2": (n2, 1), ...}``
with ``n0 = 784`` inputs. Gradients use the same keys with a ``d`` in front
(``dW1``, ``db1``, ...). For the 784-10-10 network, :func:`forward` computes

    Z1 = W1 @ X + b1,  A1 = relu(Z1),  Z2 = W2 @ A1 + b2,  A2 = softmax(Z2).
"""

import os
import secrets
import zipfile
from pathlib import Path

import numpy as np

from mathnn import layers
from mathnn.regularization import dropout_backward, dropout_forward
from mathnn.shapes import shapes
from mathnn.validate import (
    ShapeError,
    validate_array,
    validate_finite_columns,
    validate_float_dtype,
    validate_labels,
    validate_params,
    validate_positive_int,
    validate_rng,
    validate_sizes,
)

__all__ = ["INITS", "init_params", "forward", "backward", "loss", "loss_and_grads", "predict", "accuracy",
           "confusion_matrix", "num_layers", "save_params", "load_params"]

AGAIN = "Delete it and save the parameters again with mn.save_params(path, params)."  # load_params' advice
INITS = ("zeros", "normal", "small", "lecun", "glorot", "he")  # the init argument of init_params (eq. 11)


def init_params(sizes=(784, 10, 10), init="he", rng=None, dtype=np.float32):
    """Random weights W_l (n_l, n_{l-1}) and zero biases b_l (n_l, 1), for l = 1 .. D.

    sizes: (n0, n1, ..., n_D), e.g. (784, 10, 10): a network of depth D = len(sizes) - 1.
    init: "zeros" (all 0), "normal" (sigma = 1), "small" (sigma = 0.01),
    "lecun" (sigma^2 = 1/n_in), "glorot" (Glorot and Bengio's "Xavier" init, sigma^2 = 2/(n_in + n_out),
    as torch.nn.init.xavier_normal_), "he" (sigma^2 = 2/n_in)  (eq. 11); the choices are ``INITS``.
    rng: a ``np.random.Generator`` (pass ``np.random.default_rng(seed)``). dtype: of every array.
    """
    if init not in INITS:
        raise ValueError(f"init_params(): unknown init {init!r}; choose one of {INITS}")
    validate_rng(rng, "init_params")
    sizes = validate_sizes(sizes, "init_params")
    dtype = validate_float_dtype(dtype, "init_params")
    entries = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if entries * dtype.itemsize > 2**34:  # 16 GiB: a typo (an extra zero or two), not a network of this course
        gib = entries * dtype.itemsize / 2**30
        raise ValueError(f"init_params(): sizes={sizes} asks for {entries:,} weights ({gib:,.0f} GiB, more than "
                         f"16 GiB): check the layer sizes")
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        sigma = {"zeros": 0.0, "normal": 1.0, "small": 0.01,
                 "lecun": np.sqrt(1 / n_in), "glorot": np.sqrt(2 / (n_in + n_out)), "he": np.sqrt(2 / n_in)}[init]
        params[f"W{l}"] = (sigma * rng.standard_normal((n_out, n_in))).astype(dtype)
        params[f"b{l}"] = np.zeros((n_out, 1), dtype=dtype)
    return params


def num_layers(params):
    """The depth D of a network: the number of (linear) layers in its parameter dict (2 for 784-10-10)."""
    return sum(1 for key in params if key.startswith("W"))


@shapes(params="layers", X="n0 m")
def forward(params, X, keep=1.0, rng=None):
    """Forward pass. X (n0, m) -> A_D = softmax(Z_D) (n_out, m) class probabilities, and the cache.

    D is the depth. The cache holds every intermediate by name: A0 = X, Z1, A1, ..., Z_D,
    A_D (each (n_l, m)), and the per-layer caches ("linear1", ...) needed by :func:`backward`.
    keep: the probability of keeping a hidden unit; with keep < 1 (training with inverted dropout, eq. 16)
    every hidden A_l becomes A_l * M_l, the mask M_l (n_l, m) drawn from rng (a ``np.random.Generator``) by
    :func:`mathnn.regularization.dropout_forward`, layer by layer; the cache then holds the masks as "M1", ...,
    "M_{D-1}" and A_l after dropout. keep = 1 (the default): no dropout, rng unused.
    """
    D = num_layers(params)
    cache = {"A0": X}
    A = X
    for l in range(1, D + 1):
        Z, cache[f"linear{l}"] = layers.linear_forward(params[f"W{l}"], A, params[f"b{l}"])  # (n_l, m)
        cache[f"Z{l}"] = Z
        if l < D:
            A, _ = layers.relu_forward(Z)  # (n_l, m)
            if keep != 1:
                A, cache[f"M{l}"] = dropout_forward(A, keep, rng)  # A_l * M_l, M_l (n_l, m)   (eq. 16)
            cache[f"A{l}"] = A
    cache[f"A{D}"] = layers.softmax(Z)  # (n_out, m)   (eq. 3)
    return cache[f"A{D}"], cache


@shapes(params="layers", Y="n_out m")
def backward(params, cache, Y):
    """Backward pass: gradients of the mean cross-entropy for one-hot Y (n_out, m).

    cache: from :func:`forward` (with dropout, its masks M_l (n_l, m) carry the gradient back to A_l, eq. 16).
    Returns {"dW1": (n1, n0), "db1": (n1, 1), ...}, same shapes as the params.
    """
    D = num_layers(params)
    validate_array("backward", "Y", Y, ["n_out", "m"], {"n_out": Y.shape[0], "m": cache["A0"].shape[1]})
    dZ = layers.cross_entropy_backward(1.0, (cache[f"A{D}"], Y))  # dZ_D = (A_D - Y) / m (eq. 5'), (n_out, m)
    grads = {}
    for l in range(D, 0, -1):
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = layers.linear_backward(dZ, cache[f"linear{l}"],
                                                                           need_dA_prev=l > 1)
        if l > 1:
            if f"M{l - 1}" in cache:  # dropout on A_{l-1}: dA = dA_drop * M_{l-1}  (eq. 16)
                dA_prev = dropout_backward(dA_prev, cache[f"M{l - 1}"])
            dZ = layers.relu_backward(dA_prev, cache[f"Z{l - 1}"])  # dZ_{l-1} = dA_{l-1} * 1[Z_{l-1} > 0]
    return grads


@shapes(params="layers", X="n0 m", Y="n_out m")
def loss(params, X, Y, reduction="mean"):
    """The loss L of the network on inputs X (n0, m) with one-hot targets Y (n_out, m)  (eq. 5).

    The cross-entropy of the last logits Z_D: reduction "mean" -> L, a float; "none" -> the
    loss of every example, an (m,) array (:func:`mathnn.layers.cross_entropy`).
    """
    _, cache = forward(params, X)
    return layers.cross_entropy(cache[f"Z{num_layers(params)}"], Y, reduction)


@shapes(params="layers", X="n0 m", Y="n_out m")
def loss_and_grads(params, X, Y):
    """The mean loss L (a float, as :func:`loss`) and its gradients (as :func:`backward`) in one forward pass.

    X (n0, m), one-hot Y (n_out, m) -> (L, {"dW1": (n1, n0), "db1": (n1, 1), ...}).
    """
    _, cache = forward(params, X)
    return layers.cross_entropy(cache[f"Z{num_layers(params)}"], Y), backward(params, cache, Y)


@shapes(params="layers", X="n0 m")
def predict(params, X):
    """Predicted class of every column of X (n0, m) -> (m,) int64. X must be finite (ValueError otherwise)."""
    validate_finite_columns("predict", X)
    A, _ = forward(params, X)
    return A.argmax(axis=0)


@shapes(params="layers", X="n0 m")
def accuracy(params, X, y):
    """Fraction of columns of X (n0, m) whose predicted class (:func:`predict`) equals the label y (m,).

    X must be finite. Returns a float in [0, 1].
    """
    y = np.asarray(y)
    if y.shape != (X.shape[1],):
        raise ShapeError(f"accuracy(): argument 'y' has shape {y.shape}, expected (m={X.shape[1]},)")
    validate_labels(y, params[f"W{num_layers(params)}"].shape[0], "accuracy")
    validate_finite_columns("accuracy", X)
    return float((predict(params, X) == y).mean())


def confusion_matrix(y_true, y_pred, num_classes=10):
    """C (k, k) of counts from labels y_true (m,) and predictions y_pred (m,): C[i, j] = #(true i, predicted j).

    Both must be integer class indices in 0 .. k-1 (k = num_classes), one prediction per label.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    validate_positive_int("num_classes", num_classes, "confusion_matrix", "e.g. 10")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.ndim != 1:
            raise ValueError(f"confusion_matrix(): {name} should be a 1-D array of integer class indices, "
                             f"got shape {y.shape}")
        validate_labels(y, num_classes, "confusion_matrix", name)
    if len(y_true) != len(y_pred):
        raise ValueError(f"confusion_matrix(): y_true has {len(y_true)} labels but y_pred has {len(y_pred)} "
                         f"predictions; pass one prediction per label")
    C = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def save_params(path, params):
    """Save a parameter dict {"W1": (n1, n0), "b1": (n1, 1), ...} to an .npz file, atomically.

    A reader never sees half a file. Refuses (ValueError, nothing written) a dict that
    :func:`load_params` would refuse: wrong keys or shapes, non-float or NaN/inf entries.
    """
    try:
        validate_params(params, finite=True)
    except ShapeError as e:
        raise ShapeError(f"save_params(): not saved, because {e}. Save the parameters of a network that trained "
                         f"well (retrain, with a smaller lr if the training diverged).") from None
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save_params(): not saved: the folder {path.parent} does not exist; create it "
                                f"(mkdir -p {path.parent}) or save into an existing folder")
    if path.is_dir():
        raise IsADirectoryError(f"save_params(): not saved: {path} is a folder; give a file name, e.g. "
                                f"{path / '784-10-10.npz'}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **params)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename, so a crash leaves the old file or the new one
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise type(e)(e.errno, f"save_params(): not saved to {path} ({e.strerror or e}); the file there, if any, "
                               f"is as it was") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_params(path, sizes=None):
    """Load a parameter dict {"W1": (n1, n0), "b1": (n1, 1), ...} saved by :func:`save_params`.

    sizes: the expected layer sizes, e.g. (784, 10, 10); None accepts any chain of layers.
    Raises ValueError "PATH is not a parameter file saved by mn.save_params: ..." when the file
    is not an .npz archive, or its arrays are not W1, b1, ..., not float, of other shapes than
    expected, or not finite. A missing or unreadable file raises OSError (FileNotFoundError, ...),
    as open() does.
    """
    what = f"{path} is not a parameter file saved by mn.save_params"
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile):  # e.g. random bytes, an empty or a truncated file
        raise ValueError(f"{what}: it is not an .npz archive of arrays. {AGAIN}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{what}: it holds a single array, not the arrays W1, b1, W2, b2, .... {AGAIN}")
    with archive:
        try:
            params = {key: archive[key] for key in archive.files}
        except (ValueError, EOFError, zipfile.BadZipFile):
            raise ValueError(f"{what}: an array in it is damaged. {AGAIN}") from None
    try:
        validate_params(params, name=None, sizes=sizes, finite=True)
    except ShapeError as e:
        network = f" for a {'-'.join(map(str, sizes))} network" if sizes is not None else ""
        raise ValueError(f"{what}{network}: {e}. {AGAIN}") from None
    return {f"{kind}{l}": params[f"{kind}{l}"] for l in range(1, num_layers(params) + 1) for kind in "Wb"}
