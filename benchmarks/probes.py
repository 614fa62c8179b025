# ruff: noqa: E501  (tables of probes, one per line)
"""Bad inputs and faults across mathnn's API, fit, the CLI, the widgets, the data pipeline and the site build
(issue 21), each classified automatically:

    clear           an error before any work, of a telling type, whose message names the argument
    correct         a valid (if odd) input gave the right result
    unclear         an error that does not name its cause (a bare NumPy/Python error), or a noisy end
    silently wrong  a result where an error was due, or a wrong result
    hang            no answer (or no output) within the probe's time limit
    lost            a file the user had was damaged or removed

    MATHNN_DATA=/work/shared/mnist python benchmarks/probes.py [--only AREA] [--list] [--json FILE]

Runs against whichever mathnn is importable (PYTHONPATH=/path/to/other/checkout to probe another one);
prints one line per probe that is not clear or correct, and the counts per class.
"""

import argparse
import atexit
import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")
CLASSES = ("clear", "correct", "unclear", "silently wrong", "hang", "lost")
# Errors that never name their cause, whatever their message
BARE = ("ZeroDivisionError", "AttributeError", "IndexError", "NameError", "UnboundLocalError", "RecursionError",
        "UFuncTypeError", "_UFuncOutputCastingError", "_UFuncNoLoopError", "AxisError", "OverflowError")
TIME_LIMIT = 60  # seconds one in-process probe may take


class Hang(Exception):
    pass


class Probe:
    """A thunk and what it should do: raise an error whose message holds every word of `words` (want="error"),
    or return a value that ok(value) accepts (want="ok"). lost(): True when a user's file was damaged."""

    def __init__(self, area, name, thunk, words=(), ok=None, lost=None, limit=TIME_LIMIT):
        self.area, self.name, self.thunk, self.words, self.ok, self.lost = area, name, thunk, words, ok, lost
        self.limit = limit


PROBES = []


def error(area, name, thunk, *words, **kw):
    PROBES.append(Probe(area, name, thunk, words=words, **kw))


def correct(area, name, thunk, ok, **kw):
    PROBES.append(Probe(area, name, thunk, ok=ok, **kw))


def _alarm(signum, frame):
    raise Hang()


