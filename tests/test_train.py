"""fit: the History it returns, schedules, callbacks, divergence, and overfitting a tiny batch."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mathnn as mn


@pytest.fixture
def small(mnist):
    """1,050 training and 500 validation examples of real MNIST (float32, column layout)."""
    X, y = mnist["train"]
    X_val, y_val = mnist["test"]
    return X[:, :1050], y[:1050], X_val[:, :500], y_val[:500]


def fresh(seed=0):
    return mn.init_params((784, 10, 10), "he", np.random.default_rng(seed))


def test_history_lengths_with_validation(small):
    X, y, X_val, y_val = small
    h = mn.fit(fresh(), X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), lr=0.1, num_epochs=3,
               batch_size=100, train_acc=True)
    assert h.epoch == [1, 2, 3]
    for name in ("lr", "train_loss", "train_acc", "val_loss", "val_acc", "cumulative_seconds"):
        assert len(getattr(h, name)) == 3, name
    assert len(h.step_loss) == 3 * 11  # 1,050 examples in batches of 100: 11 steps per epoch
    assert h.lr == [0.1, 0.1, 0.1]
    assert h.diverged is None
    assert all(b > a > 0 for a, b in zip(h.cumulative_seconds, h.cumulative_seconds[1:]))
    for e in range(3):  # an epoch's train loss is the mean of its step losses
        assert h.train_loss[e] == pytest.approx(np.mean(h.step_loss[11 * e:11 * (e + 1)]), rel=1e-6)
    assert {f.name for f in dataclasses.fields(h)} == {"epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc",
                                                       "cumulative_seconds", "step_loss", "steps_per_epoch",
                                                       "diverged"}


def test_history_without_validation(small):
    X, y, _, _ = small
    h = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=2, batch_size=128)
    assert h.epoch == [1, 2] and len(h.train_loss) == 2
    assert h.val_loss == [] and h.val_acc == []
    assert len(h.step_loss) == 2 * math.ceil(1050 / 128)


def test_fit_trains_params_in_place_and_learns(small):
    X, y, X_val, y_val = small
    params = fresh()
    arrays = dict(params)
    before = {key: p.copy() for key, p in params.items()}
    h = mn.fit(params, X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), lr=0.1, num_epochs=5,
               batch_size=32)
    for key in params:
        assert params[key] is arrays[key]
        assert not np.array_equal(params[key], before[key])
    assert h.train_loss[-1] < 0.6 * h.train_loss[0]
    assert h.val_acc[-1] > 0.75
    # the last validation numbers are those of the returned params
    loss, acc = mn.evaluate(params, X_val, y_val)
    assert h.val_loss[-1] == pytest.approx(loss) and h.val_acc[-1] == pytest.approx(acc)
    assert acc == pytest.approx(mn.accuracy(params, X_val, y_val))


def test_fit_is_reproducible_with_the_same_seed(small):
    X, y, _, _ = small
    runs = []
    for seed in (3, 3, 4):
        params = fresh()
        h = mn.fit(params, X, y, rng=np.random.default_rng(seed), lr=0.1, num_epochs=2, batch_size=64)
        runs.append((h.step_loss, params["W1"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0] != runs[2][0]  # another shuffling seed, another run


def test_lr_schedule_sets_lr_per_epoch(small):
    X, y, _, _ = small
    schedule = mn.step_schedule(0.2, drop=0.5, every=1)
    h = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=3, lr_schedule=schedule)
    assert h.lr == pytest.approx([0.2, 0.1, 0.05])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fit_accepts_optimizer_names_and_objects(small, optimizer):
    X, y, _, _ = small
    params = fresh()
    opt = mn.optim.make_optimizer(optimizer, params, lr=0.01)
    h = mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=opt, num_epochs=2)
    assert h.lr == [0.01, 0.01]  # the object's lr, not fit's default
    h2 = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), optimizer=optimizer, lr=0.01, num_epochs=1)
    assert h2.epoch == [1] and np.isfinite(h2.train_loss[0])


def test_callback_called_once_per_epoch_with_the_growing_history(small):
    X, y, X_val, y_val = small
    calls = []
    h = mn.fit(fresh(), X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), num_epochs=4,
               callback=lambda history: calls.append((history, list(history.epoch), len(history.val_acc))))
    assert len(calls) == 4
    assert [epochs for _, epochs, _ in calls] == [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]
    assert [n for _, _, n in calls] == [1, 2, 3, 4]  # validation is done before the callback sees it
    assert all(history is h for history, _, _ in calls)


def test_huge_lr_diverges_with_a_clear_message(small):
    """lr = 1e4: the loss jumps to millions within two steps (finite: log-softmax is stable); fit must stop."""
    X, y, _, _ = small
    calls = []
    with pytest.warns(mn.DivergenceWarning, match="diverged at epoch"):
        h = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), lr=1e4, num_epochs=3, batch_size=32,
                   callback=calls.append)
    assert h.diverged is not None
    assert "diverged at epoch" in h.diverged and "lr=" in h.diverged and "10000" in h.diverged
    assert len(h.epoch) < 3  # stopped early
    assert len(calls) == len(h.epoch) + 1  # and the callback saw the divergence


def test_divergence_keeps_the_history_so_far(small):
    """Two good epochs, then an absurd lr: the history of the good epochs stays, the message says where."""
    X, y, X_val, y_val = small
    calls = []
    with pytest.warns(mn.DivergenceWarning) as record:
        h = mn.fit(fresh(), X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), num_epochs=5,
                   batch_size=100, lr_schedule=lambda epoch: 0.1 if epoch < 2 else 1e30, callback=calls.append)
    assert len(record) == 1 and str(record[0].message) == h.diverged
    assert h.diverged.startswith("diverged at epoch 3, step ")
    assert "lr=1e+30" in h.diverged
    assert h.epoch == [1, 2] and len(h.train_loss) == 2 and len(h.val_acc) == 2 and len(h.lr) == 2
    assert all(np.isfinite(h.train_loss)) and h.val_acc[-1] > 0.2  # learnt something before it blew up
    assert 22 <= len(h.step_loss) < 33  # both good epochs' steps (11 each), plus the finite ones of epoch 3
    assert len(calls) == 3 and calls[-1].diverged == h.diverged


@pytest.mark.parametrize(("optimizer", "lr"), [("adam", 0.01), ("sgd", 0.2)])
def test_overfits_a_64_example_batch(mnist, optimizer, lr):
    """Sanity check: 64 examples, one full batch per step, a few hundred steps -> 100% training accuracy."""
    X, y = mnist["train"]
    X, y = X[:, :64], y[:64]
    params = fresh()
    h = mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=optimizer, lr=lr, num_epochs=300,
               batch_size=64)
    assert len(h.step_loss) == 300 and h.diverged is None
    assert mn.accuracy(params, X, y) == 1.0
    assert h.train_loss[-1] < 0.05


# --- fit is forward, cross_entropy, backward and the optimizer's step, nothing else ---------------------------------


def literal_fit(params, X, y, rng, optimizer, lr, num_epochs, batch_size):
    """Training written as the lessons write it: minibatches, forward, cross_entropy, backward, an optimizer step.

    On one BLAS thread, as fit (another thread count may split a product's sums differently)."""
    opt = mn.optim.make_optimizer(optimizer, params, lr) if isinstance(optimizer, str) else optimizer
    Y = mn.one_hot(y).astype(X.dtype)
    losses = []
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(num_epochs):
            for X_batch, Y_batch in mn.minibatches(X, Y, batch_size, rng):
                _, cache = mn.forward(params, X_batch)
                losses.append(mn.cross_entropy(cache[f"Z{len(params) // 2}"], Y_batch))  # Z_D: the logits
                opt.step(mn.backward(params, cache, Y_batch))
    return losses


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("optimizer", "lr", "sizes"), [("sgd", 0.1, (784, 10, 10)), ("momentum", 0.05, (784, 10, 10)),
                                                        ("adam", 0.01, (784, 10, 10)), ("sgd", 0.1, (784, 16, 12, 10))])
