"""mathnn.check, lesson 08: place_in_field, step 4 of the drawing pipeline.

As in test_check.py: every typical wrong answer is refused with the hint that names its mistake (and the lesson
goes on with mathnn's version); every valid way of writing it passes.
"""

import numpy as np
import pytest
from check_helpers import assert_hint, assert_passes

import mathnn as mn
from mathnn import check


def com(a):
    """Centre of mass (row, column) of a 2-D array, written without mathnn."""
    rows, cols = np.indices(a.shape)
    return float((rows * a).sum() / a.sum()), float((cols * a).sum() / a.sum())


def placing(offsets, *, dtype=float, background=0.0, out=None, transpose=False, rescale=False, threshold=False):
    """A place_in_field whose offsets come from offsets(row, col, h, w); the switches plant the other mistakes."""
    def place_in_field(small):
        if threshold:
            small[small < 0.1] = 0  # in place: changes the caller's array
        h, w = small.shape
        dy, dx = offsets(*com(small), h, w)
        field = np.full((28, 28), background, dtype=dtype)
        field[dy:dy + h, dx:dx + w] = small / small.max() if rescale else small
        field = field.T if transpose else field
        return out(field) if out else field
    return place_in_field


def nearest(row, col, h, w):
    """The right offsets: rounded, then kept inside the field."""
    return int(np.clip(round(14 - row), 0, 28 - h)), int(np.clip(round(14 - col), 0, 28 - w))


def ties_up(row, col, h, w):  # floor(x + 0.5): ties go up instead of to the even pixel
    return int(min(max(np.floor(14.5 - row), 0), 28 - h)), int(min(max(np.floor(14.5 - col), 0), 28 - w))


def padded(small):  # np.pad instead of pasting into zeros
    h, w = small.shape
    dy, dx = nearest(*com(small), h, w)
    return np.pad(small, ((dy, 28 - h - dy), (dx, 28 - w - dx)))


def rolled(small):  # paste at the corner, then roll into place
    h, w = small.shape
    dy, dx = nearest(*mn.draw.center_of_mass(small), h, w)
    field = np.zeros((28, 28))
    field[:h, :w] = small
    return np.roll(field, (dy, dx), axis=(0, 1))


def averaged(small):  # the centre of mass with np.average, the clamp with min/max
    h, w = small.shape
    row = np.average(np.arange(h), weights=small.sum(axis=1))
    col = np.average(np.arange(w), weights=small.sum(axis=0))
    dy, dx = min(max(int(np.rint(14 - row)), 0), 28 - h), min(max(int(np.rint(14 - col)), 0), 28 - w)
    field = np.zeros((28, 28), dtype=np.float32)  # float32 holds the grey levels too
    field[dy:dy + h, dx:dx + w] = small
    return field


def lessons_solution(small):  # what lesson 08's solution writes
    h, w = small.shape
    row, col = mn.draw.center_of_mass(small)
    dy = int(np.clip(np.rint(14 - row), 0, 28 - h))
    dx = int(np.clip(np.rint(14 - col), 0, 28 - w))
    field = np.zeros((28, 28))
    field[dy:dy + h, dx:dx + w] = small
    return field


@pytest.mark.parametrize("right", [placing(nearest), placing(ties_up), padded, rolled, averaged, lessons_solution,
                                   placing(nearest, dtype=np.float32)])
def test_place_in_field_passes_valid_alternatives(right, capsys):
    assert_passes(check.place_in_field, right, capsys)


def calls_mathnn(small):
    return mn.draw.place_in_field(small)


def via_preprocess(small):
    return mn.preprocess(small).reshape(28, 28)


def box_centred(row, col, h, w):
    return (28 - h) // 2, (28 - w) // 2


def unclamped(row, col, h, w):
    return int(round(14 - row)), int(round(14 - col))


@pytest.mark.parametrize(("wrong", "phrase"), [
    (placing(box_centred), "you centred the box"),
    (placing(lambda row, col, h, w: (int(np.clip(round(row - 14), 0, 28 - h)), int(np.clip(round(col - 14), 0,
                                                                                          28 - w)))), "wrong way"),
    (placing(lambda row, col, h, w: (int(np.clip(round(14 - col), 0, 28 - h)), int(np.clip(round(14 - row), 0,
                                                                                          28 - w)))), "swapped rows"),
    (placing(lambda row, col, h, w: (int(np.clip(int(14 - row), 0, 28 - h)), int(np.clip(int(14 - col), 0,
                                                                                        28 - w)))), "int() cuts"),
    (placing(lambda row, col, h, w: nearest(row + 1, col + 1, h, w)), "start at 0"),
    (placing(unclamped), "did not fit"),
    (placing(lambda row, col, h, w: (14 - row, 14 - col)), "slice indices must be ints"),
    (placing(lambda row, col, h, w: (nearest(row, col, h, w)[0], 0)), "expected within half a pixel of (14, 14)"),
    (placing(lambda row, col, h, w: nearest(row + 0.5, col + 0.5, h, w)), "within half a pixel of (14, 14)"),
    (placing(nearest, out=lambda field: field.reshape(784, 1)), "return the 28 x 28 field"),
    (placing(nearest, out=lambda field: field.tolist()), "not a NumPy array"),
    (placing(nearest, out=np.asmatrix), "not a NumPy array"),
    (placing(nearest, transpose=True), "transposed"),
    (placing(nearest, rescale=True), "rescaled"),
    (placing(nearest, threshold=True), "leave small as it is"),
    (placing(nearest, background=0.01), "with zeros around it"),
    (placing(nearest, dtype=int), "need a float array"),
    (calls_mathnn, "you called mn.draw.place_in_field"),
    (via_preprocess, "you called mn.preprocess"),
])
def test_place_in_field_refuses_typical_mistakes(wrong, phrase, capsys):
    assert_hint(check.place_in_field, wrong, phrase, capsys)


def test_place_in_field_stub_not_written(capsys):
    def place_in_field(small):
        raise NotImplementedError("Write step 4 here")

    result = check.place_in_field(place_in_field)
    assert result is check.place_in_field.fallback
    assert "not written yet" in capsys.readouterr().out


def test_mathnn_place_in_field_is_step_4_of_preprocess():
    canvas = mn.draw.render_strokes([[(30, 40), (150, 40), (80, 200)]])
    x = mn.preprocess(canvas)  # (784, 1)
    top, bottom, left, right = mn.draw.bounding_box(x.reshape(28, 28))
    small = x.reshape(28, 28)[top:bottom, left:right].astype(np.float64)
    np.testing.assert_array_equal(mn.draw.place_in_field(small).astype(np.float32), x.reshape(28, 28))
    assert abs(mn.draw.center_of_mass(mn.draw.place_in_field(small))[0] - 14) <= 0.5
