"""Draw a digit: turn a drawing into an MNIST-style input column.

MNIST's digits were made in three steps (LeCun et al.): the ink was scaled to fit a
20 x 20 box, keeping its aspect ratio, with anti-aliasing (so edges became grey);
the 20 x 20 box was then placed in a 28 x 28 field so that the centre of mass of the
ink sits at the centre of the field. :func:`preprocess` repeats these steps for any
grayscale drawing (ink > 0, background 0), so the network sees what it was trained on:

    x = preprocess(image)          # (784, 1) float32 in [0, 1], or None for a blank image
    probs, _ = forward(params, x)  # (10, 1)

The centre of mass of an MNIST digit, in pixel indices (row, column), is within half a
pixel of (14, 14): the shift was by whole pixels. ``preprocess`` does the same.

The drawing pad of lesson 08 (:class:`mathnn.widgets.DrawingPad`) is a thin layer on top: an
ipycanvas canvas that records the mouse strokes, redraws them with :func:`render_strokes`, and
shows the prediction after each stroke (:func:`predict_proba`, :func:`chart_png`). Everything it
computes is also callable here, without a mouse.
"""


import numpy as np

from mathnn.network import forward

__all__ = ["BOX", "CENTER", "area_matrix", "bounding_box", "center_of_mass", "chart_png",
           "place_in_field", "predict_proba", "preprocess", "render_strokes", "resize"]

BOX = 20  # the longer side of the digit after scaling, in pixels
FIELD = 28  # the output is FIELD x FIELD
CENTER = 14.0  # target centre of mass (row, column) in pixel indices, as in MNIST
MIN_INK = 1e-3  # an image whose brightest pixel is fainter than this (in its own units) is blank


def area_matrix(n_in, n_out):
    """Resampling weights R (n_out, n_in): row i averages the input over output pixel i's footprint.

    Output pixel i covers the input interval [i s, (i + 1) s) with s = n_in / n_out; R[i, j]
    is the length of the overlap of that interval with input pixel j = [j, j + 1), divided by s.
    Every row sums to 1, so ``R @ a`` is an area average: anti-aliased when shrinking
    (s > 1), piecewise constant when enlarging (s < 1).
    """
    s = n_in / n_out
    lo = (np.arange(n_out) * s)[:, None]  # (n_out, 1) footprint starts
    j = np.arange(n_in)[None, :]  # (1, n_in) input pixel starts
    overlap = np.minimum(lo + s, j + 1) - np.maximum(lo, j)  # (n_out, n_in)
    return np.clip(overlap, 0, None) / s


def resize(a, shape):
    """Resize a 2-D array a (h, w) to ``shape`` (h2, w2) by area averaging: R_rows @ a @ R_cols.T."""
    h2, w2 = shape
    R_rows = area_matrix(a.shape[0], h2)  # (h2, h)
    R_cols = area_matrix(a.shape[1], w2)  # (w2, w)
    return R_rows @ a @ R_cols.T  # (h2, h) @ (h, w) @ (w, w2) -> (h2, w2)


def center_of_mass(a):
    """Centre of mass (row, column) of a 2-D array a (h, w) of non-negative weights, in pixel indices."""
    a = np.asarray(a, dtype=np.float64)
    total = a.sum()
    rows = a.sum(axis=1) @ np.arange(a.shape[0]) / total  # (h,) @ (h,) -> (): ink-weighted mean row
    cols = a.sum(axis=0) @ np.arange(a.shape[1]) / total  # (w,) @ (w,) -> (): ink-weighted mean column
    return float(rows), float(cols)


def place_in_field(small):
    """Step 4 of :func:`preprocess`: a digit small (h, w), h and w at most 28, pasted into a 28 x 28 field.

    It is shifted by whole pixels so that its centre of mass lands within half a pixel of (14, 14), row and
    column; if that would push ink over an edge, the box is moved back just enough to stay inside the field.
    Returns a new float64 array (28, 28), 0 outside the pasted box; small is left as it is.
    """
    h, w = small.shape
    row, col = center_of_mass(small)
    dy = int(np.clip(np.rint(CENTER - row), 0, FIELD - h))  # rows above the box
    dx = int(np.clip(np.rint(CENTER - col), 0, FIELD - w))  # columns left of the box
    field = np.zeros((FIELD, FIELD))
    field[dy:dy + h, dx:dx + w] = small
    return field