def test_fit_trains_as_forward_backward_and_the_optimizer(small, dtype, optimizer, lr, sizes):
    """Two epochs (22 steps, the last batch of each short): the same step losses and final weights, bit for bit."""
    X, y = small[0].astype(dtype), small[1]
    fitted = mn.init_params(sizes, "he", np.random.default_rng(0), dtype=dtype)
    literal = {key: p.copy() for key, p in fitted.items()}
    h = mn.fit(fitted, X, y, rng=np.random.default_rng(5), optimizer=optimizer, lr=lr, num_epochs=2, batch_size=100)
    losses = literal_fit(literal, X, y, np.random.default_rng(5), optimizer, lr, num_epochs=2, batch_size=100)
    assert h.step_loss == losses
    for key in literal:
        assert fitted[key].dtype == dtype
        np.testing.assert_array_equal(fitted[key], literal[key], err_msg=key)
    assert not np.allclose(fitted["W2"], mn.init_params(sizes, "he", np.random.default_rng(0))["W2"])  # it trained


def doubled(func, key):
    """func with the gradient ``key`` of its result doubled: a planted bug."""
    def wrong(*args, **kwargs):
        result = func(*args, **kwargs)
        return {**result, key: 2 * result[key]}
    return wrong


def train_small(small, **kwargs):
    """Params and History of one epoch of fit on the small set, seed 0."""
    X, y, _, _ = small
    params = fresh()
    return params, mn.fit(params, X, y, rng=np.random.default_rng(0), num_epochs=1, batch_size=100, **kwargs)


