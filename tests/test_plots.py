"""mathnn/plots.py: the palette, show() with alt text, LiveCurve, show_hidden_weights; and the lessons' figures."""

import ast
import io
import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

import mathnn as mn  # noqa: E402
from mathnn.plots import png_bytes  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[01][0-9]_*.ipynb"))  # the complete lessons 00..10, not notebooks/learner/

# Machado, Oliveira and Fernandes (2009): full-severity colour-vision deficiencies, on linear RGB
VISION = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def linear_rgb(color):
    c = np.asarray(to_rgb(color))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def cielab(linear):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def contrast_with_white(color):
    luminance = np.array([0.2126, 0.7152, 0.0722]) @ linear_rgb(color)
    return 1.05 / (luminance + 0.05)


PALETTES = {"INIT_COLORS": mn.plots.INIT_COLORS, "OPTIMIZER_COLORS": mn.plots.OPTIMIZER_COLORS,
            "CYCLE": dict(enumerate(mn.plots.CYCLE))}


def test_every_scheme_and_every_optimizer_has_its_colour():
    assert set(mn.plots.INIT_COLORS) == set(mn.INITS)
    assert set(mn.plots.OPTIMIZER_COLORS) == {"sgd", "momentum", "adam"}


@pytest.mark.parametrize("name", PALETTES)
@pytest.mark.parametrize("vision", VISION)
def test_palette_colours_stay_apart_for_colour_blind_eyes(name, vision):
    labs = {key: cielab(np.clip(VISION[vision] @ linear_rgb(c), 0, 1)) for key, c in PALETTES[name].items()}
    closest = min(itertools.combinations(labs, 2), key=lambda pair: np.linalg.norm(labs[pair[0]] - labs[pair[1]]))
    assert np.linalg.norm(labs[closest[0]] - labs[closest[1]]) > 15, (vision, closest)  # CIE76 Delta E


@pytest.mark.parametrize("name", PALETTES)
def test_palette_colours_are_readable_on_white(name):
    low = {key: round(contrast_with_white(c), 2) for key, c in PALETTES[name].items() if contrast_with_white(c) < 3}
    assert not low, f"below the 3:1 contrast WCAG asks of graphics: {low}"


class Recorder:
    """Stands in for IPython.display.display: keeps every call, hands out display handles."""

    def __init__(self):
        self.calls, self.updates = [], []

    def __call__(self, data, metadata=None, raw=False, display_id=None):
        self.calls.append({"data": data, "metadata": metadata, "raw": raw, "display_id": display_id})
        if display_id:
            recorder = self

            class Handle:
                def update(self, data, metadata=None, raw=False):
                    recorder.updates.append({"data": data, "metadata": metadata, "raw": raw})

            return Handle()
        return None


@pytest.fixture
def shown(monkeypatch):
    import IPython.display

    recorder = Recorder()
    monkeypatch.setattr(IPython.display, "display", recorder)
    return recorder


def test_show_displays_the_figure_once_with_its_alt_text_and_closes_it(shown):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    alt = 'a line through (1, 3), (2, 1) and (3, 2): "down, then up" <zig-zag>'
    assert mn.show(fig, alt=alt) is None  # a cell ending in mn.show(...) shows no second copy as its value
    assert len(shown.calls) == 1 and shown.calls[0]["raw"]
    data, metadata = shown.calls[0]["data"], shown.calls[0]["metadata"]
    assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    assert data["text/html"] == (f'<img src="data:image/png;base64,{data["image/png"]}" alt="a line through (1, 3), '
                                 '(2, 1) and (3, 2): &quot;down, then up&quot; &lt;zig-zag&gt;">')
    assert data["text/plain"] == alt and metadata == {"image/png": {"alt": alt}}
    assert not plt.fignum_exists(fig.number), "closed: the inline backend must not show it a second time"


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_show_refuses_a_figure_without_alt_text(shown, alt):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt must say what the figure shows"):
        mn.show(fig, alt=alt)
    assert not shown.calls
    plt.close(fig)


def test_figures_are_drawn_on_opaque_white_even_when_the_figure_is_transparent():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    fig.patch.set_alpha(0)
    ax.patch.set_alpha(0)
    for tight in (False, True):
        image = matplotlib.image.imread(io.BytesIO(png_bytes(fig, tight=tight)), format="png")  # (h, w, 4) floats
        assert image[..., 3].min() == 1.0
        np.testing.assert_array_equal(image[0, 0, :3], [1, 1, 1])
    plt.close(fig)


