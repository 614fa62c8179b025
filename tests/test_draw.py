"""mathnn.draw: MNIST-style preprocessing of drawings, stroke rendering, and the drawing pad."""

import numpy as np
import pytest

import mathnn as mn
from mathnn.draw import (
    BOX,
    CENTER,
    area_matrix,
    bounding_box,
    center_of_mass,
    chart_png,
    preprocess,
    render_strokes,
    resize,
)
from mathnn.widgets import DrawingPad

SEVEN = [[(70, 50), (210, 50), (120, 240)]]  # a "7" on a 280 x 280 canvas
ONE = [[(140, 40), (140, 240)]]
ZERO = [[(140 + 60 * np.cos(t), 140 + 95 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 60)]]


def field(x):
    return x.reshape(28, 28)


def shifted(strokes, dx, dy, k=1.0):
    """The strokes scaled by k about the origin, then moved by (dx, dy)."""
    return [[(k * x + dx, k * y + dy) for x, y in stroke] for stroke in strokes]


def similarity(a, b):
    """Cosine similarity of two images."""
    a, b = a.ravel(), b.ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# --- resampling -----------------------------------------------------------------------

@pytest.mark.parametrize("n_in, n_out", [(280, 20), (37, 20), (20, 20), (5, 20), (1, 3)])
def test_area_matrix_rows_are_averages(n_in, n_out):
    R = area_matrix(n_in, n_out)
    assert R.shape == (n_out, n_in)
    assert (R >= 0).all()
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    np.testing.assert_allclose(R.sum(axis=0), n_out / n_in)  # every input pixel is used in full


def test_resize_identity_and_mass():
    a = np.random.default_rng(0).random((13, 7))
    np.testing.assert_allclose(resize(a, (13, 7)), a)
    small = resize(a, (5, 3))
    np.testing.assert_allclose(small.mean(), a.mean())  # area averaging keeps the mean ink
    np.testing.assert_allclose(resize(np.ones((280, 140)), (20, 10)), 1.0)


def test_resize_is_anti_aliased():
    """A 1-px line in a 10 x 10 image shrunk to 2 x 2 becomes grey, not black or gone."""
    a = np.zeros((10, 10))
    a[:, 2] = 1
    np.testing.assert_allclose(resize(a, (2, 2)), [[0.2, 0], [0.2, 0]])


def test_center_of_mass_and_bounding_box():
    a = np.zeros((5, 6))
    a[1, 2] = a[3, 4] = 1
    assert center_of_mass(a) == (2.0, 3.0)
    assert bounding_box(a) == (1, 4, 2, 5)
    assert bounding_box(np.zeros((3, 3))) is None


# --- preprocess -----------------------------------------------------------------------

@pytest.mark.parametrize("strokes", [SEVEN, ONE, ZERO], ids=["seven", "one", "zero"])
def test_preprocess_is_mnist_like(strokes):
    x = preprocess(render_strokes(strokes))
    assert x.shape == (784, 1) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.9
    top, bottom, left, right = bounding_box(field(x))
    assert max(bottom - top, right - left) == BOX  # the longer side is scaled to 20 px
    assert bottom - top <= BOX and right - left <= BOX
    row, col = center_of_mass(field(x))
    assert abs(row - CENTER) <= 0.5 and abs(col - CENTER) <= 0.5, (row, col)


def test_preprocess_keeps_aspect_ratio():
    x = field(preprocess(render_strokes(ONE)))  # a tall thin line: 200 x 20 px with the pen
    top, bottom, left, right = bounding_box(x)
    assert bottom - top == 20 and right - left == 2  # 220 x 20 ink -> 20 x 1.8 -> 20 x 2


@pytest.mark.parametrize("dx, dy", [(-60, -40), (50, 20), (0, 30)])
def test_preprocess_ignores_where_the_digit_is(dx, dy):
    base = preprocess(render_strokes(SEVEN))
    moved = preprocess(render_strokes(shifted(SEVEN, dx, dy)))
    np.testing.assert_allclose(moved, base, atol=1e-6)  # whole-pixel moves: the same input
    half = preprocess(render_strokes(shifted(SEVEN, dx + 0.5, dy + 0.3)))
    assert similarity(half, base) > 0.97


@pytest.mark.parametrize("k", [0.4, 0.6, 1.2])
def test_preprocess_ignores_how_big_the_digit_is(k):
    """The same digit drawn k times as large (with a k times thicker pen) gives nearly the same input."""
    base = preprocess(render_strokes(SEVEN, size=(400, 400), width=20))
    scaled = preprocess(render_strokes(shifted(SEVEN, 10, 10, k), size=(400, 400), width=20 * k))
    assert similarity(scaled, base) > 0.95
    assert np.abs(scaled - base).mean() < 0.05


def test_preprocess_any_canvas_size_and_dtype():
    image = render_strokes(SEVEN)
    base = preprocess(image)
    np.testing.assert_allclose(preprocess((image * 255).round().astype(np.uint8)), base, atol=0.01)
    np.testing.assert_allclose(preprocess(image * 0.3), base, atol=1e-6)  # faint ink is scaled up
    wide = np.zeros((300, 500))
    wide[10:290, 100:380] = image
    np.testing.assert_allclose(preprocess(wide), base, atol=1e-6)
    dot = np.zeros((4, 4))
    dot[1, 2] = 1
    x = field(preprocess(dot))  # a single pixel becomes a 20 x 20 square at the centre
    assert bounding_box(x) == (4, 24, 4, 24)