def same_params(a, b):
    return all(np.array_equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize("kwargs", [{}, dict(optimizer="adam"), dict(weight_decay=0.01, keep=0.8)])
def test_a_gradient_bug_planted_in_backward_changes_what_fit_learns(small, monkeypatch, kwargs):
    """fit calls mathnn.network.backward (mn.backward) and its layers: a bug there is a bug in fit."""
    reference, _ = train_small(small, **kwargs)
    assert same_params(reference, train_small(small, **kwargs)[0])  # the run is reproducible: the comparison means it
    with monkeypatch.context() as patch:
        patch.setattr(mn.network, "backward", doubled(mn.network.backward, "dW1"))
        wrong, _ = train_small(small, **kwargs)
    assert not same_params(reference, wrong)
    with monkeypatch.context() as patch:  # one level down: the layer function backward calls
        linear_backward = mn.layers.linear_backward

        def wrong_linear_backward(dZ, cache, need_dA_prev=True):
            dA_prev, dW, db = linear_backward(dZ, cache, need_dA_prev)
            return dA_prev, dW, 2 * db
        patch.setattr(mn.layers, "linear_backward", wrong_linear_backward)
        wrong, _ = train_small(small, **kwargs)
    assert not same_params(reference, wrong)
    assert same_params(reference, train_small(small, **kwargs)[0])  # and unpatched, fit is right again


@pytest.mark.filterwarnings("ignore::mathnn.DivergenceWarning")  # SGD going uphill diverges
def test_a_bug_planted_in_the_loss_the_forward_pass_or_the_optimizer_changes_fit(small, monkeypatch):
    reference, history = train_small(small)
    with monkeypatch.context() as patch:  # the loss fit reports is cross_entropy's
        patch.setattr(mn.layers, "cross_entropy", lambda Z, Y, reduction="mean": 7.0)
        params, wrong = train_small(small)
    assert wrong.step_loss == [7.0] * len(history.step_loss) and same_params(reference, params)  # only reported
    with monkeypatch.context() as patch:  # the gradient of the loss (eq. 5') is cross_entropy_backward's
        patch.setattr(mn.layers, "cross_entropy_backward", lambda dloss, cache: (cache[0] - cache[1]) * dloss)
        params, _ = train_small(small)
    assert not same_params(reference, params)
    with monkeypatch.context() as patch:  # the forward pass: relu
        patch.setattr(mn.layers, "relu_forward", lambda Z: (np.abs(Z), Z))
        params, wrong = train_small(small)
    assert not same_params(reference, params) and wrong.step_loss != history.step_loss
    with monkeypatch.context() as patch:  # the optimizer: SGD's step (eq. 12) going uphill
        step = mn.SGD.step
        patch.setattr(mn.SGD, "step", lambda self, grads: step(self, {k: -g for k, g in grads.items()}))
        params, _ = train_small(small)
    assert not same_params(reference, params)
    with monkeypatch.context() as patch:  # weight decay: l2_grads
        patch.setattr(mn.regularization, "l2_grads", lambda params, grads, weight_decay: grads)
        params, _ = train_small(small, weight_decay=0.1)
    assert same_params(params, reference)  # the decay was l2_grads' doing
    assert not same_params(train_small(small, weight_decay=0.1)[0], reference)


def test_an_optimizer_of_your_own_gets_fresh_gradients(small):
    """An optimizer object of your own may keep the gradients it gets: each step's are new arrays."""
    X, y, _, _ = small

    class KeepsGradients(mn.SGD):
        def step(self, grads):
            self.seen = [*getattr(self, "seen", []), grads]
            super().step(grads)

    params, reference = fresh(), fresh()
    opt = KeepsGradients(params, lr=0.1)
    mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=opt, num_epochs=1, batch_size=100)
    mn.fit(reference, X, y, rng=np.random.default_rng(0), optimizer="sgd", lr=0.1, num_epochs=1, batch_size=100)
    assert len(opt.seen) == 11 and opt.seen[0]["dW1"] is not opt.seen[1]["dW1"]
    assert not np.array_equal(opt.seen[0]["dW1"], opt.seen[1]["dW1"])
    assert same_params(params, reference)


