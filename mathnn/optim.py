"""Optimizers (update parameters in place) and learning-rate schedules.

An optimizer holds the parameter dict and, on ``step(grads)``, changes every
array in it *in place* (``p -= ...``), so whoever else holds ``params`` sees the
update. Gradients use the keys of the parameters with a ``d`` in front, and each
gradient has its parameter's shape (``grads["dW1"]`` is (10, 784) like ``params["W1"]``).
A negative, NaN or infinite ``lr``, or a ``beta`` outside [0, 1), raises ValueError.
"""

import math
import numbers

import numpy as np

__all__ = ["SGD", "Momentum", "Adam", "make_optimizer", "step_schedule", "cosine_schedule"]


def _number(name, value, ok, rule):
    """value as a float if ok(value), else a ValueError saying that ``name`` must be ``rule``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(float(value)):  # NaN fails ok
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def check_lr(value, name="lr", example="e.g. 0.1"):
    """value as a float if it is a finite number >= 0 (a learning rate, a weight decay), else ValueError."""
    return _number(name, value, lambda x: 0 <= x < math.inf, f"a finite number >= 0 ({example})")


def _beta(value, name="beta"):
    return _number(name, value, lambda x: 0 <= x < 1, "in [0, 1) (e.g. 0.9)")


class SGD:
    """Plain gradient descent: p <- p - lr * dp  (eq. 12)."""

    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, check_lr(lr)

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        for key, p in self.params.items():
            p -= self.lr * grads["d" + key]


class Momentum(SGD):
    """Heavy-ball momentum: v <- beta v + dp;  p <- p - lr v  (eq. 13)."""

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, lr)
        self.beta = _beta(beta)
        self.velocity = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        for key, p in self.params.items():
            v = self.velocity[key]
            v *= self.beta
            v += grads["d" + key]
            p -= self.lr * v


class Adam(SGD):
    """Adam (Kingma and Ba, Algorithm 1), as torch.optim.Adam computes it  (eq. 14).

    m <- beta1 m + (1 - beta1) dp,   v <- beta2 v + (1 - beta2) dp^2   (running means, from 0);
    m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)   (bias-corrected, t = 1, 2, ...);
    p <- p - lr * m_hat / (sqrt(v_hat) + eps).
    """

    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = _beta(beta1, "beta1"), _beta(beta2, "beta2")
        self.eps = _number("eps", eps, lambda x: 0 < x < math.inf, "a small positive number (e.g. 1e-8)")
        self.t = 0
        self.m = {key: np.zeros_like(p) for key, p in params.items()}
        self.v = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        self.t += 1
        correction1, correction2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for key, p in self.params.items():
            g, m, v = grads["d" + key], self.m[key], self.v[key]
            m += (1 - self.beta1) * (g - m)  # m <- beta1 m + (1 - beta1) g
            v *= self.beta2
            v += (1 - self.beta2) * g * g  # v <- beta2 v + (1 - beta2) g^2
            denominator = np.sqrt(v) / math.sqrt(correction2) + self.eps  # sqrt(v_hat) + eps
            p -= (self.lr / correction1) * (m / denominator)  # lr * m_hat / (sqrt(v_hat) + eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, params, lr):
    """An optimizer by name: "sgd", "momentum" or "adam"."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {tuple(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr=lr)


def step_schedule(lr, drop=0.5, every=2):
    """lr(epoch) = lr * drop ** (epoch // every), epochs counted from 0.

    lr >= 0 finite; drop in (0, 1]; every a positive int (epochs).
    """
    lr = check_lr(lr)
    drop = _number("drop", drop, lambda x: 0 < x <= 1, "in (0, 1] (e.g. 0.5: halve the learning rate)")
    if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every <= 0:
        raise ValueError(f"every must be a positive whole number of epochs, got {every!r}")
    return lambda epoch: lr * drop ** (epoch // every)


def cosine_schedule(lr, num_epochs):
    """lr(epoch) = lr * (1 + cos(pi * epoch / num_epochs)) / 2: from lr down towards 0.

    lr >= 0 finite; num_epochs a positive int, the length of the run.
    """
    lr = check_lr(lr)
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, numbers.Integral) or num_epochs <= 0:
        raise ValueError(f"num_epochs must be a positive whole number, got {num_epochs!r}")
    return lambda epoch: lr * (1 + math.cos(math.pi * epoch / num_epochs)) / 2
