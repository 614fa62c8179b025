"""The package as a whole: what ``import mathnn`` costs, and what ``mn.NAME`` offers."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import mathnn as mn
from mathnn import course as course_manifest


def run_python(code):
    """Run code in a fresh interpreter (nothing imported yet) and return its stdout."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout


def test_import_mathnn_imports_neither_matplotlib_nor_torch():
    out = run_python("import mathnn, sys; print('matplotlib' in sys.modules, 'torch' in sys.modules)")
    assert out.split() == ["False", "False"]


def test_plots_import_matplotlib_when_they_draw():
    out = run_python("import sys, numpy as np, mathnn as mn\n"
                     "fig = mn.show_digits(np.zeros((784, 3)), np.arange(3), ncols=3, nrows=1)\n"
                     "print(type(fig).__name__, len(fig.axes), 'matplotlib' in sys.modules)\n"
                     "curve = mn.LiveCurve(display=False)\n"
                     "print(type(curve.fig).__name__)")
    assert out.split() == ["Figure", "3", "True", "Figure"]


def test_no_module_offers_a_name_another_offers():
    """One word per concept: a public name belongs to one module (mn.NAME, where mn. offers it, is that module's)."""
    modules = [sys.modules[f"mathnn.{name}"] for name in ("batches", "data", "debugging", "draw", "gradcheck", "layers",
                                                           "locations", "mnist", "modules", "network", "optim", "plots",
                                                           "regularization", "shapes", "shared", "splits", "train",
                                                           "validate")]
    names = [name for module in modules for name in module.__all__]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
    for module in modules:
        for name in set(module.__all__) & set(mn.__all__):
            assert getattr(mn, name) is getattr(module, name), f"mn.{name} is not {module.__name__}.{name}"


def test_star_import_gives_the_names_not_the_submodules():
    """``from mathnn import *`` binds check and the functions, not the modules train, data, step, ..."""
    namespace = {}
    exec("from mathnn import *", namespace)
    assert "check" in namespace and "fit" in namespace and "train_mnist" in namespace
    leaked = sorted(name for name in ("batches", "data", "network", "optim", "step", "train") if name in namespace)
    assert leaked == [], leaked


def test_the_wheel_carries_the_manifest_the_learners_edition_and_the_notation_page(tmp_path):
    """A wheel built from the checkout holds the course's manifest (mathnn/course.toml) and, as it lists them,
    notebooks/learner/NN_name.ipynb and notebooks/notation.md, byte for byte, as mathnn/notebooks/... (what `mathnn
    lab` copies), and no complete lesson (they hold the solutions)."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(root)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("mathnn-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        course = {name: archive.read(name) for name in archive.namelist() if name.startswith("mathnn/notebooks/")}
        assert archive.read("mathnn/course.toml") == (root / "mathnn" / "course.toml").read_bytes()
    lessons = [lesson.file for lesson in course_manifest.lessons()]
    sources = [root / "notebooks" / "notation.md", *[root / "notebooks" / "learner" / name for name in lessons]]
    assert len(lessons) >= 11
    assert course == {f"mathnn/{path.relative_to(root).as_posix()}": path.read_bytes() for path in sources}