def test_X_and_params_of_different_dtypes_train_as_written_out(small):
    """float64 X with float32 params: fit trains as forward/backward/SGD, the params stay float32."""
    X, y = small[0].astype(np.float64), small[1]
    fitted, literal = fresh(), fresh()
    h = mn.fit(fitted, X, y, rng=np.random.default_rng(0), lr=0.1, num_epochs=1, batch_size=100)
    losses = literal_fit(literal, X, y, np.random.default_rng(0), "sgd", 0.1, num_epochs=1, batch_size=100)
    assert h.step_loss == losses
    for key in literal:
        assert fitted[key].dtype == np.float32
        np.testing.assert_array_equal(fitted[key], literal[key])


def test_fit_trains_on_one_blas_thread_and_restores_the_setting(small):
    """A 784-10-10's small products gain nothing from BLAS threads and lose a lot when a core is busy."""
    from threadpoolctl import threadpool_info

    X, y, _, _ = small
    seen = []

    def blas_threads():
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    with threadpool_limits(limits=2, user_api="blas"):  # as with no OPENBLAS_NUM_THREADS on 2 cores
        before = blas_threads()
        mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=2,
               callback=lambda history: seen.append(blas_threads()))
        after = blas_threads()
    assert before == after == {2}
    assert seen == [{1}, {1}]


# --- bad arguments are refused before training, and nothing is changed --------------------------------------------


def test_nan_or_inf_in_X_is_refused_before_training_not_reported_as_a_large_lr(small):
    X, y, X_val, y_val = small
    for bad in (np.nan, np.inf, -np.inf):
        X_bad = X.copy()
        X_bad[300, 7] = bad
        params = fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no DivergenceWarning either
            with pytest.raises(ValueError, match=r"^X contains NaN or infinite values \(1 entries\)"):
                mn.fit(params, X_bad, y, rng=np.random.default_rng(0))
        for key, p in fresh().items():
            np.testing.assert_array_equal(params[key], p)  # untouched
    X_val_bad = X_val.copy()
    X_val_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="^X_val contains NaN"):
        mn.fit(fresh(), X, y, X_val=X_val_bad, y_val=y_val, rng=np.random.default_rng(0))


