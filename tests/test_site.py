"""The site builder's pieces (tools/build_site.py), on small synthetic notebooks: no lesson is executed.

The built site itself is tested in tests/browser/test_site_pages.py (every page opened offline in Chromium).
"""

import base64
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from mathnn import course

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(spec)
sys.modules["build_site"] = build_site
spec.loader.exec_module(build_site)

PNG_1 = base64.b64encode(b"\x89PNG first").decode()  # the fallback only copies the base64 text
PNG_2 = base64.b64encode(b"\x89PNG second").decode()


def model(name, module="@jupyter-widgets/controls", buffers=None, **state):
    entry = {"model_name": name, "model_module": module, "model_module_version": "2.0.0", "state": state}
    if buffers:
        entry["buffers"] = buffers
    return entry


def png_output(png, **metadata):
    return {"output_type": "display_data", "metadata": metadata,
            "data": {"image/png": png, "text/plain": "<learning curve>"}}


def widget_notebook(states, *views):
    """A notebook with one code cell per widget view (model id), its state in the metadata."""
    nb = nbformat.v4.new_notebook()
    for model_id in views:
        cell = nbformat.v4.new_code_cell("panel")
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            "text/plain": "VBox(...)",
            build_site.WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": model_id}})]
        nb.cells.append(cell)
    nb.metadata["widgets"] = {build_site.WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": states}}
    return nb


def panel_states(*outputs):
    """A training panel as the lessons build it: VBox[HBox[slider], Output(PNG), HTML status]."""
    return {
        "panel": model("VBoxModel", children=["IPY_MODEL_row", "IPY_MODEL_out", "IPY_MODEL_status"]),
        "row": model("HBoxModel", children=["IPY_MODEL_slider"]),
        "slider": model("FloatSliderModel", value=0.1),
        "out": model("OutputModel", "@jupyter-widgets/output", outputs=list(outputs)),
        "status": model("HTMLModel", value="validation accuracy <b>0.91</b>"),
    }


def html_of(nb):
    body, _ = build_site.exporter().from_notebook_node(nb)
    return body


def test_a_panel_becomes_its_last_image_with_its_alt_and_a_line_to_interact():
    states = panel_states(png_output(PNG_1), png_output(PNG_2, **{"image/png": {"alt": "loss of 2 runs"}}))
    nb = widget_notebook(states, "panel")
    assert build_site.replace_widgets(nb) == 1
    data = nb.cells[0].outputs[0]["data"]
    assert list(data) == ["text/html"]
    assert f"base64,{PNG_2}" in data["text/html"] and PNG_1 not in data["text/html"]
    assert 'alt="loss of 2 runs"' in data["text/html"]
    assert build_site.INTERACT in data["text/html"]
    assert "validation accuracy <b>0.91</b>" in data["text/html"]  # the status line, as it was
    assert "widgets" not in nb.metadata


def test_alt_text_comes_from_an_img_tag_or_a_named_output_else_a_generic_one():
    html_alt = png_output(PNG_1)
    html_alt["data"]["text/html"] = f'<img src="data:image/png;base64,{PNG_1}" alt="curve &amp; dots">'
    assert build_site._output_image(html_alt) == (PNG_1, "curve & dots")
    assert build_site._output_image(png_output(PNG_1)) == (PNG_1, "learning curve")
    figure = png_output(PNG_1)
    figure["data"]["text/plain"] = "<Figure size 640x480 with 1 Axes>"
    assert build_site._output_image(figure) == (PNG_1, None)
    image = model("ImageModel", buffers=[{"path": ["value"], "encoding": "base64", "data": PNG_1}])
    assert f'alt="{build_site.FALLBACK_ALT}"' in build_site.fallback_html([image])


def test_a_drawing_pad_says_to_draw_and_keeps_its_image_widget_picture():
    states = {
        "pad": model("VBoxModel", children=["IPY_MODEL_row"]),
        "row": model("HBoxModel", children=["IPY_MODEL_canvas", "IPY_MODEL_chart"]),
        "canvas": model("CanvasModel", "ipycanvas", width=280, height=280),
        "chart": model("ImageModel", format="png",
                       buffers=[{"path": ["value"], "encoding": "base64", "data": PNG_1}]),
    }
    nb = widget_notebook(states, "pad")
    build_site.replace_widgets(nb)
    page = nb.cells[0].outputs[0]["data"]["text/html"]
    assert build_site.DRAW in page and build_site.INTERACT not in page
    assert f"base64,{PNG_1}" in page


def test_a_widget_without_an_image_or_state_still_says_what_to_do():
    nb = widget_notebook({}, "gone")  # state missing (e.g. not stored): no image, but no crash either
    build_site.replace_widgets(nb)
    page = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "<img" not in page and build_site.INTERACT in page


def test_cyclic_widget_references_end():
    states = {"a": model("VBoxModel", children=["IPY_MODEL_b"]), "b": model("VBoxModel", children=["IPY_MODEL_a"])}
    assert [m["model_name"] for m in build_site.widget_models(states, "a")] == ["VBoxModel", "VBoxModel"]


def test_an_exported_page_loads_nothing_from_the_network_and_keeps_alt_text():
    states = panel_states(png_output(PNG_1))
    nb = widget_notebook(states, "panel")
    text = "The loss $L = -\\sum_i y_i \\log a_i$ ([next](01_forward.ipynb))"
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    figure = nbformat.v4.new_code_cell("mn.show(fig, alt=...)")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG_2, "text/plain": "x"},
                                             metadata={"image/png": {"alt": "a falling loss curve"}})]
    nb.cells.append(figure)
    build_site.replace_widgets(nb)
    page, broken = build_site.export_page(nb, "00 · Test", build_site.nav_html(None, ("01_forward.html", "01")),
                                          {"01_forward.html", "index.html", "notation.html"})
    assert build_site.offline_problems(page) == []
    assert 'src="mathjax/MathJax.js?config=' in page
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)", page)
    assert scripts == ["mathjax/MathJax.js" + build_site.MATHJAX_QUERY]  # no require.js, no widget manager
    assert build_site.WIDGET_VIEW not in page and "unpkg" not in page and "cdnjs" not in page
    assert 'alt="a falling loss curve"' in page and build_site.DEFAULT_ALT not in page
    assert 'href="01_forward.html"' in page and "01_forward.ipynb" not in page
    assert broken == []
    assert "<title>00 · Test</title>" in page


