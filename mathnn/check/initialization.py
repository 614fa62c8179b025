"""Lesson 05: He and Glorot initialization, checked by the statistics of a large draw.

Your ``fn(n_in, n_out, rng)`` is called with n_in = 1000, n_out = 400: N = 400,000 weights. For
a correct scheme the sample std s of N normal draws has a relative standard error of
1/sqrt(2N) = 0.0011, so the tolerance |s / sigma - 1| < 2% is 18 standard errors: a correct
function fails by chance with probability below 1e-70, whatever the seed. The same holds for the
mean (|mean| < 0.02 s: 13 standard errors s/sqrt(N), whatever the std) and for the kurtosis that tells a
normal draw (3) from a uniform one (1.8): |kurtosis - 3| < 0.3, 39 standard errors of sqrt(24/N).
"""

import numpy as np

from mathnn import network
from mathnn.check.core import _Fail, checker

N_IN, N_OUT = 1000, 400
TOLERANCE = 0.02  # on s / sigma - 1 and on mean / sigma (see the module docstring)


def he_init_mathnn(n_in, n_out, rng):
    """mathnn's He init: W (n_out, n_in) from N(0, 2 / n_in), float64 (eq. 11), as ``mn.init_params``."""
    return network.init_params((n_in, n_out), "he", rng, dtype=np.float64)["W1"]


def glorot_init_mathnn(n_in, n_out, rng):
    """mathnn's Glorot init: W (n_out, n_in) from N(0, 2 / (n_in + n_out)), float64 (eq. 11)."""
    return network.init_params((n_in, n_out), "glorot", rng, dtype=np.float64)["W1"]


def _check_init(c, fn, name, variance, formula, mistakes):
    """The checks shared by he_init and glorot_init.

    variance(n_in, n_out): the right sigma^2. mistakes: (hint, the std that mistake gives) pairs.
    """
    W = c.array(c.call(fn, N_IN, N_OUT, np.random.default_rng(0)))
    c.require_shape(W, (N_OUT, N_IN), {
        (N_IN, N_OUT): f"for n_in = {N_IN}, n_out = {N_OUT} your W has shape (n_in, n_out) = {W.shape}; W maps "
                       f"n_in inputs to n_out units, so it is (n_out, n_in) = ({N_OUT}, {N_IN}): Z = W @ A_prev",
    }, what=f"for n_in = {N_IN}, n_out = {N_OUT} your W")
    small = c.array(c.call(fn, 3, 2, np.random.default_rng(0)))
    c.require_shape(small, (2, 3), what="for n_in = 3, n_out = 2 your W")

    sigma = np.sqrt(variance(N_IN, N_OUT))
    c.require(W.std() > 0, f"all your weights are {W.flat[0]:.3g}: each weight must be its own random draw from "
                           f"N(0, sigma^2), sigma = {sigma:.4g} for n_in = {N_IN}, n_out = {N_OUT} (eq. 11)"
                           + (" — did an integer division (2 // n_in) make sigma 0? Use /, not //"
                              if np.all(W == 0) else ""))

    same = c.array(c.call(fn, N_IN, N_OUT, np.random.default_rng(0)))
    c.require(np.array_equal(W, same), "two calls with equal seeds gave different weights: draw them with the rng "
                                       "argument (rng.standard_normal), not with np.random (global, unseeded)")
    other = c.array(c.call(fn, N_IN, N_OUT, np.random.default_rng(1)))
    c.require(not np.array_equal(W, other), "different seeds gave the same weights: draw them with the rng argument, "
                                            "not with a generator of your own (np.random.default_rng(0) inside)")

    s, mean = W.std(), W.mean()
    c.require(abs(mean) < TOLERANCE * s, f"your weights have mean {mean:.3g}, not 0: draw them from "
                                             f"N(0, sigma^2), sigma * rng.standard_normal(...) "
                                             f"(rng.random is uniform on [0, 1))")
    kurtosis = float(np.mean((W - mean) ** 4) / s**4)
    uniform = abs(kurtosis - 1.8) < 0.3
    if abs(s / sigma - 1) > TOLERANCE:
        for hint, wrong in mistakes:
            if abs(s / wrong - 1) < TOLERANCE:
                raise _Fail(f"the std of your weights is {s:.4g}; {name} wants sigma = «{formula} = »{sigma:.4g} "
                            f"for n_in = {N_IN}, n_out = {N_OUT}: {hint}")
        if uniform:
            raise _Fail(f"your weights are uniform (flat histogram) with std {s:.4g}, but {name} wants "
                        f"N(0, sigma^2) with sigma = «{formula} = »{sigma:.4g}: a uniform draw on [-a, a] has std "
                        f"a / sqrt(3). Draw from a normal distribution«: sigma * rng.standard_normal((n_out, n_in))»")
        raise _Fail(f"the std of your weights is {s:.4g}; {name} wants sigma = «{formula} = »{sigma:.4g} "
                    f"for n_in = {N_IN}, n_out = {N_OUT} (eq. 11)")
    c.passed += 1
    c.require(not uniform, "your weights have the right std but are uniform (flat histogram): eq. 11 draws from "
                           "a normal distribution, sigma * rng.standard_normal((n_out, n_in))")
    c.require(abs(kurtosis - 3) < 0.3, f"your weights have the right std, but their histogram is not a normal one "
                                       f"(kurtosis {kurtosis:.2f}, a normal has 3): use rng.standard_normal")