def test_huge_but_finite_X_is_not_mistaken_for_nan(small):
    X, y, _, _ = small
    X_big = X * np.float32(1e36)  # its float32 sum overflows, yet every entry is finite
    with pytest.warns(mn.DivergenceWarning):  # it may train badly, but it trains
        mn.fit(fresh(), X_big, y, rng=np.random.default_rng(0), num_epochs=1)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
    (dict(batch_size=-5), "batch_size must be a positive integer, got -5"),
    (dict(batch_size=12.5), "batch_size must be a positive integer, got 12.5"),
    (dict(batch_size=True), "batch_size must be a positive integer, got True"),
    (dict(num_epochs=-1), "num_epochs must be a positive integer, got -1"),
    (dict(num_epochs=0), "num_epochs must be a positive integer, got 0"),
    (dict(rng=None), r"fit\(\): rng must be an explicit rng, a np.random.Generator, e.g. rng=np.random.default_rng"),
    (dict(rng=0), r"explicit rng.*got 0 \(a seed\? pass np.random.default_rng\(0\)\)"),
    (dict(lr=-0.1), r"lr must be a finite number >= 0 \(e.g. 0.1\), got -0.1"),
    (dict(lr=float("nan")), r"lr must be a finite number >= 0 \(e.g. 0.1\), got nan"),
    (dict(lr=float("inf")), r"lr must be a finite number >= 0 \(e.g. 0.1\), got inf"),
    (dict(lr_schedule=lambda epoch: -1.0), r"lr_schedule\(0\) must be a finite number >= 0 \(e.g. 0.1\), got -1.0"),
])
def test_bad_arguments_are_refused_with_a_clear_message(small, kwargs, message):
    X, y, _, _ = small
    params = fresh()
    args = dict(rng=np.random.default_rng(0), num_epochs=1) | kwargs
    with pytest.raises(ValueError, match=message):
        mn.fit(params, X, y, **args)
    for key, p in fresh().items():
        np.testing.assert_array_equal(params[key], p)


def test_empty_X_is_refused(small):
    X, y, _, _ = small
    with pytest.raises(ValueError, match=r"X has no examples \(shape \(n0, 0\)\)"):
        mn.fit(fresh(), X[:, :0], y[:0], rng=np.random.default_rng(0))


def test_an_optimizer_object_and_an_lr_conflict(small):
    """fit(optimizer=Adam(...), lr=0.5) used to ignore lr silently."""
    X, y, _, _ = small
    params = fresh()
    with pytest.raises(ValueError, match=r"both lr=0.5 and an optimizer object \(whose lr is 0.001\)"):
        mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=mn.Adam(params, lr=0.001), lr=0.5)
    h = mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=mn.Adam(params, lr=0.001), num_epochs=1)
    assert h.lr == [0.001]
    h = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=1)  # a name and no lr: 0.1
    assert h.lr == [0.1]


def test_an_optimizer_made_on_another_dict_is_refused(small):
    """fit computes gradients on params; an optimizer holding other arrays would update those, training nothing."""
    X, y, _, _ = small
    params = fresh()
    with pytest.raises(ValueError, match=r"the optimizer updates other arrays than params: make it with e.g. "
                                         r"Adam\(params, lr=...\)"):
        mn.fit(params, X, y, rng=np.random.default_rng(0), optimizer=mn.Adam(fresh(), lr=0.01), num_epochs=1)
    with pytest.raises(ValueError, match="the optimizer updates other arrays than params"):  # copies: other arrays
        mn.fit(params, X, y, rng=np.random.default_rng(0),
               optimizer=mn.SGD({k: p.copy() for k, p in params.items()}), num_epochs=1)
    for key, p in fresh().items():
        np.testing.assert_array_equal(params[key], p)


@pytest.mark.parametrize("which", ["X_val", "y_val"])
def test_validation_data_comes_in_pairs(small, which):
    X, y, X_val, y_val = small
    only_one = {"X_val": X_val, "y_val": y_val}[which]
    calls = []
    with pytest.raises(ValueError, match="pass X_val and y_val together"):
        mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=1, callback=calls.append, **{which: only_one})
    assert calls == []  # refused before the first epoch


@pytest.mark.parametrize(("bad", "message"), [
    (lambda y_val: y_val + 10, r"labels must lie in \[0, 10\)"),
    (lambda y_val: y_val.astype(np.float64), "labels must be integers"),
])
def test_bad_validation_labels_are_refused_before_training(small, bad, message):
    X, y, X_val, y_val = small
    params, calls = fresh(), []
    with pytest.raises(ValueError, match=message):
        mn.fit(params, X, y, rng=np.random.default_rng(0), X_val=X_val, y_val=bad(y_val), num_epochs=1,
               callback=calls.append)
    assert calls == []
    for key, p in fresh().items():
        np.testing.assert_array_equal(params[key], p)