def test_preprocess_ignores_faint_specks():
    image = render_strokes(SEVEN)
    noisy = image.copy()
    noisy[275, 5] = 0.02  # a faint speck far away must not stretch the box
    np.testing.assert_allclose(preprocess(noisy), preprocess(image), atol=0.01)


def test_preprocess_blank_is_none():
    assert preprocess(np.zeros((280, 280))) is None
    assert preprocess(np.zeros((280, 280), dtype=np.uint8)) is None
    assert preprocess(-np.ones((10, 10))) is None  # negative values are no ink


@pytest.mark.parametrize("speck", [1e-9, 1e-300, 5e-4])
def test_preprocess_a_near_blank_image_is_blank(speck):
    """A speck far below one grey level (1/255) is not a drawing: it used to become a solid 20 x 20 square."""
    image = np.zeros((280, 280))
    image[100, 200] = speck
    assert preprocess(image) is None  # as for a blank canvas
    image[:50, :50] = speck  # a patch of noise is no more a drawing than one speck
    assert preprocess(image) is None


def test_preprocess_the_faintest_real_ink_still_counts():
    one_level = np.zeros((28, 28), dtype=np.uint8)
    one_level[10, 10] = 1  # one grey level of 255
    assert field(preprocess(one_level)).max() == 1  # scaled up to full ink, as any drawing
    np.testing.assert_array_equal(preprocess(one_level.astype(np.float64) / 255), preprocess(one_level))
    faint = render_strokes(SEVEN) * 2e-3  # a whole digit drawn very faintly: read as the digit
    np.testing.assert_allclose(preprocess(faint), preprocess(render_strokes(SEVEN)), atol=1e-5)


def test_preprocess_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D grayscale"):
        preprocess(np.zeros((28, 28, 4)))
    with pytest.raises(ValueError, match="NaN"):
        preprocess(np.full((5, 5), np.nan))


def test_preprocess_round_trips_mnist_digits():
    """MNIST digits drawn 10x larger come back (almost) as they were."""
    try:
        X, _ = mn.load_mnist("test", download=False)
    except mn.data.MNISTError as e:
        pytest.skip(f"MNIST not available offline: {e}")
    for j in range(20):
        digit = X[:, j].reshape(28, 28).astype(np.float64)
        x = preprocess(resize(digit, (280, 280)))
        assert np.abs(x[:, 0] - X[:, j]).max() < 0.1, j


# --- rendering and the pad ------------------------------------------------------------

def test_render_strokes():
    image = render_strokes([[(50, 50)]], size=(100, 120), width=10)  # a dot
    assert image.shape == (100, 120) and image.min() == 0 and image.max() == 1
    assert image[50, 50] == 1 and image[50, 56] == 0 and image[50, 62] == 0
    line = render_strokes([[(10, 20), (90, 20)]], size=(40, 100), width=4)
    assert (line[20, 10:90] == 1).all() and line[30].max() == 0
    assert render_strokes([]).max() == 0
    assert render_strokes([[(-50, -50), (-40, -40)]]).max() == 0  # off the canvas: nothing


def test_chart_png():
    png = chart_png(preprocess(render_strokes(SEVEN)), np.full(10, 0.1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart_png(None, None)[:4] == b"\x89PNG"


def test_drawing_pad_without_a_mouse():
    pytest.importorskip("ipycanvas")
    params = mn.init_params(rng=np.random.default_rng(0))
    pad = DrawingPad(params)
    assert pad.predicted is None and "draw a digit" in pad.prediction.value
    pad.mouse_move(10, 10)  # moving without the button down draws nothing
    assert pad.strokes == []
    pad.mouse_down(140, 40)
    for y in range(50, 250, 10):
        pad.mouse_move(140, y)
    pad.mouse_up(140, 240)
    assert len(pad.strokes) == 1 and len(pad.strokes[0]) == 21
    assert pad.predicted in range(10) and "prediction" in pad.prediction.value
    assert pad.probs.shape == (10,) and abs(pad.probs.sum() - 1) < 1e-5
    A, _ = mn.forward(params, preprocess(render_strokes(pad.strokes)))  # (10, 1)
    assert pad.predicted == int(A.argmax())
    assert pad.chart.value[:4] == b"\x89PNG"
    pad.clear()
    assert pad.strokes == [] and pad.predicted is None and "draw a digit" in pad.prediction.value


@pytest.mark.parametrize("kwargs, phrase", [
    ({"params": None}, "should be a dict with keys W1, b1"),
    ({"params": mn.init_params((100, 10, 10), rng=np.random.default_rng(0))}, "n0=784"),
    ({"size": 0}, "size must be a positive integer"),
    ({"size": 280.0}, "size must be a positive integer"),
    ({"width": -1}, "width must be the pen's width"),
    ({"width": 1000}, "at most size=280"),
])
def test_drawing_pad_refuses_what_it_cannot_draw_with(kwargs, phrase):
    """A pad for a network that doesn't read 784 pixels, or of no size, is refused before any widget is made."""
    pytest.importorskip("ipycanvas")
    arguments = {"params": mn.init_params((784, 10, 10), rng=np.random.default_rng(0))} | kwargs
    with pytest.raises(ValueError, match=phrase):
        DrawingPad(**arguments)
