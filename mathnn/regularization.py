"""Regularization: L2 weight decay and inverted dropout (lesson 10).

L2 weight decay adds (lambda / 2) times the squared norm of every weight matrix to the loss,

    L_reg = L + (lambda / 2) sum_l ||W_l||^2,        so    dW_l gains lambda W_l       (eq. 15)

(biases are not decayed). Inverted dropout keeps each hidden activation with probability p
(``keep``) at training time and scales the kept ones by 1/p, so that every activation keeps its
expected value; at evaluation nothing is dropped and nothing is scaled:

    A_drop = A * M,   M_ij = 1[u_ij < p] / p,  u_ij ~ U[0, 1);     dA = dA_drop * M   (eq. 16)

:func:`mathnn.train.fit` does both with ``weight_decay=lambda`` and ``keep=p``.
"""

import numbers

import numpy as np

from mathnn.validate import validate_rate, validate_rng

__all__ = ["l2_penalty", "l2_grads", "dropout_forward", "dropout_backward"]


def l2_penalty(params, weight_decay):
    """(weight_decay / 2) * the sum of the squares of every weight matrix W1 (n1, n0), W2, ...  (eq. 15).

    Biases are not decayed.
    """
    validate_rate(weight_decay, "weight_decay", "the weight decay lambda, e.g. 5e-4")
    return 0.5 * weight_decay * sum(float(np.sum(W.astype(np.float64) ** 2))
                                    for key, W in params.items() if key.startswith("W"))


def l2_grads(params, grads, weight_decay):
    """The gradients of L + l2_penalty(params, weight_decay): a new dict, grads unchanged  (eq. 15).

    params {"W1": (n1, n0), "b1": (n1, 1), ...}, grads {"dW1": (n1, n0), "db1": (n1, 1), ...}:
    every dW_l gains weight_decay * W_l; the bias gradients stay as they are.
    """
    validate_rate(weight_decay, "weight_decay", "the weight decay lambda, e.g. 5e-4")
    missing = [key for key in grads if key.startswith("dW") and key[1:] not in params]
    if missing:
        raise KeyError(f"l2_grads(): params has no {', '.join(k[1:] for k in missing)} for the gradient(s) "
                       f"{', '.join(missing)}: pass the params and grads of one network")
    return {key: g + weight_decay * params[key[1:]] if key.startswith("dW") else g for key, g in grads.items()}


def dropout_forward(A, keep, rng):
    """Inverted dropout on the activations A (n, m): returns (A_drop, M), both (n, m)  (eq. 16).

    Each entry is kept with probability keep (0 < keep <= 1), independently, and the kept ones
    are scaled by 1/keep: the mask M holds 1/keep (kept) or 0 (dropped), A_drop = A * M.
    rng: a ``np.random.Generator``. Use it at training time only; at evaluation use A itself.
    """
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real) or not 0 < keep <= 1:
        raise ValueError(f"dropout_forward(): keep is the probability of keeping a unit, in (0, 1], got {keep!r}")
    validate_rng(rng, "dropout_forward")
    M = (rng.random(A.shape) < keep) / np.asarray(keep, dtype=A.dtype)  # (n, m): 1/keep or 0
    return A * M, M


def dropout_backward(dA_drop, M):
    """The gradient with respect to A, from the one with respect to A_drop (n, m) and the mask M (n, m)  (eq. 16)."""
    return dA_drop * M