def test_the_weight_decay_error_gives_a_weight_decay_example(small):
    X, y, _, _ = small
    with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0 \(e.g. 5e-4\), got -1"):
        mn.fit(fresh(), X, y, rng=np.random.default_rng(0), weight_decay=-1)


def test_train_mnist_takes_the_layer_sizes(mnist):
    params, history = mn.train_mnist(0.1, "he", 1, 128, 0, sizes=(784, 32, 16, 10), train_size=2000)
    assert [params[f"W{l}"].shape for l in (1, 2, 3)] == [(32, 784), (16, 32), (10, 16)]
    assert history.epoch == [1] and history.val_acc[0] > 0.3  # on the 5,000 validation images; chance is 0.1


# --- training accuracy, weight decay and dropout (lesson 10) -------------------------------------------------------


def test_train_acc_is_measured_without_dropout_on_a_fixed_subset(mnist, small):
    X, y, X_val, y_val = small
    params = fresh()
    h = mn.fit(params, X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), num_epochs=2, keep=0.5,
               train_acc=True)
    assert len(h.train_acc) == 2 and h.train_acc[-1] == mn.accuracy(params, X, y)  # 1,050 < 5,000: all of them
    X_big, y_big = mnist["train"][0][:, :6000], mnist["train"][1][:6000]
    params = fresh()
    h = mn.fit(params, X_big, y_big, rng=np.random.default_rng(0), num_epochs=1, train_acc=True)
    assert mn.train.TRAIN_ACC_EXAMPLES == 5000
    assert h.train_acc == [mn.accuracy(params, X_big[:, :5000], y_big[:5000])]
    assert h.train_acc[0] != mn.accuracy(params, X_big, y_big)  # the first 5,000, not all 6,000


def test_train_acc_only_when_asked_and_the_run_is_the_same_either_way(small):
    """Measuring the training accuracy costs a forward pass per epoch and draws nothing from rng: without it fit
    leaves history.train_acc empty and trains the same network, bit for bit; train_mnist passes it on."""
    X, y, X_val, y_val = small
    runs = []
    for measure in (False, True):
        params = fresh()
        h = mn.fit(params, X, y, X_val=X_val, y_val=y_val, rng=np.random.default_rng(0), num_epochs=2, keep=0.8,
                   train_acc=measure)
        runs.append((params, h))
    (p_off, h_off), (p_on, h_on) = runs
    assert h_off.train_acc == [] and len(h_on.train_acc) == 2
    assert h_off.val_acc == h_on.val_acc and h_off.step_loss == h_on.step_loss
    assert all(np.array_equal(p_off[key], p_on[key]) for key in p_on)
    _, h = mn.train_mnist(num_epochs=1, train_size=500, train_acc=True)
    assert len(h.train_acc) == 1


@pytest.mark.parametrize("value", [1, "yes", None])
def test_fit_refuses_a_train_acc_that_is_not_a_bool(small, value):
    X, y, _, _ = small
    with pytest.raises(ValueError, match=r"fit\(\): train_acc is True .* or False; got"):
        mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=1, train_acc=value)


def test_evaluate_gives_the_loss_and_the_accuracy(small):
    X, y, X_val, y_val = small
    params = fresh()
    mn.fit(params, X, y, rng=np.random.default_rng(0), num_epochs=1)
    loss, acc = mn.evaluate(params, X_val, y_val)
    assert loss == pytest.approx(mn.loss(params, X_val, mn.one_hot(y_val)), rel=1e-6)
    assert acc == mn.accuracy(params, X_val, y_val)