def history(val_acc, train_loss=None, epochs=3):
    h = mn.History()
    h.epoch = list(range(1, epochs + 1))
    h.train_loss = train_loss or list(np.linspace(1.0, 0.3, epochs))
    h.val_loss = [x + 0.05 for x in h.train_loss]
    h.val_acc = list(val_acc)
    return h


def test_live_curve_ticks_whole_epochs():
    curve = mn.LiveCurve(display=False)
    curve.update(history([0.80, 0.85, 0.90]), label="run")
    png_bytes(curve.fig)  # lays the figure out, places the ticks
    for ax in (curve.ax_loss, curve.ax_acc):
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


def test_live_curve_legend_sits_outside_both_axes():
    curve = mn.LiveCurve(display=False)
    curve.update(history([0.80, 0.85, 0.90]), label="he", color=mn.plots.INIT_COLORS["he"])
    curve.update(history([0.70, 0.75, 0.80]), label="small", color=mn.plots.INIT_COLORS["small"])
    png_bytes(curve.fig)  # lays the figure out
    (legend,) = curve.fig.legends
    box = legend.get_window_extent()
    for ax in (curve.ax_loss, curve.ax_acc):
        assert not box.overlaps(ax.get_window_extent()), "the legend covers the curves"
    assert [t.get_text() for t in legend.get_texts()][:2] == ["he", "small"]
    colors = mn.plots.INIT_COLORS
    assert [h.get_color() for h in legend.legend_handles[:2]] == [colors["he"], colors["small"]]


def test_live_curve_accuracy_axis_does_not_magnify_a_one_point_gap():
    curve = mn.LiveCurve(display=False)
    curve.update(history([0.930, 0.935, 0.940]), label="a")
    curve.update(history([0.925, 0.930, 0.930]), label="b")
    low, high = curve.ax_acc.get_ylim()
    assert high - low >= 0.1 and low <= 0.925 and high >= 0.94


def test_accuracy_limits_stay_within_0_and_1():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [0.99, 1.0])
    mn.set_accuracy_limits(ax)
    assert ax.get_ylim() == pytest.approx((0.9, 1.0))
    plt.close(fig)


def test_live_curve_draws_other_seeds_thin_in_the_same_colour_and_says_the_spread():
    curve = mn.LiveCurve(display=False, title="two seeds")
    curve.update(history([0.80, 0.85, 0.90]), label="lr=0.1", seed=0)
    curve.update(history([0.81, 0.86, 0.88]), label="lr=0.1", seed=1)
    assert list(curve.runs) == ["lr=0.1"] and list(curve.other_seeds["lr=0.1"]) == [1]
    widths = sorted({line.get_linewidth() for line in curve.ax_acc.lines})
    assert len(curve.ax_acc.lines) == 2 and widths[0] < widths[-1]
    assert len({line.get_color() for line in curve.ax_acc.lines}) == 1
    assert "validation accuracy 80.0% after epoch 1, 90.0% after epoch 3 (88.0% to 90.0% over 2 seeds)" \
        in curve.alt_text()


def test_live_curve_shows_its_png_with_alt_text_and_updates_the_same_output(shown):
    curve = mn.LiveCurve(title="784-10-10")
    assert len(shown.calls) == 1 and shown.calls[0]["display_id"] is True
    assert "No epoch finished yet" in shown.calls[0]["data"]["text/plain"]
    curve.update(history([0.80, 0.85, 0.90], train_loss=[1.2, 0.6, 0.4]), label="seed 0")
    assert len(shown.calls) == 1 and len(shown.updates) == 1  # redrawn in place, not a second output
    update = shown.updates[0]
    alt = update["metadata"]["image/png"]["alt"]
    assert alt.startswith("Learning curves, 784-10-10: loss (left) and validation accuracy (right) per epoch.")
    assert "seed 0: training loss 1.200 after epoch 1, 0.400 after epoch 3" in alt
    assert f'alt="{alt}"' in update["data"]["text/html"]