def classify(probe):
    """(class, detail) of one probe."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(probe.limit)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            value = probe.thunk()
    except Hang:
        return "hang", f"no answer in {probe.limit} s"
    except BaseException as e:  # noqa: BLE001 - every outcome is classified
        signal.alarm(0)
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = f"{type(e).__name__}: {e}"
        if probe.lost and probe.lost():
            return "lost", detail
        if isinstance(e, CLIResult):
            return e.verdict, e.detail
        if probe.ok is not None:
            return "unclear", "refused a valid input: " + detail
        if type(e).__name__ in BARE or (isinstance(e, KeyError) and len(str(e)) < 40):
            return "unclear", detail
        if all(word.lower() in str(e).lower() for word in probe.words):
            return "clear", detail
        return "unclear", detail
    finally:
        signal.alarm(0)
    if probe.lost and probe.lost():
        return "lost", "a file was damaged"
    if probe.ok is not None:
        try:
            good = probe.ok(value)
        except Exception as e:  # noqa: BLE001
            good, value = False, f"{value!r:.80} ({type(e).__name__} checking it)"
        return ("correct", "") if good else ("silently wrong", f"returned {value!r:.120}")
    return "silently wrong", f"returned {value!r:.120} instead of an error"


# --- shared fixtures ---------------------------------------------------------------------------------------

import mathnn as mn  # noqa: E402

RNG = np.random.default_rng


def params(sizes=(784, 10, 10), seed=0, dtype=np.float32):
    return mn.init_params(sizes, "he", RNG(seed), dtype=dtype)


def small(m=64, seed=0):
    """X (784, m) float32 in [0, 1], y (m,) labels."""
    rng = RNG(seed)
    return rng.random((784, m), dtype=np.float32), rng.integers(0, 10, m)


X, y = small()
Xv, yv = small(32, 1)


def fit(**kw):
    args = dict(params=params(), X=X, y=y, rng=RNG(0), num_epochs=1, batch_size=16)
    args.update(kw)
    p, Xa, ya = args.pop("params"), args.pop("X"), args.pop("y")
    return mn.fit(p, Xa, ya, **args)


def readonly(p):
    for v in p.values():
        v.flags.writeable = False
    return p


def fresh_history():
    return fit()


# --- network -----------------------------------------------------------------------------------------------

A = "network"
for sizes in [(784, 0, 10), (784, -10, 10), (784, 10.5, 10), "784,10,10", (784,), (), None, 784, (784, "10", 10),
              (784, True, 10), (784, 10, 0), (784, float("nan"), 10), (0, 10), [784, None, 10], (784, 10 ** 12, 10)]:
    error(A, f"init_params(sizes={sizes!r})", lambda s=sizes: mn.init_params(s, "he", RNG(0)), "sizes")
for rng in [42, None, "0", np.random.RandomState(0), np.random, 1.5]:
    error(A, f"init_params(rng={rng!r:.30})", lambda r=rng: mn.init_params((784, 10, 10), "he", r), "rng")
for dtype in [np.int32, bool, np.uint8, "int64", object, "banana", np.complex64]:
    error(A, f"init_params(dtype={dtype!r})", lambda d=dtype: mn.init_params((784, 10, 10), "he", RNG(0), d), "dtype")
for init in ["xavier", "He", "", None, 3]:
    error(A, f"init_params(init={init!r})", lambda i=init: mn.init_params((784, 10, 10), i, RNG(0)), "init")
correct(A, "init_params(sizes=[784, 10, 10]) (a list)", lambda: mn.init_params([784, 10, 10], "he", RNG(0)),
        lambda p: p["W1"].shape == (10, 784) and p["b2"].shape == (10, 1))
correct(A, "init_params(sizes of np.int64)", lambda: mn.init_params(tuple(np.array([784, 32, 10])), "he", RNG(0)),
        lambda p: p["W2"].shape == (10, 32))
correct(A, "init_params(dtype=np.float64)", lambda: mn.init_params((784, 10, 10), "he", RNG(0), np.float64),
        lambda p: p["W1"].dtype == np.float64 and np.abs(p["W1"]).max() > 0)
correct(A, "init_params(init='zeros')", lambda: mn.init_params((784, 10, 10), "zeros", RNG(0)),
        lambda p: not p["W1"].any())

for label, yy in [("strings", y.astype(str)), ("a label 10", np.where(np.arange(64) == 3, 10, y)),
                  ("a label -1", np.where(np.arange(64) == 3, -1, y)), ("floats 2.5", y + 0.5),
                  ("booleans", y > 4), ("NaN", np.full(64, np.nan)), ("objects", np.array([None] * 64))]:
    error(A, f"accuracy(y={label})", lambda yy=yy: mn.accuracy(params(), X, yy), "y", "label")
error(A, "accuracy(y of another length)", lambda: mn.accuracy(params(), X, y[:10]), "y", "shape")
error(A, "accuracy(y 2-D)", lambda: mn.accuracy(params(), X, y[None, :]), "y", "shape")
correct(A, "accuracy(y a list)", lambda: mn.accuracy(params(), X, list(y)), lambda a: 0 <= a <= 1)
correct(A, "accuracy(y uint8)", lambda: mn.accuracy(params(), X, y.astype(np.uint8)), lambda a: 0 <= a <= 1)
for label, XX in [("X.T", X.T), ("X 1-D", X[:, 0]), ("a list", X.tolist()), ("strings", X.astype(str)),
                  ("(783, m)", X[:-1]), ("NaN", np.where(X > 0.99, np.nan, X))]:
    error(A, f"predict(X={label})", lambda XX=XX: mn.predict(params(), XX), "X")
    if label == "NaN":  # forward is the bare math: NaN in, NaN out (visible); predict and accuracy refuse it
        correct(A, "forward(X=NaN) gives NaN in those columns", lambda XX=XX: mn.forward(params(), XX)[0],
                lambda A_, XX=XX: np.isnan(A_).any(axis=0).tolist() == np.isnan(XX).any(axis=0).tolist())
    else:
        error(A, f"forward(X={label})", lambda XX=XX: mn.forward(params(), XX), "X")
for label, p in [("extra key 'lr'", {**params(), "lr": 0.1}), ("no b2", {k: v for k, v in params().items() if k != "b2"}),
                 ("W1 transposed", {**params(), "W1": params()["W1"].T}), ("b1 1-D", {**params(), "b1": np.zeros(10)}),
                 ("a list", list(params().values())), ("int arrays", {k: v.astype(int) for k, v in params().items()}),
                 ("W2 string", {**params(), "W2": "W2"})]:
    error(A, f"forward(params={label})", lambda p=p: mn.forward(p, X), "params")
error(A, "loss(Y = labels y, not one-hot)", lambda: mn.loss(params(), X, y), "Y")
error(A, "loss(Y transposed)", lambda: mn.loss(params(), X, mn.one_hot(y).T), "Y")
error(A, "loss(reduction='sum')", lambda: mn.loss(params(), X, mn.one_hot(y), "sum"), "reduction")
error(A, "backward(Y of other m)", lambda: mn.backward(params(), mn.forward(params(), X)[1], mn.one_hot(y[:5])), "Y")
for label, (a, b) in [("y_true strings", (y.astype(str), y)), ("y_pred 10", (y, y + 10)), ("lengths", (y, y[:3])),
                      ("floats", (y * 1.0, y)), ("2-D", (y[None], y))]:
    error(A, f"confusion_matrix({label})", lambda a=a, b=b: mn.confusion_matrix(a, b), "y_")
error(A, "confusion_matrix(num_classes=0)", lambda: mn.confusion_matrix(y, y, num_classes=0), "num_classes")
correct(A, "confusion_matrix(lists)", lambda: mn.confusion_matrix([0, 1, 1], [0, 1, 0]),
        lambda C: C[1, 0] == 1 and C.sum() == 3)

# save_params / load_params (and nothing lost)
TMP = Path(tempfile.mkdtemp(prefix="mathnn-probes-"))  # the probes' files, removed at exit
atexit.register(shutil.rmtree, TMP, True)
KEPT = TMP / "kept.npz"


def save_kept():
    mn.save_params(KEPT, params())
    return KEPT.read_bytes()


KEPT_BYTES = save_kept()


def kept_lost():
    return not KEPT.exists() or KEPT.read_bytes() != KEPT_BYTES


error(A, "save_params(into a missing folder)", lambda: mn.save_params(TMP / "no" / "such" / "p.npz", params()),
      "no/such", "folder")
error(A, "save_params(path is a folder)", lambda: mn.save_params(TMP, params()), str(TMP))
for label, p in [("NaN", {**params(), "W1": np.full((10, 784), np.nan, np.float32)}),
                 ("extra key", {**params(), "lr": np.float32(0.1)}), ("int arrays", {k: v.astype(int) for k, v in params().items()}),
                 ("W1 transposed", {**params(), "W1": params()["W1"].T}), ("not a dict", [1, 2])]:
    error(A, f"save_params over a good file, params with {label}", lambda p=p: mn.save_params(KEPT, p), "not saved",
          lost=kept_lost)
(TMP / "text.npz").write_text("hello")
error(A, "load_params(a text file)", lambda: mn.load_params(TMP / "text.npz"), "not a parameter file")
error(A, "load_params(a missing file)", lambda: mn.load_params(TMP / "missing.npz"), "missing.npz")
error(A, "load_params(sizes of another network)", lambda: mn.load_params(KEPT, sizes=(784, 32, 10)), "784-32-10")
correct(A, "save_params then load_params round trip", lambda: (mn.save_params(TMP / "r.npz", params()),
                                                               mn.load_params(TMP / "r.npz"))[1],
        lambda p: np.array_equal(p["W1"], params()["W1"]))

# --- fit -----------------------------------------------------------------------------------------------------

A = "fit"
for label, kw, words in [
    ("lr_schedule=0.1", dict(lr_schedule=0.1), ["lr_schedule"]),
    ("lr_schedule='cosine'", dict(lr_schedule="cosine"), ["lr_schedule"]),
    ("lr_schedule=lambda: 0.1", dict(lr_schedule=lambda: 0.1), ["lr_schedule"]),
    ("lr_schedule returns NaN", dict(lr_schedule=lambda e: float("nan")), ["lr_schedule"]),
    ("lr_schedule returns -1", dict(lr_schedule=lambda e: -1.0), ["lr_schedule"]),
    ("lr_schedule returns a str", dict(lr_schedule=lambda e: "0.1"), ["lr_schedule"]),
    ("lr_schedule returns None", dict(lr_schedule=lambda e: None), ["lr_schedule"]),
    ("callback=1", dict(callback=1), ["callback"]),
    ("callback=lambda: None", dict(callback=lambda: None), ["callback"]),
    ("callback='print'", dict(callback="print"), ["callback"]),
    ("callback=lambda a, b: None", dict(callback=lambda a, b: None), ["callback"]),
    ("rng=42", dict(rng=42), ["rng"]), ("rng=None", dict(rng=None), ["rng"]),
    ("rng=RandomState", dict(rng=np.random.RandomState(0)), ["rng"]),
    ("num_epochs=0", dict(num_epochs=0), ["num_epochs"]), ("num_epochs=2.5", dict(num_epochs=2.5), ["num_epochs"]),
    ("num_epochs='3'", dict(num_epochs="3"), ["num_epochs"]), ("num_epochs=-1", dict(num_epochs=-1), ["num_epochs"]),
    ("batch_size=0", dict(batch_size=0), ["batch_size"]), ("batch_size=16.0", dict(batch_size=16.0), ["batch_size"]),
    ("batch_size=True", dict(batch_size=True), ["batch_size"]), ("batch_size=None", dict(batch_size=None), ["batch_size"]),
    ("lr=-0.1", dict(lr=-0.1), ["lr"]), ("lr=nan", dict(lr=float("nan")), ["lr"]), ("lr='0.1'", dict(lr="0.1"), ["lr"]),
    ("lr=inf", dict(lr=float("inf")), ["lr"]),
    ("weight_decay=-1", dict(weight_decay=-1.0), ["weight_decay"]), ("weight_decay='a'", dict(weight_decay="a"), ["weight_decay"]),
    ("keep=0", dict(keep=0.0), ["keep"]), ("keep=1.5", dict(keep=1.5), ["keep"]), ("keep=True", dict(keep=True), ["keep"]),
    ("keep=nan", dict(keep=float("nan")), ["keep"]),
    ("optimizer='rmsprop'", dict(optimizer="rmsprop"), ["optimizer"]),
    ("optimizer=None", dict(optimizer=None), ["optimizer"]),
    ("X_val without y_val", dict(X_val=Xv), ["X_val", "y_val"]),
    ("y_val with a label 10", dict(X_val=Xv, y_val=yv + 10), ["label"]),
    ("X_val.T", dict(X_val=Xv.T, y_val=yv), ["X_val"]),
    ("params read-only", dict(params=readonly(params())), ["read-only", "params"]),
    ("params with an extra key", dict(params={**params(), "lr": 0.1}), ["params", "lr"]),
    ("params missing b2", dict(params={k: v for k, v in params().items() if k != "b2"}), ["params", "b2"]),
    ("params of ints", dict(params={k: v.astype(int) for k, v in params().items()}), ["params", "int"]),
    ("params a list", dict(params=list(params().values())), ["params"]),
    ("params for 100 inputs", dict(params=params((100, 10, 10))), ["X", "params['W1']"]),
    ("X with NaN", dict(X=np.where(X > 0.99, np.nan, X)), ["X", "NaN"]),
    ("X empty", dict(X=X[:, :0], y=y[:0]), ["X"]),
    ("X.T", dict(X=X.T), ["X"]),
    ("y with a label 10", dict(y=np.where(np.arange(64) == 0, 10, y)), ["label"]),
    ("y floats", dict(y=y + 0.5), ["labels"]),
    ("y strings", dict(y=y.astype(str)), ["y", "dtype", "astype"]),
    ("y of another length", dict(y=y[:10]), ["y"]),
]:
    error(A, f"fit({label})", lambda kw=kw: fit(**kw), *words)
error(A, "fit(lr=0.5, lr_schedule=cosine_schedule(0.1, 1))",
      lambda: fit(lr=0.5, lr_schedule=mn.cosine_schedule(0.1, 1)), "lr", "lr_schedule")
error(A, "fit(lr_schedule=cosine_schedule(0.1, 2), num_epochs=4)",
      lambda: fit(lr_schedule=mn.cosine_schedule(0.1, 2), num_epochs=4), "epoch")
error(A, "fit(optimizer=Adam object, lr=0.1)", lambda: (lambda p: fit(params=p, optimizer=mn.Adam(p), lr=0.1))(params()),
      "lr")
error(A, "fit(optimizer object of other params)", lambda: fit(optimizer=mn.SGD(params())), "optimizer")
correct(A, "fit(lr_schedule=cosine_schedule(0.1, 4), num_epochs=4)",
        lambda: fit(lr_schedule=mn.cosine_schedule(0.1, 4), num_epochs=4).lr,
        lambda lrs: np.allclose(lrs, [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]))
correct(A, "fit(lr=0.1, lr_schedule starting at 0.1)", lambda: fit(lr=0.1, lr_schedule=mn.step_schedule(0.1)).lr,
        lambda lrs: lrs == [0.1])
correct(A, "fit(batch_size larger than m)", lambda: fit(batch_size=1000).epoch, lambda e: e == [1])
correct(A, "fit(y as uint8)", lambda: fit(y=y.astype(np.uint8)).epoch, lambda e: e == [1])
correct(A, "fit(batch_size=np.int64(16))", lambda: fit(batch_size=np.int64(16)).epoch, lambda e: e == [1])
correct(A, "fit(keep<1, float64 X, float32 params): dropout in any dtype, params stay float32",
        lambda: (lambda p: (fit(params=p, X=X.astype(np.float64), keep=0.5).epoch, p["W1"].dtype))(params()),
        lambda r: r == ([1], np.float32))
correct(A, "fit(m=1)", lambda: fit(X=X[:, :1], y=y[:1]).epoch, lambda e: e == [1])
correct(A, "fit(lr=1e30) diverges and says so", lambda: fit(lr=1e30).diverged, lambda d: "diverged" in d)
correct(A, "fit(callback=print-like with *args)", lambda: fit(callback=lambda *a: None).epoch, lambda e: e == [1])

# --- train_mnist ---------------------------------------------------------------------------------------------

A = "train_mnist"
for label, kw, words in [
    ("train_size=-100", dict(train_size=-100), ["train_size"]), ("train_size=0", dict(train_size=0), ["train_size"]),
    ("train_size=1.5", dict(train_size=1.5), ["train_size"]), ("train_size='100'", dict(train_size="100"), ["train_size"]),
    ("train_size=10**6", dict(train_size=10 ** 6), ["train_size"]),
    ("seed=1.5", dict(seed=1.5), ["seed"]), ("seed=-1", dict(seed=-1), ["seed"]), ("seed='0'", dict(seed="0"), ["seed"]),
    ("seed=None", dict(seed=None), ["seed"]),
    ("sizes=(784,)", dict(sizes=(784,)), ["sizes"]), ("sizes=(100, 10, 10)", dict(sizes=(100, 10, 10)), ["sizes", "784"]),
    ("sizes=(784, 10, 5)", dict(sizes=(784, 10, 5)), ["sizes", "10"]), ("sizes='784,10,10'", dict(sizes="784,10,10"), ["sizes"]),
    ("sizes=(784, 0, 10)", dict(sizes=(784, 0, 10)), ["sizes"]),
    ("lr=-1", dict(lr=-1), ["lr"]), ("lr='0.1'", dict(lr="0.1"), ["lr"]),
    ("init='xavier'", dict(init="xavier"), ["init"]), ("optimizer='rmsprop'", dict(optimizer="rmsprop"), ["optimizer"]),
    ("num_epochs=0", dict(num_epochs=0), ["num_epochs"]), ("batch_size=0", dict(batch_size=0), ["batch_size"]),
    ("lr=0.5 with lr_schedule from 0.1", dict(lr=0.5, lr_schedule=mn.cosine_schedule(0.1, 1)), ["lr", "lr_schedule"]),
    ("lr_schedule shorter than the run", dict(lr_schedule=mn.cosine_schedule(0.1, 1), num_epochs=2), ["epoch"]),
    ("callback=1", dict(callback=1), ["callback"]), ("keep=2", dict(keep=2), ["keep"]),
]:
    error(A, f"train_mnist({label})", lambda kw=kw: mn.train_mnist(**{"num_epochs": 1, "train_size": 500, **kw}), *words)
correct(A, "train_mnist(train_size=500, num_epochs=1)", lambda: mn.train_mnist(train_size=500, num_epochs=1)[1].epoch,
        lambda e: e == [1])
correct(A, "train_mnist(lr_schedule=..., no lr)",
        lambda: mn.train_mnist(train_size=500, num_epochs=2, lr_schedule=mn.cosine_schedule(0.2, 2))[1].lr,
        lambda lrs: np.allclose(lrs, [0.2, 0.1]))

# --- optimizers and schedules ---------------------------------------------------------------------------------

A = "optim"
for e in range(5, 10):
    error(A, f"cosine_schedule(0.1, 5)({e})", lambda e=e: mn.cosine_schedule(0.1, 5)(e), "epoch")
for label, thunk, words in [
    ("cosine_schedule(0.1, 5)(-1)", lambda: mn.cosine_schedule(0.1, 5)(-1), ["epoch"]),
    ("cosine_schedule(0.1, 5)('1')", lambda: mn.cosine_schedule(0.1, 5)("1"), ["epoch"]),
    ("cosine_schedule(0.1, 0)", lambda: mn.cosine_schedule(0.1, 0), ["num_epochs"]),
    ("cosine_schedule(0.1, 2.5)", lambda: mn.cosine_schedule(0.1, 2.5), ["num_epochs"]),
    ("cosine_schedule(0.1, True)", lambda: mn.cosine_schedule(0.1, True), ["num_epochs"]),
    ("cosine_schedule(-0.1, 5)", lambda: mn.cosine_schedule(-0.1, 5), ["lr"]),
    ("cosine_schedule('0.1', 5)", lambda: mn.cosine_schedule("0.1", 5), ["lr"]),
    ("step_schedule(0.1, drop=0)", lambda: mn.step_schedule(0.1, drop=0), ["drop"]),
    ("step_schedule(0.1, drop=2)", lambda: mn.step_schedule(0.1, drop=2), ["drop"]),
    ("step_schedule(0.1, every=0)", lambda: mn.step_schedule(0.1, every=0), ["every"]),
    ("step_schedule(0.1, every=1.5)", lambda: mn.step_schedule(0.1, every=1.5), ["every"]),
    ("step_schedule(0.1)(-1)", lambda: mn.step_schedule(0.1)(-1), ["epoch"]),
    ("step_schedule(0.1)(None)", lambda: mn.step_schedule(0.1)(None), ["epoch"]),
    ("SGD(params, lr=-1)", lambda: mn.SGD(params(), lr=-1), ["lr"]),
    ("SGD(params, lr=nan)", lambda: mn.SGD(params(), lr=float("nan")), ["lr"]),
    ("SGD(params, lr=True)", lambda: mn.SGD(params(), lr=True), ["lr"]),
    ("SGD(None)", lambda: mn.SGD(None), ["params"]),
    ("SGD(a list)", lambda: mn.SGD(list(params().values())), ["params"]),
    ("SGD(read-only params)", lambda: mn.SGD(readonly(params())), ["read-only"]),
    ("SGD(int params)", lambda: mn.SGD({k: v.astype(int) for k, v in params().items()}), ["params"]),
    ("SGD.step(grads missing dW1)", lambda: mn.SGD(params()).step({"db1": 0, "dW2": 0, "db2": 0}), ["dW1"]),
    ("Momentum.step(grads missing db2)", lambda: mn.Momentum(params()).step(
        {k: np.zeros_like(v) for k, v in mn.backward(params(), mn.forward(params(), X)[1], mn.one_hot(y)).items()
         if k != "db2"}), ["db2"]),
    ("Adam.step(grads={})", lambda: mn.Adam(params()).step({}), ["dW1"]),
    ("Momentum(beta=1)", lambda: mn.Momentum(params(), beta=1.0), ["beta"]),
    ("Momentum(beta=-0.1)", lambda: mn.Momentum(params(), beta=-0.1), ["beta"]),
    ("Adam(eps=0)", lambda: mn.Adam(params(), eps=0), ["eps"]),
    ("Adam(beta2=1.5)", lambda: mn.Adam(params(), beta2=1.5), ["beta2"]),
    ("make_optimizer('rmsprop')", lambda: mn.optim.make_optimizer("rmsprop", params(), 0.1), ["rmsprop"]),
    ("make_optimizer('SGD')", lambda: mn.optim.make_optimizer("SGD", params(), 0.1), ["optimizer"]),
]:
    error(A, label, thunk, *words)
correct(A, "cosine_schedule(0.1, 5)(4)", lambda: mn.cosine_schedule(0.1, 5)(4),
        lambda v: math.isclose(v, 0.1 * (1 + math.cos(math.pi * 4 / 5)) / 2))
correct(A, "cosine_schedule(0.1, 5)(2.5)", lambda: mn.cosine_schedule(0.1, 5)(2.5), lambda v: math.isclose(v, 0.05))
correct(A, "step_schedule(0.1, 0.5, 2)(100) keeps dropping", lambda: mn.step_schedule(0.1, 0.5, 2)(100),
        lambda v: math.isclose(v, 0.1 * 0.5 ** 50))
correct(A, "SGD(lr=0) does nothing", lambda: (lambda p: (mn.SGD(p, lr=0).step({"d" + k: np.ones_like(v)
                                                                            for k, v in p.items()}), p)[1])(params()),
        lambda p: np.array_equal(p["W1"], params()["W1"]))

# --- batches, layers, gradcheck, regularization, modules, debugging --------------------------------------------

A = "batches"
for label, thunk, words in [
    ("one_hot(floats 2.5)", lambda: mn.one_hot(y + 0.5), ["labels"]), ("one_hot(strings)", lambda: mn.one_hot(y.astype(str)), ["labels"]),
    ("one_hot(label 10)", lambda: mn.one_hot(y + 10), ["labels"]), ("one_hot(label -1)", lambda: mn.one_hot(y - 20), ["labels"]),
    ("one_hot(2-D)", lambda: mn.one_hot(y[:, None]), ["y"]), ("one_hot(num_classes=0)", lambda: mn.one_hot(y, 0), ["num_classes"]),
    ("one_hot(num_classes=2.5)", lambda: mn.one_hot(y, 2.5), ["num_classes"]),
    ("one_hot(booleans)", lambda: mn.one_hot(y > 3), ["labels"]),
    ("minibatches(batch_size=0)", lambda: mn.minibatches(X, mn.one_hot(y), 0, RNG(0)), ["batch_size"]),
    ("minibatches(batch_size=1.5)", lambda: mn.minibatches(X, mn.one_hot(y), 1.5, RNG(0)), ["batch_size"]),
    ("minibatches(rng=0)", lambda: mn.minibatches(X, mn.one_hot(y), 8, 0), ["rng"]),
    ("minibatches(Y of other m)", lambda: mn.minibatches(X, mn.one_hot(y[:5]), 8, RNG(0)), ["Y"]),
    ("minibatches(Y = labels)", lambda: mn.minibatches(X, y, 8, RNG(0)), ["Y"]),
]:
    error(A, label, thunk, *words)
correct(A, "one_hot(empty)", lambda: mn.one_hot(np.array([], dtype=int)), lambda Y: Y.shape == (10, 0))

A = "layers"
W, b = params()["W1"], params()["b1"]
for label, thunk, words in [
    ("linear_forward(b 1-D)", lambda: mn.linear_forward(W, X, b.ravel()), ["b"]),
    ("linear_forward(W.T)", lambda: mn.linear_forward(W.T, X, b), ["W"]),
    ("linear_forward(X.T)", lambda: mn.linear_forward(W, X.T, b), ["A_prev"]),
    ("linear_forward(W a list)", lambda: mn.linear_forward(W.tolist(), X, b), ["W"]),
    ("relu_backward(dA of other shape)", lambda: mn.relu_backward(np.ones((3, 3)), np.ones((10, 64))), ["dA"]),
    ("softmax(1-D)", lambda: mn.softmax(np.ones(10)), ["Z"]),
    ("cross_entropy(Y labels)", lambda: mn.cross_entropy(np.ones((10, 64)), y), ["Y"]),
    ("cross_entropy(reduction='sum')", lambda: mn.cross_entropy(np.ones((10, 64)), mn.one_hot(y), "sum"), ["reduction"]),
    ("softmax_backward(dA of other shape)", lambda: mn.softmax_backward(np.ones((10, 3)), np.ones((10, 64))), ["dA"]),
    ("linear_backward(dZ of other m)", lambda: mn.linear_backward(np.ones((10, 3)), (W, X)), ["dZ"]),
]:
    error(A, label, thunk, *words)
correct(A, "softmax of huge logits stays finite", lambda: mn.softmax(np.array([[1e4], [0.0]])),
        lambda A_: np.isfinite(A_).all() and np.isclose(A_.sum(), 1))

A = "gradcheck"
p64 = params((30, 5, 10), dtype=np.float64)
X64, Y64 = RNG(0).random((30, 4)), mn.one_hot(np.array([1, 2, 3, 4]), dtype=np.float64)
for label, thunk, words in [
    ("compare_gradients(h=0)", lambda: mn.compare_gradients(p64, X64, Y64, h=0), ["h"]),
    ("compare_gradients(h=-1e-5)", lambda: mn.compare_gradients(p64, X64, Y64, h=-1e-5), ["h"]),
    ("compare_gradients(h=nan)", lambda: mn.compare_gradients(p64, X64, Y64, h=float("nan")), ["h"]),
    ("compare_gradients(h='1e-5')", lambda: mn.compare_gradients(p64, X64, Y64, h="1e-5"), ["h"]),
    ("compare_gradients(float32 params)", lambda: mn.compare_gradients(params((30, 5, 10)), X64, Y64), ["float64"]),
    ("compare_gradients(backward_fn=None)", lambda: mn.compare_gradients(p64, X64, Y64, backward_fn=None), ["backward_fn"]),
    ("compare_gradients(backward_fn returning a list)", lambda: mn.compare_gradients(p64, X64, Y64, backward_fn=lambda p, c, Y: [1]),
     ["grads"]),
    ("compare_gradients(backward_fn missing db1)", lambda: mn.compare_gradients(
        p64, X64, Y64, backward_fn=lambda p, c, Y: {k: v for k, v in mn.backward(p, c, Y).items() if k != "db1"}),
     ["db1"]),
    ("numerical_gradient(f not callable)", lambda: mn.numerical_gradient(1.0, np.ones(3)), ["f"]),
    ("numerical_gradient(x int)", lambda: mn.numerical_gradient(lambda: 0.0, np.ones(3, int)), ["x"]),
    ("numerical_gradient(h=0)", lambda: mn.numerical_gradient(lambda: 0.0, np.ones(3)), ["h"]),
    ("rel_error((3,1) vs (3,))", lambda: mn.rel_error(np.ones((3, 1)), np.ones(3)), ["shape"]),
    ("validate_grads(dW1 transposed)", lambda: mn.validate_grads(p64, {**{"d" + k: v for k, v in p64.items()},
                                                                 "dW1": p64["W1"].T}), ["dW1"]),
]:
    if label == "numerical_gradient(h=0)":
        thunk = lambda: mn.numerical_gradient(lambda: 0.0, np.ones(3), h=0)  # noqa: E731
    error(A, label, thunk, *words)
correct(A, "compare_gradients of mathnn's backward", lambda: mn.compare_gradients(p64, X64, Y64),
        lambda rows: max(r[2] for r in rows) < 1e-7)

A = "regularization"
for label, thunk, words in [
    ("dropout_forward(keep=0)", lambda: mn.dropout_forward(X, 0.0, RNG(0)), ["keep"]),
    ("dropout_forward(keep=1.5)", lambda: mn.dropout_forward(X, 1.5, RNG(0)), ["keep"]),
    ("dropout_forward(keep='0.5')", lambda: mn.dropout_forward(X, "0.5", RNG(0)), ["keep"]),
    ("dropout_forward(rng=None)", lambda: mn.dropout_forward(X, 0.5, None), ["rng"]),
    ("dropout_forward(rng=0)", lambda: mn.dropout_forward(X, 0.5, 0), ["rng"]),
    ("l2_penalty(weight_decay=-1)", lambda: mn.l2_penalty(params(), -1.0), ["weight_decay"]),
    ("l2_penalty(weight_decay=nan)", lambda: mn.l2_penalty(params(), float("nan")), ["weight_decay"]),
    ("l2_grads(grads of another network)", lambda: mn.l2_grads(params(), {"dW3": np.ones(3)}, 0.1), ["W3"]),
]:
    error(A, label, thunk, *words)

A = "modules"
for label, thunk, words in [
    ("Linear(0, 10)", lambda: mn.Linear(0, 10, RNG(0)), ["sizes"]),
    ("Linear(784, 10, rng=42)", lambda: mn.Linear(784, 10, 42), ["rng"]),
    ("Linear(784.0, 10)", lambda: mn.Linear(784.0, 10, RNG(0)), ["sizes"]),
    ("Sequential()", lambda: mn.Sequential(), ["module"]),
    ("Sequential(ReLU) (the class)", lambda: mn.Sequential(mn.ReLU), ["module"]),
    ("Sequential(1)", lambda: mn.Sequential(1), ["module"]),
    ("Linear.backward before forward", lambda: mn.Linear(784, 10, RNG(0)).backward(np.ones((10, 4))), ["forward"]),
    ("SoftmaxCrossEntropy.backward before forward", lambda: mn.SoftmaxCrossEntropy().backward(), ["forward"]),
    ("Linear.forward(X.T)", lambda: mn.Linear(784, 10, RNG(0)).forward(X.T), ["A_prev"]),
]:
    error(A, label, thunk, *words)

A = "debugging"
for label, thunk, words in [
    ("relative_update(step_fn=None)", lambda: mn.relative_update(None, params()), ["step_fn"]),
    ("relative_update(params a list)", lambda: mn.relative_update(lambda: None, [1]), ["params"]),
    ("relative_update(a step that changes nothing)", lambda: mn.relative_update(lambda: None, params()), ["did not change"]),
    ("diagnose(X.T)", lambda: mn.diagnose(params(), X.T), ["X"]),
    ("dead_units(X.T)", lambda: mn.dead_units(params(), X.T), ["X"]),
    ("dead_units(params with an extra key)", lambda: mn.dead_units({**params(), "lr": 0.1}, X), ["params"]),
]:
    error(A, label, thunk, *words)
correct(A, "diagnose(zeros init) finds identical units", lambda: mn.diagnose(mn.init_params((784, 10, 10), "zeros", RNG(0)), X),
        lambda f: any("identical" in s for s in f))

# --- plots -----------------------------------------------------------------------------------------------------

A = "plots"


def closing(thunk):
    def run():
        import matplotlib.pyplot as plt
        try:
            return thunk()
        finally:
            plt.close("all")
    return run


for label, thunk, words in [
    ("show_digits(X.T)", lambda: mn.show_digits(X.T), ["transpose"]),
    ("show_digits(one image (784,))", lambda: mn.show_digits(X[:, 0]), ["X"]),
    ("show_digits(a list)", lambda: mn.show_digits(X.tolist()), ["X"]),
    ("show_digits((100, m))", lambda: mn.show_digits(X[:100]), ["784"]),
    ("show_digits(y too short)", lambda: mn.show_digits(X, y[:3]), ["y"]),
    ("show_digits(ncols=0)", lambda: mn.show_digits(X, ncols=0), ["ncols"]),
    ("show_digits(nrows=-1)", lambda: mn.show_digits(X, nrows=-1), ["nrows"]),
    ("show_confusion(non-square)", lambda: mn.show_confusion(np.ones((10, 9), int)), ["square"]),
    ("show_confusion(1-D)", lambda: mn.show_confusion(np.ones(10, int)), ["square"]),
    ("show_confusion(negative counts)", lambda: mn.show_confusion(-np.ones((3, 3), int)), ["counts"]),
    ("show_confusion(probabilities)", lambda: mn.show_confusion(np.full((3, 3), 0.3)), ["counts"]),
    ("show_hidden_weights(W1.T)", lambda: mn.show_hidden_weights(params()["W1"].T), ["W1"]),
    ("show_hidden_weights(W2)", lambda: mn.show_hidden_weights(params()["W2"]), ["W1"]),
    ("show_hidden_weights(limit=-1)", lambda: mn.show_hidden_weights(params()["W1"], limit=-1), ["limit"]),
    ("LiveCurve.update(params)", lambda: mn.LiveCurve(display=False).update(params()), ["history"]),
    ("show(None, alt)", lambda: mn.show(None, alt="a plot of nothing"), ["Figure"]),
    ("show(fig, alt='')", lambda: mn.show(mn.show_digits(X), alt=""), ["alt"]),
]:
    error(A, label, closing(thunk), *words)
correct(A, "show_digits with string labels", closing(lambda: mn.show_digits(X, [str(v) for v in y])),
        lambda fig: fig is not None)
correct(A, "show_digits with fewer images than the grid", closing(lambda: mn.show_digits(X[:, :3], y[:3])),
        lambda fig: fig is not None)
correct(A, "show_confusion of confusion_matrix", closing(lambda: mn.show_confusion(mn.confusion_matrix(y, y))),
        lambda fig: fig is not None)

# --- widgets ---------------------------------------------------------------------------------------------------

A = "widgets"


def panel(**kw):
    from mathnn.widgets import TrainingPanel
    return TrainingPanel(**kw)


for label, kw, words in [
    ("lr=1000", dict(lr=1000), ["lr"]), ("lr=-1", dict(lr=-1), ["lr"]), ("lr=0", dict(lr=0), ["lr"]),
    ("lr=nan", dict(lr=float("nan")), ["lr"]), ("lr='0.1'", dict(lr="0.1"), ["lr"]), ("lr=1e-5", dict(lr=1e-5), ["lr"]),
    ("num_epochs=50", dict(num_epochs=50), ["num_epochs"]), ("num_epochs=0", dict(num_epochs=0), ["num_epochs"]),
    ("num_epochs=2.5", dict(num_epochs=2.5), ["num_epochs"]),
    ("seed=-5", dict(seed=-5), ["seed"]), ("seed=10**7", dict(seed=10 ** 7), ["seed"]), ("seed=1.5", dict(seed=1.5), ["seed"]),
    ("max_runs=-1", dict(max_runs=-1), ["max_runs"]), ("max_runs=0", dict(max_runs=0), ["max_runs"]),
    ("max_runs=2.5", dict(max_runs=2.5), ["max_runs"]),
    ("init='xavier'", dict(init="xavier"), ["init"]), ("optimizer='rmsprop'", dict(optimizer="rmsprop"), ["optimizer"]),
    ("batch_size=100", dict(batch_size=100), ["batch_size"]), ("hidden=7", dict(hidden=7), ["hidden"]),
    ("train_size=123", dict(train_size=123), ["train_size"]), ("title=5", dict(title=5), ["title"]),
]:
    error(A, f"TrainingPanel({label})", lambda kw=kw: panel(**kw), *words)
correct(A, "TrainingPanel(lr=100) (the top of the slider)", lambda: panel(lr=100).lr.value,
        lambda v: math.isclose(v, 100))
correct(A, "TrainingPanel(train_size=1000)", lambda: panel(train_size=1000).settings()["train_size"], lambda v: v == 1000)

# --- data ------------------------------------------------------------------------------------------------------

A = "data"
for label, thunk, words in [
    ("load_mnist(split='val')", lambda: mn.load_mnist("val"), ["split"]),
    ("load_mnist(dtype=int)", lambda: mn.load_mnist("test", dtype=int), ["dtype"]),
    ("load_mnist_splits(dtype=np.uint8)", lambda: mn.load_mnist_splits.__wrapped__(np.uint8), ["dtype"]),
    ("split_train_val(rng=None)", lambda: mn.split_train_val(X, y, 10, None), ["rng"]),
    ("split_train_val(rng=0)", lambda: mn.split_train_val(X, y, 10, 0), ["rng"]),
    ("split_train_val(num_val=0)", lambda: mn.split_train_val(X, y, 0, RNG(0)), ["num_val"]),
    ("split_train_val(num_val=m)", lambda: mn.split_train_val(X, y, 64, RNG(0)), ["num_val"]),
    ("read_idx_gz(a text file)", lambda: mn.read_idx_gz(TMP / "text.npz"), ["gzip"]),
]:
    error(A, label, thunk, *words)
correct(A, "load_mnist_splits X_val is read-only", lambda: mn.load_mnist_splits().X_val.flags.writeable,
        lambda w: w is False)


def with_env(value, thunk):
    """Run thunk with MATHNN_DATA=value and an empty, unwritable default folder, offline."""
    def run():
        from mathnn import locations, mnist
        saved = (os.environ.get("MATHNN_DATA"), locations.REPO_DATA, mnist.MIRRORS, locations.default_data_dir)
        os.environ["MATHNN_DATA"] = str(value)
        locations.REPO_DATA = TMP / "no-repo-data"
        mnist.MIRRORS = ["http://127.0.0.1:9/"]  # the discard port: nothing answers
        locations.default_data_dir = lambda: TMP / "no-repo-data"
        try:
            return thunk()
        finally:
            if saved[0] is None:
                os.environ.pop("MATHNN_DATA", None)
            else:
                os.environ["MATHNN_DATA"] = saved[0]
            locations.REPO_DATA, mnist.MIRRORS, locations.default_data_dir = saved[1:]
    return run


(TMP / "a-file").write_text("not a folder")
(TMP / "loop").symlink_to(TMP / "loop")
(TMP / "empty").mkdir()
error(A, "MATHNN_DATA is a file", with_env(TMP / "a-file", lambda: mn.load_mnist("test")), "MATHNN_DATA", "file")
error(A, "MATHNN_DATA is a symlink loop", with_env(TMP / "loop", lambda: mn.load_mnist("test")), "MATHNN_DATA", "link")
error(A, "MATHNN_DATA empty and offline", with_env(TMP / "empty", lambda: mn.load_mnist("test")), "not found",
      "network")
error(A, "prepare_shared_folder(empty folder, offline)",
      with_env(TMP / "empty", lambda: mn.shared.prepare_shared_folder(TMP / "empty")), "network")
error(A, "prepare_shared_folder(a missing folder)", lambda: mn.shared.prepare_shared_folder(TMP / "nowhere"), "nowhere")
error(A, "prepare_shared_folder(no download)", lambda: mn.shared.prepare_shared_folder(TMP / "empty", download_ok=False),
      "missing")

# the shared copy in a writable folder, tampered with
SHARED = TMP / "shared"


def make_shared():
    from mathnn import locations, mnist, shared
    SHARED.mkdir(exist_ok=True)
    source = Path(os.environ.get("MATHNN_DATA", locations.REPO_DATA))
    for name in mnist.SHA256:
        if not (SHARED / name).exists():
            shutil.copy(source / name, SHARED / name)
    shared.prepare_shared_folder(SHARED, download_ok=False)
    return shared


def gz_lost():
    from mathnn import mnist
    return any(not (SHARED / name).exists() for name in mnist.SHA256)


def tampered(change):
    def run():
        shared = make_shared()
        npy = SHARED / shared.shared_name("test")
        change(npy, Path(str(npy) + ".json"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = shared.shared_images("test", root=SHARED)
        return np.asarray(rows), [str(w.message) for w in caught]
    return run


def blank_with_sidecar(npy, sidecar):
    from mathnn import shared
    rows = np.load(npy)
    npy.unlink()
    np.save(npy, np.zeros_like(rows))
    record = json.loads(sidecar.read_text())
    record["sha256"] = shared.file_sha256(npy)
    sidecar.write_text(json.dumps(record))


def one_pixel_with_sidecar(npy, sidecar):
    from mathnn import shared
    rows = np.load(npy)
    rows[0, 400] = 0.5
    npy.unlink()
    np.save(npy, rows)
    record = json.loads(sidecar.read_text())
    record["sha256"] = shared.file_sha256(npy)
    sidecar.write_text(json.dumps(record))


def truncate(npy, sidecar):
    raw = npy.read_bytes()
    npy.unlink()
    npy.write_bytes(raw[:1000])


def official(result):
    rows, warned = result
    return rows.shape == (10000, 784) and rows.any() and warned and mn.load_mnist("test")[0].T.tolist()[5] == \
        rows[5].tolist()


for label, change in [("zeros with an updated sidecar", blank_with_sidecar),
                      ("one pixel changed, sidecar updated", one_pixel_with_sidecar),
                      ("truncated", truncate)]:
    correct(A, f"shared copy {label}: detected, rebuilt, said", tampered(change), official, lost=gz_lost)


def disk_full(thunk):
    """Run thunk with every write of a shared copy failing as on a full disk (ENOSPC)."""
    def run():
        import errno

        shared = make_shared()
        for name in (shared.shared_name("test"), shared.shared_name("test") + ".json"):
            (SHARED / name).unlink(missing_ok=True)
        saved = shared.write_shared

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")
        shared.write_shared = full
        try:
            return thunk(shared)
        finally:
            shared.write_shared = saved
    return run


def no_cache(thunk):
    def run(shared):
        saved = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(SHARED / "cache")
        try:
            return thunk(shared)
        finally:
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME")
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    return run


error(A, "prepare_shared_folder on a full disk", disk_full(lambda shared: shared.prepare_shared_folder(SHARED, False)),
      "full", "free")
error(A, "shared_images on a full disk", disk_full(no_cache(lambda shared: shared.shared_images("test", root=SHARED))),
      "space")


def dead_part():
    from mathnn import mnist
    folder = TMP / "parts"
    folder.mkdir(exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    name = mnist.FILES["test"][1]
    part = folder / f".{name}.{child.pid}-deadbeef.part"
    part.write_bytes(b"half a download")
    mnist.remove_stale_parts(folder, name)
    return part.exists()


correct(A, "a killed download's .part is removed by the next one", dead_part, lambda exists: exists is False)

# --- the command line --------------------------------------------------------------------------------------------

A = "cli"


class CLIResult(Exception):
    def __init__(self, verdict, detail):
        super().__init__(detail)
        self.verdict, self.detail = verdict, detail


def cli(args, want="error", json_out=None, words=(), env=None, pipe_head=False, interrupt_after=None, timeout=120):
    """Run python -m mathnn ARGS and judge it: want "error" (non-zero exit, a one-line message naming words, no
    traceback; with --json, {"error": ...} on stdout) or "ok" (exit 0)."""
    def run():
        full_env = dict(os.environ, **(env or {}))
        command = [sys.executable, "-m", "mathnn", *args]
        start = time.monotonic()
        if pipe_head:
            shell = " ".join(map(str, command)) + " | head -1"
            proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=TMP)
            code = 0
        elif interrupt_after:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=TMP)
            time.sleep(interrupt_after)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=timeout)
            proc = subprocess.CompletedProcess(command, proc.returncode, out, err)
            code = proc.returncode
        else:
            try:  # (cwd: not a checkout, whose mathnn/ python -m would import before PYTHONPATH's)
                proc = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=TMP)
            except subprocess.TimeoutExpired:
                raise CLIResult("hang", f"no end in {timeout} s") from None
            code = proc.returncode
        err = proc.stderr.strip()
        detail = f"exit {code}, stderr {err[-150:]!r}, stdout {proc.stdout.strip()[-100:]!r} ({time.monotonic() - start:.0f} s)"
        if want == "ok":
            verdict = "correct" if code == 0 and (json_out is None or json_out(json.loads(proc.stdout))) else \
                "silently wrong"
            raise CLIResult(verdict, detail)
        if "Traceback" in err or "Exception ignored" in err:
            raise CLIResult("unclear", "a traceback: " + detail)
        if code == 0 and not pipe_head:
            raise CLIResult("silently wrong", detail)
        if "--json" in args and not pipe_head:
            try:
                out = json.loads(proc.stdout)
            except ValueError:
                raise CLIResult("unclear", "no JSON on stdout: " + detail) from None
            if json_out is not None and not json_out(out):
                raise CLIResult("silently wrong", detail)
            if "error" not in out and "failed" not in out and not out.get("diverged"):
                raise CLIResult("unclear", "no error in the JSON: " + detail)
        last = err.splitlines()[-1] if err else ""  # argparse: the usage, then the error on the last line
        if (interrupt_after or pipe_head) and len(err.splitlines()) > 1:
            raise CLIResult("unclear", "more than one line: " + detail)
        if not all(w.lower() in last.lower() for w in words):
            raise CLIResult("unclear", detail)
        raise CLIResult("clear", detail)
    return run


for label, args, words in [
    ("train --lr -1", ["train", "--lr", "-1"], ["--lr"]), ("train --lr abc", ["train", "--lr", "abc"], ["--lr"]),
    ("train --lr nan", ["train", "--lr", "nan"], ["--lr"]), ("train --num-epochs 0", ["train", "--num-epochs", "0"], ["--num-epochs"]),
    ("train --batch-size 1.5", ["train", "--batch-size", "1.5"], ["--batch-size"]),
    ("train --sizes 784", ["train", "--sizes", "784"], ["--sizes"]),
    ("train --sizes 100,10,10", ["train", "--sizes", "100,10,10"], ["--sizes"]),
    ("train --sizes 784,0,10", ["train", "--sizes", "784,0,10"], ["--sizes"]),
    ("train --optimizer rmsprop", ["train", "--optimizer", "rmsprop"], ["--optimizer"]),
    ("train --seed -1", ["train", "--seed", "-1"], ["--seed"]), ("train --bogus", ["train", "--bogus"], ["--bogus"]),
    ("bench --num-epochs 0", ["bench", "--num-epochs", "0"], ["--num-epochs"]),
    ("no command", [], ["command"]),
]:
    error(A, f"{label}", cli(args, words=words), *words)
    if args:
        error(A, f"{label} --json", cli([*args, "--json"], words=words), *words)
error(A, "train --lr 50 --num-epochs 1 --json (chance accuracy)",
      cli(["train", "--lr", "50", "--num-epochs", "1", "--schedule", "constant", "--json"],
          json_out=lambda out: bool(out.get("failed"))), "failed")
error(A, "train --lr 50 --num-epochs 1 (chance accuracy, text)",
      cli(["train", "--lr", "50", "--num-epochs", "1", "--schedule", "constant"], words=["guessing"]), "guessing")
error(A, "train --lr 1e30 --json (diverges)",
      cli(["train", "--lr", "1e30", "--num-epochs", "1", "--schedule", "constant", "--json"],
          json_out=lambda out: bool(out.get("diverged"))), "diverged")
error(A, "train --json with MATHNN_DATA a file", cli(["train", "--num-epochs", "1", "--json"], words=["MATHNN_DATA"],
                                                     env={"MATHNN_DATA": str(TMP / "a-file")}), "MATHNN_DATA")
error(A, "train with MATHNN_DATA a file", cli(["train", "--num-epochs", "1"], words=["MATHNN_DATA"],
                                              env={"MATHNN_DATA": str(TMP / "a-file")}), "MATHNN_DATA")
error(A, "data prepare a missing folder", cli(["data", "prepare", str(TMP / "nowhere")], words=["nowhere"]), "nowhere")
error(A, "data prepare --no-download an empty folder",
      cli(["data", "prepare", str(TMP / "empty"), "--no-download"], words=["missing"]), "missing")
error(A, "Ctrl+C during train", cli(["train", "--num-epochs", "30"], interrupt_after=4, words=["interrupted"]),
      "interrupted")
error(A, "Ctrl+C during train --json", cli(["train", "--num-epochs", "30", "--json"], interrupt_after=4,
                                           words=["interrupted"]), "interrupted")
error(A, "train | head -1 (closed pipe)", cli(["train", "--num-epochs", "3", "--schedule", "constant"],
                                              pipe_head=True), "")
correct(A, "train --num-epochs 1 --json", cli(["train", "--num-epochs", "1", "--json"], want="ok",
                                              json_out=lambda out: out["failed"] is None if "failed" in out else True),
        lambda _: True)

# --- the site build ------------------------------------------------------------------------------------------------

A = "site"
SITE_DRIVER = textwrap.dedent("""
    import sys, nbformat
    from pathlib import Path
    sys.path.insert(0, {tools!r})
    import build_site
    build_site.PROGRESS_EVERY = 3
    build_site.check_data = lambda: None
    here = Path({here!r})
    lessons = []
    for name, cells in {lessons!r}:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {{"name": "python3", "display_name": "Python 3", "language": "python"}}
        nbformat.write(nb, here / name)
        lessons.append(here / name)
    try:
        build_site.build(here / "site", jobs=2, timeout={timeout}, lessons=lessons)
    except build_site.BuildError as e:
        print(f"build_site: {{e}}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("build_site: interrupted", file=sys.stderr)
        sys.exit(130)
""")
TOOLS = Path(mn.__file__).resolve().parent.parent / "tools"
LOOP = ("01_loop.ipynb", ["x = 1", "import time\nwhile True:\n    time.sleep(0.1)"])
OK = ("00_ok.ipynb", ["x = 1"])


def site(lessons, timeout, action=None, after=8, limit=90):
    """Build a site of the given lessons; action(proc) after `after` s (None: let it end). Judge the output,
    the processes and folders left, and the previous site."""
    def run():
        here = Path(tempfile.mkdtemp(prefix="site-", dir=TMP))
        (here / "site").mkdir()
        (here / "site" / "index.html").write_text("the previous site")
        script = here / "driver.py"
        script.write_text(SITE_DRIVER.format(tools=str(TOOLS), here=str(here), lessons=lessons,
                                             timeout=timeout))
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        descendants = []
        if action:
            time.sleep(after)
            descendants = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
            action(proc)
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise CLIResult("hang", f"no end in {limit} s") from None
        time.sleep(3)  # kernels notice a dead parent within a second or two
        alive = [pid for pid in descendants if Path(f"/proc/{pid}").exists()]
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        kernels = subprocess.run(["pgrep", "-f", f"ipykernel.*{here}"], capture_output=True, text=True).stdout.split()
        left = [p.name for p in here.iterdir() if p.name.startswith(".site-build")]
        detail = f"exit {proc.returncode}; stderr {err.strip()[-160:]!r}; stdout {out.strip()[-120:]!r}"
        if (here / "site" / "index.html").read_text() != "the previous site":
            raise CLIResult("lost", "the previous site was replaced by a failed build: " + detail)
        if alive or kernels:
            raise CLIResult("unclear", f"processes left running {alive + kernels}: " + detail)
        if left and action is None:
            raise CLIResult("unclear", f"left {left}: " + detail)
        if "Traceback" in err:
            raise CLIResult("unclear", "a traceback: " + detail)
        return out, err, left
    return run


error(A, "a cell that never ends (--timeout 10): named, with progress",
      site([OK, LOOP], 10), "01_loop", "cell 1", limit=120)
PROBES[-1].thunk = (lambda run: lambda: (_ for _ in ()).throw(CLIResult(*judge_loop(run()))))(PROBES[-1].thunk)


def judge_loop(result):
    out, err, _ = result
    if "cell 1" in err and "01_loop" in err and "still running" in out:
        return "clear", err.strip()[-160:]
    return "unclear", f"no progress line while a cell ran, or the cell not named: {err.strip()[-160:]!r}"


def sigint(proc):
    os.killpg(proc.pid, signal.SIGINT)


def kill_main(proc):
    proc.kill()


def kill_a_worker(proc):
    workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    if workers:
        os.kill(int(workers[0]), signal.SIGKILL)


for label, action, words in [("Ctrl+C during the build", sigint, "interrupted"),
                             ("a worker killed", kill_a_worker, "worker"),
                             ("the build killed (kill -9)", kill_main, "")]:
    def thunk(action=action, words=words):
        out, err, left = site([OK, LOOP, ("02_ok.ipynb", ["y = 2"])], 100, action)()
        if action is kill_main:  # site() checked that no process is left; the next build removes the folder
            return "ok"
        if left:
            raise CLIResult("unclear", f"left {left}")
        if words.lower() in err.lower() and len(err.strip().splitlines()) <= 2:
            raise CLIResult("clear", err.strip())
        raise CLIResult("unclear", f"stderr {err.strip()[-200:]!r}")
    if action is kill_main:
        correct(A, label + ": no worker or kernel left", thunk, lambda v: v == "ok", limit=150)
    else:
        error(A, label, thunk, words, limit=150)


def stale_folder_removed():
    here = Path(tempfile.mkdtemp(prefix="site-", dir=TMP))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = here / f".site-build-{child.pid}-abcd1234"
    stale.mkdir()
    (here / "site").mkdir()
    script = here / "driver.py"
    script.write_text(SITE_DRIVER.format(tools=str(TOOLS), here=str(here), lessons=[OK], timeout=60))
    subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120)
    return stale.exists()


correct(A, "a killed build's .site-build folder is removed by the next build", stale_folder_removed,
        lambda exists: exists is False, limit=150)

# --- the Makefile's FORCE ---------------------------------------------------------------------------------------------

A = "make learner"
ROOT = Path(mn.__file__).resolve().parent.parent


def make_learner(force):
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), "learner", f"FORCE={force}", "-o", ".venv/.installed-stamp"],
                          capture_output=True, text=True)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "make_learner_edition" in line or "FORCE" in line]
    return proc.returncode, lines[-1] if lines else ""


for force, want in [("no", False), ("false", False), ("0", False), ("", False), ("1", True), ("yes", True),
                    ("true", True)]:
    correct(A, f"make learner FORCE={force}", lambda f=force: make_learner(f),
            lambda r, w=want: r[0] == 0 and (("--force" in r[1]) == w))
error(A, "make learner FORCE=maybe", lambda: (lambda r: r[1] if r[0] else r)(make_learner("maybe")), "FORCE")
PROBES[-1].thunk = (lambda: (lambda r: (_ for _ in ()).throw(ValueError(r[1])) if r[0] else r)(make_learner("maybe")))


# --- running them -------------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the probes of this area (network, fit, cli, site, ...)")
    parser.add_argument("--list", action="store_true", help="list the probes, run nothing")
    parser.add_argument("--json", help="write every probe's class and detail to this file")
    args = parser.parse_args(argv)
    probes = [p for p in PROBES if args.only is None or p.area == args.only]
    if args.list:
        for p in probes:
            print(f"{p.area:<15} {p.name}")
        print(f"{len(probes)} probes")
        return 0
    counts = {c: 0 for c in CLASSES}
    results = []
    for p in probes:
        verdict, detail = classify(p)
        counts[verdict] += 1
        results.append(dict(area=p.area, name=p.name, verdict=verdict, detail=detail))
        if verdict not in ("clear", "correct"):
            print(f"{verdict:<15} {p.area:<14} {p.name}: {detail[:300]}", flush=True)
    print(f"\n{len(probes)} probes (mathnn from {Path(mn.__file__).parent}):")
    print("  " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(counts=counts, results=results), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