@checker(lesson=5, fallback=he_init_mathnn, signature="fn(n_in, n_out, rng)", mathnn=(network.init_params,))
def he_init(c, fn):
    """Check ``fn(n_in, n_out, rng) -> W`` (n_out, n_in), He init: each weight from N(0, 2 / n_in) (eq. 11).

    Draw with the rng argument (a ``np.random.Generator``), e.g.
    ``np.sqrt(2 / n_in) * rng.standard_normal((n_out, n_in))``.
    """
    _check_init(c, fn, "He", lambda n_in, n_out: 2 / n_in, "sqrt(2 / n_in)", [
        ("did you use n_out? He's variance is 2 / n_in, the number of inputs each unit sums", np.sqrt(2 / N_OUT)),
        ("that is LeCun's sigma, sqrt(1 / n_in): He doubles the variance for the ReLU, 2 / n_in", np.sqrt(1 / N_IN)),
        ("that is Glorot's sigma, for the two fans n_in + n_out; He's variance is 2 / n_in",
         np.sqrt(2 / (N_IN + N_OUT))),
        ("you used the variance 2 / n_in as the std: sigma is its square root (eq. 11)", 2 / N_IN),
        ("that is a uniform draw on [-sigma, sigma], whose std is sigma / sqrt(3): draw from a normal"
         "«, sigma * rng.standard_normal»", np.sqrt(2 / N_IN / 3)),
    ])


@checker(lesson=5, fallback=glorot_init_mathnn, signature="fn(n_in, n_out, rng)", mathnn=(network.init_params,))
def glorot_init(c, fn):
    """Check ``fn(n_in, n_out, rng) -> W`` (n_out, n_in), Glorot init: each weight from N(0, 2 / (n_in + n_out)).

    (eq. 11; torch.nn.init.xavier_normal_.) Draw with the rng argument, e.g.
    ``np.sqrt(2 / (n_in + n_out)) * rng.standard_normal((n_out, n_in))``.
    """
    _check_init(c, fn, "Glorot", lambda n_in, n_out: 2 / (n_in + n_out), "sqrt(2 / (n_in + n_out))", [
        ("that is He's sigma, for n_in alone; Glorot averages the two fans, 2 / (n_in + n_out)", np.sqrt(2 / N_IN)),
        ("that is LeCun's sigma, sqrt(1 / n_in); Glorot's variance is 2 / (n_in + n_out)", np.sqrt(1 / N_IN)),
        ("you used 1 / (n_in + n_out); Glorot's variance is 2 / (n_in + n_out)", np.sqrt(1 / (N_IN + N_OUT))),
        ("you used the variance 2 / (n_in + n_out) as the std: take its square root", 2 / (N_IN + N_OUT)),
        ("that is a uniform draw on [-sigma, sigma], whose std is sigma / sqrt(3): draw from a normal"
         "«, sigma * rng.standard_normal»", np.sqrt(2 / (N_IN + N_OUT) / 3)),
        ("2 / n_in + n_out is (2 / n_in) + n_out: division binds tighter than +, so put the sum in parentheses "
         "(eq. 11)", np.sqrt(2 / N_IN + N_OUT)),
    ])
