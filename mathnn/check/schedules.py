"""Lesson 06: learning-rate schedules, functions from the epoch (counted from 0) to the learning rate."""

import numpy as np

from mathnn import optim
from mathnn.check.core import _fmt, checker


def _schedule_values(c, fn, args, num_epochs, what):
    """Call fn(*args) -> schedule; return [schedule(e) for e in range(num_epochs)] as floats (num_epochs,)."""
    schedule = c.call(fn, *args)
    c.require(callable(schedule), f"{what} returned a {type(schedule).__name__}, not a function: return the "
                                  f"schedule itself, e.g. `return lambda epoch: ...` (mn.fit calls it once per epoch)")
    values = [c.call(schedule, e) for e in range(num_epochs)]
    bad = [(e, v) for e, v in enumerate(values)
           if not (isinstance(v, (int, float, np.floating, np.integer)) or np.size(v) == 1)]
    if bad:
        epoch, value = bad[0]
        c.require(False, f"{what}'s schedule returned {value!r} for epoch {epoch}: it must return one number, "
                         f"the learning rate")
    return np.array([float(np.asarray(v).item()) for v in values])


@checker(lesson=6, fallback=optim.cosine_schedule,
         signature="fn(lr, num_epochs) -> schedule, called as schedule(epoch)")
def cosine_schedule(c, fn):
    """Check ``fn(lr, num_epochs) -> schedule`` with schedule(epoch) = lr * (1 + cos(pi * epoch / num_epochs)) / 2.

    Epochs count from 0: schedule(0) = lr, then down along half a cosine towards 0, which it would
    reach at epoch num_epochs (one past the last), so the last epoch still learns. As ``mn.cosine_schedule``.
    """
    for lr, num_epochs in ((0.3, 6), (0.1, 10)):
        got = _schedule_values(c, fn, (lr, num_epochs), num_epochs, f"fn({lr}, {num_epochs})")
        e = np.arange(num_epochs)  # (num_epochs,)
        right = np.array([optim.cosine_schedule(lr, num_epochs)(epoch) for epoch in e])
        where = f"for lr = {lr}, num_epochs = {num_epochs} your schedule gives {_fmt(got)}; expected {_fmt(right)}"
        c.compare(got, right, [
            (f"{where}: it starts one epoch late. Epochs count from 0, so schedule(0) = lr: "
             f"cos(pi * epoch / num_epochs), not epoch + 1", lr * (1 + np.cos(np.pi * (e + 1) / num_epochs)) / 2),
            (f"{where}: it reaches 0 at the last epoch, which then learns nothing: divide by num_epochs, "
             f"not num_epochs - 1", lr * (1 + np.cos(np.pi * e / (num_epochs - 1))) / 2),
            (f"{where}: you took the cosine of degrees (180 * epoch / num_epochs); np.cos and math.cos take "
             f"radians, pi * epoch / num_epochs", lr * (1 + np.cos(180 * e / num_epochs)) / 2),
            (f"{where}: it rises from 0 to lr: (1 + cos(...)) / 2 starts at 1, (1 - cos(...)) / 2 at 0",
             lr * (1 - np.cos(np.pi * e / num_epochs)) / 2),
            (f"{where}: it goes down and back up to lr (a whole cosine period): use pi * epoch / num_epochs, "
             f"half a period, not 2 pi", lr * (1 + np.cos(2 * np.pi * e / num_epochs)) / 2),
            (f"{where}: it starts at 2 * lr: divide by 2, lr * (1 + cos(...)) / 2",
             lr * (1 + np.cos(np.pi * e / num_epochs))),
            (f"{where}: it starts at 0 and goes down to -lr: lr * (1 + cos(...)) / 2, the 1 + is missing",
             lr * np.cos(np.pi * e / num_epochs) - lr),
            (f"{where}: it ignores lr (starts at 1): multiply by lr", (1 + np.cos(np.pi * e / num_epochs)) / 2),
        ], otherwise=f"{where}: it should start at lr at epoch 0 and follow half a cosine period down towards 0 at "
                  f"num_epochs, with the lr and num_epochs given«: lr * (1 + cos(pi * epoch / num_epochs)) / 2»")


@checker(lesson=6, fallback=optim.step_schedule,
         signature="fn(lr, drop, every) -> schedule, called as schedule(epoch)")
def step_schedule(c, fn):
    """Check ``fn(lr, drop, every) -> schedule`` with schedule(epoch) = lr * drop ** (epoch // every).

    Epochs count from 0: lr for the first ``every`` epochs, then lr * drop, ... As ``mn.step_schedule``.
    """
    for lr, drop, every, num_epochs in ((0.3, 0.5, 2, 7), (0.1, 0.1, 3, 8)):
        got = _schedule_values(c, fn, (lr, drop, every), num_epochs, f"fn({lr}, {drop}, {every})")
        e = np.arange(num_epochs)  # (num_epochs,)
        right = lr * drop ** (e // every)
        where = (f"for lr = {lr}, drop = {drop}, every = {every} your schedule gives {_fmt(got)}; "
                 f"expected {_fmt(right)}")
        c.compare(got, right, [
            (f"{where}: it drops every epoch, a little: use whole steps, epoch // every, not epoch / every",
             lr * drop ** (e / every)),
            (f"{where}: it drops one epoch early: epochs count from 0, so epoch // every, not (epoch + 1) // every",
             lr * drop ** ((e + 1) // every)),
            (f"{where}: it drops by drop every epoch: count whole periods of `every` epochs"
             f"«, drop ** (epoch // every)»",
             lr * drop ** e),
            (f"{where}: you swapped drop and every: drop is the factor, every the period in epochs",
             lr * every ** (e // drop)),
            (f"{where}: it subtracts instead of multiplying: every `every` epochs the rate is multiplied by drop",
             lr - drop * (e // every)),
        ], otherwise=f"{where}: the rate is lr, multiplied by drop once every `every` epochs, epochs counted from 0"
                     f"«: lr * drop ** (epoch // every)»")
