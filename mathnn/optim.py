"""Optimizers (update parameters in place) and learning-rate schedules.

An optimizer holds the parameter dict and, on ``step(grads)``, changes every
array in it *in place* (``p -= ...``), so whoever else holds ``params`` sees the
update. Gradients use the keys of the parameters with a ``d`` in front, and each
gradient has its parameter's shape (``grads["dW1"]`` is (10, 784) like ``params["W1"]``).
A negative, NaN or infinite ``lr``, or a ``beta`` outside [0, 1), raises ValueError.
"""

import math

import numpy as np

from mathnn.validate import validate_number, validate_positive_int, validate_rate, validate_updatable

__all__ = ["SGD", "Momentum", "Adam", "make_optimizer", "step_schedule", "cosine_schedule"]

# The course's learning rate for SGD and momentum: the default of SGD and Momentum, hence of fit, train_mnist and
# the training panel (each optimizer owns its default, its ``default_lr``; Adam's is its own, 0.001).
COURSE_LR = 0.1


def _beta(value, name="beta"):
    return validate_number(name, value, lambda x: 0 <= x < 1, "in [0, 1) (e.g. 0.9)")


def _missing_grad(params, grads, who):
    """The KeyError for grads that lack the gradient of a parameter (called when a step raised KeyError)."""
    missing = [f"d{key}" for key in params if f"d{key}" not in grads]
    return KeyError(f"{who}.step(): grads has no {', '.join(missing)} (it has {', '.join(map(str, grads))}): every "
                    f"parameter KEY needs its gradient 'dKEY' of the same shape")


class SGD:
    """Plain gradient descent: p <- p - lr * dp  (eq. 12).

    lr: the learning rate; None: the optimizer's ``default_lr`` (COURSE_LR = 0.1 for SGD and Momentum).
    """

    default_lr = COURSE_LR

    def __init__(self, params, lr=None):
        validate_updatable(params, type(self).__name__ + "()")
        self.params, self.lr = params, validate_rate(self.default_lr if lr is None else lr)

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        try:
            for key, p in self.params.items():
                p -= self.lr * grads["d" + key]
        except KeyError:
            raise _missing_grad(self.params, grads, type(self).__name__) from None


class Momentum(SGD):
    """Heavy-ball momentum: v <- beta v + dp;  p <- p - lr v  (eq. 13)."""

    def __init__(self, params, lr=None, beta=0.9):
        super().__init__(params, lr)
        self.beta = _beta(beta)
        self.velocity = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        if any("d" + key not in grads for key in self.params):
            raise _missing_grad(self.params, grads, type(self).__name__)
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
    lr: None means Adam's own default, 0.001 (the paper's and torch.optim.Adam's).
    """

    default_lr = 0.001

    def __init__(self, params, lr=None, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = _beta(beta1, "beta1"), _beta(beta2, "beta2")
        self.eps = validate_number("eps", eps, lambda x: 0 < x < math.inf, "a small positive number (e.g. 1e-8)")
        self.t = 0
        self.m = {key: np.zeros_like(p) for key, p in params.items()}
        self.v = {key: np.zeros_like(p) for key, p in params.items()}

    def step(self, grads):
        """grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, each its parameter's shape; updates params in place."""
        if any("d" + key not in grads for key in self.params):
            raise _missing_grad(self.params, grads, type(self).__name__)
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


def make_optimizer(name, params, lr=None):
    """An optimizer by name: "sgd", "momentum" or "adam", on params, with lr (None: that optimizer's default_lr)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {tuple(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr=lr)


def _epoch(epoch, schedule):
    """The epoch if it is a finite number >= 0 (2.5: half-way through the third epoch), else ValueError."""
    return validate_number(f"{schedule}: epoch", epoch, lambda x: 0 <= x < math.inf,
                           "a number >= 0 (epochs count from 0)")


def step_schedule(lr, drop=0.5, every=2):
    """lr(epoch) = lr * drop ** (epoch // every), epochs counted from 0.

    lr >= 0 finite; drop in (0, 1]; every a positive int (epochs). It has no end: past any number of
    epochs it keeps dropping by ``drop`` every ``every`` epochs.
    """
    lr = validate_rate(lr)
    drop = validate_number("drop", drop, lambda x: 0 < x <= 1, "in (0, 1] (e.g. 0.5: halve the learning rate)")
    every = validate_positive_int("every", every, "step_schedule", "a number of epochs, e.g. 2")

    def schedule(epoch):
        return lr * drop ** (_epoch(epoch, "step_schedule") // every)
    return schedule


def cosine_schedule(lr, num_epochs):
    """lr(epoch) = lr * (1 + cos(pi * epoch / num_epochs)) / 2: from lr down towards 0.

    lr >= 0 finite; num_epochs a positive int, the length of the run: the schedule is defined for the
    epochs 0 <= epoch < num_epochs (fractions too) and refuses (ValueError) any epoch from num_epochs on,
    where it would reach 0 and climb back up. A run that trains longer needs cosine_schedule(lr, its
    number of epochs).
    """
    lr = validate_rate(lr)
    num_epochs = validate_positive_int("num_epochs", num_epochs, "cosine_schedule", "the length of the run, e.g. 10")

    def schedule(epoch):
        if _epoch(epoch, "cosine_schedule") >= num_epochs:  # at num_epochs: lr 0, an epoch that learns nothing
            raise ValueError(f"cosine_schedule: epoch {epoch} is past the end of this schedule of {num_epochs} "
                             f"epochs (0 .. {num_epochs - 1}), where it would climb back up; make the schedule "
                             f"for the whole run: cosine_schedule(lr, num_epochs=<the run's number of epochs>)")
        return lr * (1 + math.cos(math.pi * epoch / num_epochs)) / 2
    return schedule