def literal_regularized_fit(params, X, y, rng, optimizer, lr, num_epochs, batch_size, weight_decay, keep):
    """fit with weight decay and dropout, written out: fit's shuffling, then per batch the forward pass with
    dropout_forward on every hidden layer (masks drawn from rng in layer order), backward through the masks,
    l2_grads, an optimizer step."""
    opt = mn.optim.make_optimizer(optimizer, params, lr)
    D = len(params) // 2
    losses = []
    for _ in range(num_epochs):
        perm = rng.permutation(X.shape[1])
        for first in range(0, len(perm), batch_size):
            idx = perm[first:first + batch_size]
            A, Y_batch = X[:, idx], mn.one_hot(y[idx]).astype(X.dtype)
            As, Zs, Ms = [A], [None], [None]
            for l in range(1, D + 1):
                Z = params[f"W{l}"] @ As[-1] + params[f"b{l}"]  # (n_l, n_{l-1}) @ (n_{l-1}, B) -> (n_l, B)
                Zs.append(Z)
                if l < D:
                    A_drop, M = mn.dropout_forward(np.maximum(Z, 0), keep, rng) if keep < 1 else (np.maximum(Z, 0), 1)
                    As.append(A_drop)
                    Ms.append(M)
            losses.append(mn.cross_entropy(Zs[D], Y_batch))
            dZ = (mn.softmax(Zs[D]) - Y_batch) / len(idx)
            grads = {}
            for l in range(D, 0, -1):
                grads[f"dW{l}"] = dZ @ As[l - 1].T  # (n_l, B) @ (B, n_{l-1}) -> (n_l, n_{l-1})
                grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
                if l > 1:
                    dA = mn.dropout_backward(params[f"W{l}"].T @ dZ, Ms[l - 1])  # (n_{l-1}, n_l) @ (n_l, B)
                    dZ = dA * (Zs[l - 1] > 0)
            opt.step(mn.l2_grads(params, grads, weight_decay))
    return losses


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("optimizer", "lr", "sizes", "weight_decay", "keep"), [
    ("sgd", 0.1, (784, 10, 10), 0.01, 1.0), ("sgd", 0.1, (784, 10, 10), 0.0, 0.7),
    ("adam", 0.003, (784, 16, 10), 0.003, 0.5), ("momentum", 0.05, (784, 16, 12, 10), 0.01, 0.8)])
def test_fit_with_weight_decay_and_dropout_trains_as_written_out(small, dtype, optimizer, lr, sizes, weight_decay,
                                                                 keep):
    """The fused step's weight decay (eq. 15) and dropout (eq. 16): same step losses and weights as the literal
    training, with the same masks (drawn from fit's rng after each epoch's shuffle)."""
    X, y = small[0].astype(dtype), small[1]
    fitted = mn.init_params(sizes, "he", np.random.default_rng(0), dtype=dtype)
    literal = {key: p.copy() for key, p in fitted.items()}
    h = mn.fit(fitted, X, y, rng=np.random.default_rng(5), optimizer=optimizer, lr=lr, num_epochs=2, batch_size=100,
               weight_decay=weight_decay, keep=keep)
    losses = literal_regularized_fit(literal, X, y, np.random.default_rng(5), optimizer, lr, 2, 100, weight_decay, keep)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(h.step_loss, losses, **tol)
    for key in literal:
        assert fitted[key].dtype == dtype
        np.testing.assert_allclose(fitted[key], literal[key], **tol, err_msg=key)


def test_weight_decay_shrinks_the_weights_and_dropout_changes_the_training(small):
    X, y, _, _ = small
    runs = {}
    for name, kwargs in (("plain", {}), ("decay", dict(weight_decay=0.2)), ("dropout", dict(keep=0.5))):
        params = fresh()
        runs[name] = params, mn.fit(params, X, y, rng=np.random.default_rng(0), num_epochs=3, **kwargs)
    norm = {name: np.linalg.norm(params["W1"]) for name, (params, _) in runs.items()}
    assert norm["decay"] < 0.8 * norm["plain"]
    assert runs["dropout"][1].train_loss[-1] > runs["plain"][1].train_loss[-1]  # a dropped-out network fits less


