"""Lesson 08: step 4 of the drawing pipeline, placing a resized digit in the 28 x 28 field by its centre of mass.

Your ``fn(small)`` gets digits ``small`` (h, w), h and w at most 28, and must return the 28 x 28 field with
``small`` pasted in unchanged at whole-pixel offsets (dy rows down, dx columns right) such that the centre
of mass of the field is within half a pixel of (14, 14), row and column; where that would push ink over an
edge, the offset nearest to it that keeps the box inside. Any offset meeting that is right (a centre of mass
at x.5 has two), so the checker finds the offset you used and judges it, rather than comparing with one
answer. The test digits are lopsided (the box's middle is not the centre of mass), non-square, one pixel
high, and pushed against an edge.
"""

import numpy as np

from mathnn import draw
from mathnn.check.core import _Fail, checker

FIELD, CENTER = 28, draw.CENTER


def _digit(h, w, seed):
    """A lopsided test digit (h, w): random ink in [0.2, 1], heavier towards the top left, no empty edge row."""
    rng = np.random.default_rng(seed)
    weight = np.outer(np.linspace(1, 0.2, h), np.linspace(1, 0.3, w))  # (h, w): more ink at the top left
    a = np.where(rng.random((h, w)) < weight, rng.uniform(0.2, 1, (h, w)), 0.0)
    a[0, :] = np.maximum(a[0, :], 0.5)  # ink in the first and last row and column: the box is the whole array
    a[-1, -1] = a[-1, 0] = a[0, -1] = max(a[0, -1], 0.3)
    return a


def _cases():
    """(name, small) pairs: the digits the checker feeds your function."""
    corner = np.zeros((20, 20))
    corner[14:, 14:] = 1.0  # its ink in the bottom right: centring it would push the box over the edge
    corner[0, 0] = 0.05  # (a faint speck makes the box 20 x 20)
    return [("a lopsided 20 x 14 digit", _digit(20, 14, 0)),
            ("a lopsided 13 x 20 digit", _digit(13, 20, 1)),
            ("a 20 x 20 square of ink", np.ones((20, 20))),  # centre of mass 9.5: two right answers
            ("a 1 x 20 bar", np.linspace(0.2, 1.0, 20)[None, :]),  # one row high
            ("a 20 x 20 digit with its ink in the bottom right corner", corner)]


def _placements(out, small):
    """The offsets (dy, dx) at which out holds small unchanged with zeros around it."""
    h, w = small.shape
    found = []
    ink_rows, ink_cols = np.flatnonzero(np.abs(out).sum(axis=1)), np.flatnonzero(np.abs(out).sum(axis=0))
    for dy in range(FIELD - h + 1):
        for dx in range(FIELD - w + 1):
            if ink_rows.size and not (dy <= ink_rows[0] and ink_rows[-1] < dy + h
                                      and dx <= ink_cols[0] and ink_cols[-1] < dx + w):
                continue
            rest = out.copy()
            rest[dy:dy + h, dx:dx + w] = 0
            if np.allclose(out[dy:dy + h, dx:dx + w], small, rtol=1e-6, atol=1e-7) and not rest.any():
                found.append((dy, dx))
    return found


def _right_offsets(center, size):
    """The offsets that are right along one axis: centre of mass + offset within 0.5 of 14, box inside the field.

    If none keeps the box inside, the one nearest to the ideal 14 - center that does (the box against the edge).
    """
    inside = range(FIELD - size + 1)
    good = [d for d in inside if abs(center + d - CENTER) <= 0.5 + 1e-9]
    return good or [int(np.clip(np.rint(CENTER - center), 0, FIELD - size))]


