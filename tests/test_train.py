"""fit: the History it returns, schedules, callbacks, divergence, and overfitting a tiny batch."""

import dataclasses
import math

import numpy as np
import pytest

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
               batch_size=100)
    assert h.epoch == [1, 2, 3]
    for name in ("lr", "train_loss", "val_loss", "val_acc", "seconds"):
        assert len(getattr(h, name)) == 3, name
    assert len(h.step_loss) == 3 * 11  # 1,050 examples in batches of 100: 11 steps per epoch
    assert h.lr == [0.1, 0.1, 0.1]
    assert h.diverged is None
    assert all(b > a > 0 for a, b in zip(h.seconds, h.seconds[1:]))  # cumulative training time
    for e in range(3):  # an epoch's train loss is the mean of its step losses
        assert h.train_loss[e] == pytest.approx(np.mean(h.step_loss[11 * e:11 * (e + 1)]), rel=1e-6)
    assert {f.name for f in dataclasses.fields(h)} == {"epoch", "lr", "train_loss", "val_loss", "val_acc",
                                                       "seconds", "step_loss", "steps_per_epoch", "diverged", "params"}


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
    h = mn.fit(fresh(), X, y, rng=np.random.default_rng(0), lr=99.0, num_epochs=3, lr_schedule=schedule)
    assert h.lr == pytest.approx([0.2, 0.1, 0.05])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fit_accepts_optimizer_names_and_objects(small, optimizer):
    X, y, _, _ = small
    params = fresh()
    opt = mn.make_optimizer(optimizer, params, lr=0.01)
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