def test_a_png_without_alt_gets_nbconverts_default_which_the_build_counts():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG_1})]
    nb.cells.append(cell)
    assert f'alt="{build_site.DEFAULT_ALT}"' in html_of(nb)


@pytest.mark.parametrize("snippet, found", [
    ('<script src="https://cdnjs.cloudflare.com/require.js"></script>', "<script src=https://cdnjs.cloudflare.com/require.js>"),
    ('<link rel="stylesheet" href="//fonts.example.org/a.css">', "<link href=//fonts.example.org/a.css>"),
    ('<img src="http://example.org/a.png" alt="a">', "<img src=http://example.org/a.png>"),
    ('<style>@import "https://fonts.example.org/css";</style>', "CSS https://fonts.example.org/css"),
    ('<div style="background: url(https://example.org/b.png)"></div>', "CSS https://example.org/b.png"),
    ('<img srcset="a.png 1x, https://example.org/b.png 2x" alt="b">', "<img srcset=https://example.org/b.png 2x>"),
])
def test_offline_check_finds_what_the_browser_would_fetch(snippet, found):
    assert build_site.offline_problems(f"<html><head></head><body>{snippet}</body></html>") == [found]


def test_offline_check_lets_local_data_and_plain_links_pass():
    page = """<html><head><script src="mathjax/MathJax.js?config=x"></script>
        <style>.a { background: url(data:image/png;base64,AAAA) }</style></head>
        <body><a href="https://yann.lecun.com/exdb/mnist/">MNIST</a><img src="data:image/png;base64,AA" alt="x">
        <img src="file:///tmp/a.png" alt="y"></body></html>"""
    assert build_site.offline_problems(page) == []