def _mistake(dy, dx, row, col, h, w):
    """A hint naming what the offset (dy, dx) did, if it is a classic mistake; else None."""
    def inside(d, size):
        return int(np.clip(d, 0, FIELD - size))

    box = {((FIELD - h) // 2, (FIELD - w) // 2), (round((FIELD - h) / 2), round((FIELD - w) / 2))}
    if (dy, dx) in box:
        return ("you centred the box (its middle is at the middle of the field), not the centre of mass: MNIST puts "
                "the ink's centre of mass, computed as in section 2, at (14, 14)")
    if (dy, dx) == (inside(np.rint(CENTER - col), h), inside(np.rint(CENTER - row), w)):
        return ("you swapped rows and columns: the row offset dy comes from the centre of mass's row, the column "
                "offset dx from its column")
    if (dy, dx) == (inside(np.rint(row - CENTER), h), inside(np.rint(col - CENTER), w)):
        return ("the shift goes the wrong way: a digit whose centre of mass is at row 9 must move down by 5 rows, to "
                "14, so the offset is 14 minus the centre of mass")
    if (dy, dx) == (inside(np.trunc(CENTER - row), h), inside(np.trunc(CENTER - col), w)):
        return ("the centre of mass ends up to a pixel off: int() cuts the fraction off, so 4.9 becomes 4; round the "
                "offset to the nearest whole pixel")
    if (dy, dx) in {(inside(np.rint(CENTER - row - 1), h), inside(np.rint(CENTER - col - 1), w)),
                    (inside(np.rint(CENTER - row + 1), h), inside(np.rint(CENTER - col + 1), w))}:
        return ("the centre of mass lands one pixel off (14, 14): the pixel indices start at 0, in the centre of mass "
                "(np.arange(h)) as in the field, whose centre is index 14")
    return None


@checker(lesson=8, fallback=draw.place_in_field, signature="fn(small) with small of shape (h, w), h, w <= 28",
         mathnn=(draw.preprocess,))
def place_in_field(c, fn):
    """Check ``fn(small) -> field (28, 28)``: small pasted unchanged, its centre of mass within 0.5 px of (14, 14).

    Where that would push ink over an edge, the box stays inside, as close to it as it can.
    As ``mn.draw.place_in_field``.
    """
    for name, small in _cases():
        h, w = small.shape
        out = c.call(fn, small, keep=("small",), on_error={
            ValueError: (" — the box did not fit where you pasted it: the offsets must keep all h rows and w columns "
                         "inside the field (from 0 to 28 - h rows down), even for a lopsided digit"),
            IndexError: " — the offsets must be whole numbers from 0 to 28 - h (rows) and 28 - w (columns)",
            TypeError: " — slice indices must be ints: turn the rounded offsets into int(...)"},
            fix="paste it into a new array of zeros «np.zeros((28, 28))», and leave small as it is")
        c.require(isinstance(out, np.ndarray) and not isinstance(out, np.matrix),
                  f"for {name} your function returned a {type(out).__name__}, not a NumPy array: build the field "
                  f"of zeros «np.zeros((28, 28))» and return it")
        if out.shape == (FIELD * FIELD, 1):
            raise _Fail("your function returned the column (784, 1); return the 28 x 28 field itself (preprocess "
                        "reshapes it)")
        c.require(out.shape == (FIELD, FIELD), f"for {name} your field has shape {out.shape}; expected (28, 28)")
        c.require(np.issubdtype(out.dtype, np.floating),
                  f"your field has dtype {out.dtype}: the grey levels of small (between 0 and 1) need a float "
                  f"array «np.zeros((28, 28))»")
        c.require(np.all(np.isfinite(out)), f"for {name} your field holds NaN or inf (np.empty instead of np.zeros?)")
        found = _placements(out, small)
        if not found:
            hint = f"for {name} ({h} x {w}) your field does not hold small unchanged with zeros around it"
            if _placements(out.T, small):
                hint += ": it is transposed (rows and columns swapped)"
            elif out.sum() > 0 and _placements(out * small.max() / out.max(), small):
                hint += ": the values were rescaled; paste small as it is"
            else:
                hint += ("; paste it «with field[dy:dy + h, dx:dx + w] = small» into a field of zeros, at whole-pixel "
                         "offsets")
            raise _Fail(hint)
        c.passed += 1
        (dy, dx), (row, col) = found[0], draw.center_of_mass(small)
        good_dy, good_dx = _right_offsets(row, h), _right_offsets(col, w)
        if dy in good_dy and dx in good_dx:
            c.passed += 1
            continue
        where = (f"for {name} your field has its centre of mass at ({row + dy:.2f}, {col + dx:.2f}); expected "
                 f"within half a pixel of (14, 14)")
        if len(good_dy) == 1 and good_dy[0] in (0, FIELD - h) and abs(row + good_dy[0] - CENTER) > 0.5 or \
                len(good_dx) == 1 and good_dx[0] in (0, FIELD - w) and abs(col + good_dx[0] - CENTER) > 0.5:
            where = (f"for {name} the centre of mass cannot reach (14, 14) with the box inside the field: move the "
                     f"box only as far as the edge allows (offset {good_dy[0]}, {good_dx[0]}); yours is ({dy}, {dx})")
        mistake = _mistake(dy, dx, row, col, h, w)
        raise _Fail(f"{where}: {mistake}" if mistake else where)