def bounding_box(a, threshold=0.0):
    """Bounding box of the pixels > threshold of a 2-D array a (H, W).

    Returns (top, bottom, left, right) as ints, bottom/right exclusive, so that
    ``a[top:bottom, left:right]`` (at most (H, W)) holds all of them; None if there are none.
    """
    ink = np.asarray(a) > threshold
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def preprocess(image, threshold=0.05):
    """A grayscale drawing (H, W), ink > 0 on a 0 background, as an MNIST input column (784, 1).

    1. scale the ink to [0, 1] (divide by its maximum; any dtype, e.g. uint8 0-255);
    2. crop to the bounding box of the pixels brighter than ``threshold`` (faint specks
       below it don't stretch the box);
    3. resize by area averaging so that the longer side is 20 px, keeping the aspect ratio;
    4. paste into a 28 x 28 field, shifted by whole pixels so the centre of mass lands
       within half a pixel of (14, 14). If that would push ink over the edge (a very
       lopsided drawing), the box is moved back just enough to stay inside the field.

    Returns float32 (784, 1) in [0, 1], row-major like ``load_mnist``, or None when the
    image is blank: no pixel reaches ``MIN_INK`` (1e-3, below one grey level of a 0-255 image
    scaled to [0, 1]), so there is nothing to read. Step 1 would blow a fainter speck, such
    as 1e-9 of rounding noise, up to full ink and step 3 into a solid 20 x 20 square.
    """
    a = np.asarray(image)
    if a.ndim != 2:
        raise ValueError(f"preprocess() needs a 2-D grayscale image (H, W), got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("preprocess(): the image contains NaN or infinite values")
    a = np.clip(a, 0, None)
    peak = a.max() if a.size else 0.0
    if peak < MIN_INK:
        return None  # blank: no ink, or only specks of rounding noise
    a /= peak  # (1)
    top, bottom, left, right = bounding_box(a, threshold)  # (2)
    crop = a[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)  # (3)
    h2, w2 = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.clip(resize(crop, (h2, w2)), 0, 1)
    field = place_in_field(small)  # (4)
    return field.reshape(FIELD * FIELD, 1).astype(np.float32)


def render_strokes(strokes, size=(280, 280), width=20.0):
    """Rasterize strokes (lists of (x, y) points, x to the right, y down) as an anti-aliased image.

    Each stroke is a polyline drawn with a round pen of diameter ``width``; a stroke of one
    point is a dot. Returns float64 (height, width) = ``size`` with ink 1 on a 0 background:
    a pixel's ink is 1 within width/2 of the line (distance from its centre), fading to 0
    over one pixel.
    """
    height, width_px = size
    image = np.zeros((height, width_px))
    r = width / 2
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        segments = zip(pts[:-1], pts[1:]) if len(pts) > 1 else [(pts[0], pts[0])]
        for p, q in segments:
            x0 = max(int(np.floor(min(p[0], q[0]) - r - 1)), 0)
            x1 = min(int(np.ceil(max(p[0], q[0]) + r + 1)), width_px)
            y0 = max(int(np.floor(min(p[1], q[1]) - r - 1)), 0)
            y1 = min(int(np.ceil(max(p[1], q[1]) + r + 1)), height)
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5  # pixel centres
            d = q - p
            length2 = d @ d  # (2,) @ (2,) -> (): squared length of the segment
            t = 0.0 if length2 == 0 else np.clip(((xs - p[0]) * d[0] + (ys - p[1]) * d[1]) / length2, 0, 1)
            dist = np.hypot(xs - (p[0] + t * d[0]), ys - (p[1] + t * d[1]))
            ink = np.clip(r + 0.5 - dist, 0, 1)
            np.maximum(image[y0:y1, x0:x1], ink, out=image[y0:y1, x0:x1])
    return image


def predict_proba(params, x):
    """Softmax probabilities (10,) of one input column x (784, 1)."""
    A, _ = forward(params, x)  # (10, 1)
    return A[:, 0]


def chart_png(x, probs, title=None):
    """PNG bytes: the 28 x 28 input the network sees, and its 10 probabilities as bars.

    x: the input column (784, 1), or None for a blank pad (an empty field);
    probs: the softmax probabilities (10,), or None (no bars); title: the bar chart's title.
    """
    from matplotlib.figure import Figure

    from mathnn.plots import png_bytes

    fig = Figure(figsize=(5.6, 2.4))
    ax_img, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.8]})
    ax_img.imshow(np.zeros((FIELD, FIELD)) if x is None else x.reshape(FIELD, FIELD), cmap="gray_r", vmin=0, vmax=1)
    ax_img.set_title("what the network sees", fontsize=9)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    probs = np.zeros(10) if probs is None else np.asarray(probs)
    colors = ["lightgray"] * 10
    if probs.any():
        colors[int(probs.argmax())] = "crimson"
    ax_bar.bar(np.arange(10), probs, color=colors)
    ax_bar.set(xticks=range(10), ylim=(0, 1), xlabel="digit", title=title or "softmax probabilities")
    ax_bar.title.set_fontsize(9)
    fig.tight_layout()
    return png_bytes(fig)