def test_weight_decay_and_dropout_with_an_optimizer_of_your_own(small):
    """Any object with lr and step(grads) trains as fit's own optimizer, weight decay and dropout included."""
    X, y, _, _ = small

    class PlainGradientDescent:  # not a subclass of mn.SGD
        def __init__(self, params, lr):
            self.params, self.lr = params, lr

        def step(self, grads):
            for key, p in self.params.items():
                p -= self.lr * grads["d" + key]

    for kwargs in (dict(weight_decay=0.02), dict(keep=0.6), dict(weight_decay=0.01, keep=0.8)):
        mine, named = fresh(), fresh()
        h = mn.fit(mine, X, y, rng=np.random.default_rng(0), optimizer=PlainGradientDescent(mine, lr=0.1),
                   num_epochs=2, batch_size=100, **kwargs)
        h_named = mn.fit(named, X, y, rng=np.random.default_rng(0), lr=0.1, num_epochs=2, batch_size=100, **kwargs)
        assert h.step_loss == h_named.step_loss, kwargs
        assert same_params(mine, named), kwargs
        assert not same_params(mine, train_small(small)[0])  # and the regularization did something


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(weight_decay=-0.1), r"weight_decay must be a finite number >= 0"),
    (dict(weight_decay=float("nan")), r"weight_decay must be a finite number >= 0"),
    (dict(keep=0.0), r"keep is the probability of keeping a hidden unit \(dropout\), in \(0, 1\]"),
    (dict(keep=1.5), r"keep is the probability of keeping a hidden unit"),
    (dict(keep=True), r"keep is the probability of keeping a hidden unit"),
])
def test_bad_regularization_arguments_are_refused(small, kwargs, message):
    X, y, _, _ = small
    params = fresh()
    with pytest.raises(ValueError, match=message):
        mn.fit(params, X, y, rng=np.random.default_rng(0), num_epochs=1, **kwargs)
    for key, p in fresh().items():
        np.testing.assert_array_equal(params[key], p)


def test_train_mnist_passes_weight_decay_and_keep_on(mnist):
    kwargs = dict(lr=0.1, num_epochs=1, train_size=1000, sizes=(784, 32, 10))
    plain, _ = mn.train_mnist(**kwargs)
    decayed, _ = mn.train_mnist(**kwargs, weight_decay=0.1)
    dropped, _ = mn.train_mnist(**kwargs, keep=0.5)
    assert np.linalg.norm(decayed["W1"]) < np.linalg.norm(plain["W1"])
    assert not np.array_equal(dropped["W1"], plain["W1"])


# --- one owner per default: each optimizer its learning rate --------------------------------------------------------


@pytest.mark.parametrize(("optimizer", "default"), [("sgd", 0.1), ("momentum", 0.1), ("adam", 0.001)])
def test_fit_without_lr_uses_the_optimizers_own_default(small, optimizer, default):
    """fit(optimizer="adam") used to run Adam at 0.1, a hundred times Adam's default."""
    X, y, _, _ = small
    cls = mn.optim.OPTIMIZERS[optimizer]
    assert cls.default_lr == default and cls(fresh()).lr == default
    assert mn.optim.make_optimizer(optimizer, fresh()).lr == default
    by_name, by_object = fresh(), fresh()
    h = mn.fit(by_name, X, y, rng=np.random.default_rng(0), optimizer=optimizer, num_epochs=1, batch_size=100)
    mn.fit(by_object, X, y, rng=np.random.default_rng(0), optimizer=cls(by_object, lr=default), num_epochs=1,
           batch_size=100)
    assert h.lr == [default]
    assert same_params(by_name, by_object)


def test_the_course_default_is_sgds_and_the_panels(monkeypatch):
    import inspect

    from mathnn.widgets import TrainingPanel

    assert mn.optim.COURSE_LR == mn.SGD.default_lr == mn.Momentum.default_lr == 0.1
    assert inspect.signature(TrainingPanel).parameters["lr"].default == mn.SGD.default_lr
    assert inspect.signature(TrainingPanel).parameters["optimizer"].default == "sgd"
    monkeypatch.setattr(mn.SGD, "default_lr", 0.05)  # changed in one place, fit follows
    X, y = np.zeros((784, 10), np.float32), np.arange(10)
    assert mn.fit(fresh(), X, y, rng=np.random.default_rng(0), num_epochs=1).lr == [0.05]


def test_train_mnist_without_lr_uses_the_optimizers_default(mnist):
    _, history = mn.train_mnist(optimizer="adam", num_epochs=1, train_size=500)
    assert history.lr == [mn.Adam.default_lr]
