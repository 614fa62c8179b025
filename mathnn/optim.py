"""Optimizers (update parameters in place) and learning-rate schedules.

An optimizer holds the parameter dict and, on ``step(grads)``, changes every
array in it *in place* (``p -= ...``), so whoever else holds ``params`` sees the
update. Gradients use the keys of the parameters with a ``d`` in front, and each
gradient has its parameter's shape (``grads["dW1"]`` is (10, 784) like ``params["W1"]``).
"""

import math

import numpy as np


class SGD:
    """Plain gradient descent: p <- p - lr * dp  (eq. 12)."""

    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, lr

    def step(self, grads):
        for key, p in self.params.items():
            p -= self.lr * grads["d" + key]


class Momentum(SGD):
    """Heavy-ball momentum: v <- beta v + dp;  p <- p - lr v  (eq. 13)."""

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, lr)
        self.beta = beta
        self.velocity = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        for key, p in self.params.items():
            v = self.velocity[key]
            v *= self.beta
            v += grads["d" + key]
            p -= self.lr * v


class Adam(SGD):
    """Adam: bias-corrected running means of dp and dp^2  (eq. 14)."""

    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps, self.t = beta1, beta2, eps, 0
        self.m = {key: np.zeros_like(p) for key, p in params.items()}
        self.v = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        self.t += 1
        step_size = self.lr * math.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        for key, p in self.params.items():
            g, m, v = grads["d" + key], self.m[key], self.v[key]
            m += (1 - self.beta1) * (g - m)  # m <- beta1 m + (1 - beta1) g
            v += (1 - self.beta2) * (g * g - v)  # v <- beta2 v + (1 - beta2) g^2
            p -= step_size * m / (np.sqrt(v) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, params, lr):
    """An optimizer by name: "sgd", "momentum" or "adam"."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {tuple(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr=lr)


def step_schedule(lr, drop=0.5, every=2):
    """lr(epoch) = lr * drop ** (epoch // every), epochs counted from 0."""
    return lambda epoch: lr * drop ** (epoch // every)


def cosine_schedule(lr, num_epochs):
    """lr(epoch) = lr * (1 + cos(pi * epoch / num_epochs)) / 2: from lr down towards 0."""
    return lambda epoch: lr * (1 + math.cos(math.pi * epoch / num_epochs)) / 2