def test_links_to_lessons_and_notation_point_at_their_pages_and_others_are_reported():
    from bs4 import BeautifulSoup

    soup = BeautifulSoup('<a href="notation.md#Loss">n</a> <a href="03_backprop.ipynb">3</a> '
                         '<a href="#here">h</a> <a href="../mathnn/plots.py">p</a> <a href="http://x.org/">x</a>',
                         "html.parser")
    broken = build_site.rewrite_links(soup, {"notation.html", "03_backprop.html", "index.html"})
    assert [a["href"] for a in soup.find_all("a")] == ["notation.html#Loss", "03_backprop.html", "#here",
                                                       "../mathnn/plots.py", "http://x.org/"]
    assert broken == ["../mathnn/plots.py"]


def test_the_index_lists_the_notation_page_and_every_lesson_of_the_manifest_with_how_to_run_them():
    manifest = course.read_manifest()
    page = build_site.index_html(manifest, "today")
    rows = re.findall(r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]+)</td>', page)
    assert rows == [("notation.html", "notation", manifest["notation"]["title"])] + \
        [(f"{lesson.name}.html", lesson.name, lesson.heading.replace("&", "&amp;")) for lesson in manifest["lesson"]]
    assert "<code>one_hot</code>" in page  # the "you will" markdown rendered
    assert "mathnn lab" in page and "make lab" in page and "make test" in page
    assert "complete lessons, with their solutions, executed" in page and "learner's edition" in page
    assert build_site.offline_problems(page) == []


def test_the_index_follows_the_manifest_not_the_readme(tmp_path):
    """A lesson added to the manifest shows in the index (the README is not read)."""
    manifest = course.read_manifest()
    extra = course.Lesson(len(manifest["lesson"]), "99_extra.ipynb", "An extra lesson", "add *one* lesson")
    page = build_site.index_html({**manifest, "lesson": [*manifest["lesson"], extra]}, "today")
    assert '<a href="99_extra.html">99_extra</a>' in page and "add <em>one</em> lesson" in page
    assert "README" not in Path(build_site.__file__).read_text()


def test_the_site_builds_the_lessons_of_the_manifest_in_its_order():
    assert build_site.lesson_paths() == [ROOT / "notebooks" / lesson.file for lesson in course.lessons()]


def test_a_failing_lesson_is_named_with_its_cell_and_the_old_site_is_kept(tmp_path, monkeypatch):
    lesson = tmp_path / "00_broken.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("raise ValueError('no such digit')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lesson)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("the previous site")
    monkeypatch.setattr(build_site, "check_data", lambda: None)
    monkeypatch.setenv("MATHNN_DATA", str(tmp_path))  # build() rewrites both: restored after the test
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with pytest.raises(build_site.BuildError, match=r"00_broken.ipynb failed at cell 1 .*ValueError: no such digit"):
        build_site.build(site, jobs=1, timeout=60, lessons=[lesson], log=lambda *a: None)
    assert (site / "index.html").read_text() == "the previous site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00_broken.ipynb", "site"]  # no temporary folder left


def test_missing_mnist_is_refused_with_the_loaders_message(tmp_path, monkeypatch):
    from mathnn import locations
    from mathnn import mnist as mnist_files

    def offline(filename, dest_dir, mirrors=None, progress=True):
        raise mnist_files.MNISTError("no network")

    monkeypatch.setenv("MATHNN_DATA", str(tmp_path))
    monkeypatch.setattr(locations, "REPO_DATA", tmp_path / "none")
    monkeypatch.setattr(locations, "default_data_dir", lambda: tmp_path / "none")
    monkeypatch.setattr(mnist_files, "download", offline)
    with pytest.raises(build_site.BuildError, match="the lessons need MNIST: MNIST not found in .*no network"):
        build_site.check_data()