def test_hidden_weights_share_one_symmetric_scale_with_a_colorbar():
    W1 = np.random.default_rng(0).standard_normal((12, 784))  # (12, 784)
    W1[3] *= 10
    fig = mn.show_hidden_weights(W1)
    images = [image for ax in fig.axes for image in ax.images]
    assert len(images) == 12
    limit = np.abs(W1).max()
    assert {image.get_clim() for image in images} == {(-limit, limit)}
    (colorbar,) = [image.colorbar for image in images if image.colorbar is not None]
    assert colorbar.ax.get_ylabel() == "weight" and colorbar.mappable.get_clim() == (-limit, limit)
    shared = mn.show_hidden_weights(W1, limit=2.5)
    assert {image.get_clim() for ax in shared.axes for image in ax.images} == {(-2.5, 2.5)}
    plt.close("all")


# --- the lessons: every figure goes through mn.show with alt text ---------------------------------------------------

FIGURE_MAKERS = {"subplots", "figure", "show_digits", "show_hidden_weights", "show_confusion"}


def code_cells(path):
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            yield index, ast.parse("\n".join(lines))


def called(node):
    """The name of the function a Call calls: "show" for mn.show(...), "subplots" for plt.subplots(...)."""
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def is_mn_show(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "show"
            and getattr(node.func.value, "id", None) == "mn")


def figure_problems(tree):
    """What is wrong with how a cell shows its figures, as a list of strings (empty: nothing)."""
    problems = []
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    shows = [node for node in calls if is_mn_show(node)]
    for node in calls:
        if called(node) == "show" and not is_mn_show(node):
            problems.append(f"line {node.lineno}: {ast.unparse(node)} (show figures with mn.show(fig, alt=...))")
    for node in shows:
        alt = next((k.value for k in node.keywords if k.arg == "alt"), node.args[1] if len(node.args) > 1 else None)
        if alt is None or (isinstance(alt, ast.Constant) and not str(alt.value).strip()):
            problems.append(f"line {node.lineno}: mn.show without alt text")
    for node in calls:
        keywords = {k.arg: k.value for k in node.keywords}
        outside = "bbox_to_anchor" in keywords or "outside" in str(getattr(keywords.get("loc"), "value", ""))
        if called(node) == "legend" and not outside:
            problems.append(f"line {node.lineno}: a legend inside the axes, over the curves (bbox_to_anchor=(1.01, 1))")
    makers = [node for node in calls if called(node) in FIGURE_MAKERS]
    if makers and not shows:
        problems.append(f"line {makers[0].lineno}: a figure is made but never passed to mn.show")
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
                and called(statement.value) in FIGURE_MAKERS:
            problems.append(f"line {statement.lineno}: {called(statement.value)}(...)'s figure is dropped or shown "
                            "as the cell's value (no alt text); pass it to mn.show")
    if tree.body and isinstance(tree.body[-1], ast.Expr) and isinstance(tree.body[-1].value, ast.Name) \
            and tree.body[-1].value.id in {"fig", "figure"}:
        problems.append("the cell ends with its figure as its value: use mn.show(fig, alt=...)")
    return problems


def test_the_lesson_scan_finds_figures_shown_without_alt_text():
    assert figure_problems(ast.parse("import mathnn as mn\nfig, ax = plt.subplots()\nmn.show(fig, alt='a line')")) == []
    bad = {"fig, ax = plt.subplots()\nax.plot([1])\nplt.show()": "plt.show()",
           "fig, ax = plt.subplots()\nmn.show(fig, alt='')": "without alt text",
           "fig, ax = plt.subplots()\nmn.show(fig)": "without alt text",
           "mn.show_digits(X, y)": "dropped",
           "fig, ax = plt.subplots()\nfig": "never passed to mn.show",
           "fig, ax = plt.subplots()\nax.legend(loc='upper right')\nmn.show(fig, alt='x')": "legend inside"}
    for source, problem in bad.items():
        assert any(problem in p for p in figure_problems(ast.parse(source))), source


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_figure_of_a_lesson_is_shown_with_alt_text(path):
    problems = [f"cell {index}: {p}" for index, tree in code_cells(path) for p in figure_problems(tree)]
    assert not problems, "\n".join(problems)


def test_the_scan_sees_all_eleven_lessons_and_their_figures():
    assert [p.stem[:2] for p in LESSONS] == [f"{n:02d}" for n in range(11)]
    shows = sum(is_mn_show(node) for path in LESSONS for _, tree in code_cells(path) for node in ast.walk(tree))
    assert shows >= 30, shows
