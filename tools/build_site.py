"""Build the course's offline site: site/index.html, one page per complete lesson (executed), notation.html.

    MATHNN_DATA=/path/to/mnist python tools/build_site.py      # or: make html

Each complete lesson the course's manifest lists (mathnn/course.toml: notebooks/NN_name.ipynb) is run top to
bottom in a fresh kernel (two at a time, the kernel working in notebooks/, as in JupyterLab) and exported with
nbconvert's lab template. The index's course table comes from the manifest too. The pages are read from disk
(file://) and never fetch anything from the network:

- MathJax is copied from jupyter-server-mathjax into site/mathjax/ and loaded from there;
- widgets can't run without a kernel: each widget output becomes a static fallback, the last image its
  widget held (an Output widget's PNG, an Image widget's value), its HTML lines (a status line) and a
  line saying to run the lesson in JupyterLab; the widget state is then dropped, so no widget script
  (require.js, the widget manager, all from CDNs) is emitted;
- the template's other CDN scripts (require.js, mermaid) are left out, and the finished pages are checked
  for any http(s) address the browser would load (`offline_problems`).

Figures keep their alt text: an image/png output carrying ``alt`` in its metadata gets it on its <img>
(text/html outputs keep theirs as they are). A build that fails (no MNIST, a lesson that raises) says
which lesson and which cell, exits non-zero and leaves the previous site/ as it was: the site is built in
a temporary folder beside site/ and swapped in at the end.

It says what it does as it goes: a line when each lesson starts and ends, and every PROGRESS_EVERY seconds
the cell a lesson is still running. A cell that runs longer than --timeout seconds (default 600) stops the
build, naming the lesson and the cell. Ctrl+C, or a killed worker, stops the build with one line: no worker
or kernel keeps running, and no temporary folder stays (one that a killed build left is removed by the next).
"""

import argparse
import contextlib
import ctypes
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from urllib.parse import urlsplit

from mathnn import course

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SITE = ROOT / "site"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
INTERACT = "Run this lesson in JupyterLab to interact."
DRAW = "Run this lesson in JupyterLab to draw."
FALLBACK_ALT = "the last image this interactive widget showed when the lesson ran"
DEFAULT_ALT = "No description has been provided for this image"  # what nbconvert puts on an <img> without alt
MATHJAX_DIR = "mathjax"  # inside site/
PROGRESS_EVERY = 60  # seconds between two "still running" lines of a lesson
MATHJAX_QUERY = "?config=TeX-AMS-MML_HTMLorMML-full,Safe"  # the combined config jupyter-server-mathjax ships

# The lab template, less its CDN scripts, with alt text on PNG outputs and a local MathJax. MathJax's
# HTML-CSS output uses the STIX-Web fonts that jupyter-server-mathjax bundles (its only web font). Two
# of MathJax's font requests fail from a file:// page, so they are replaced: its blank measuring font
# (url('about:blank'), refused by CORS) and the TeX fonts its hidden MathML copy would ask for (not bundled).
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock html_head_js_requirejs %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block extra_css %}
<style type="text/css">
.mathnn-nav { display: flex; gap: 1.5em; flex-wrap: wrap; padding: 0.6em 1em; margin-bottom: 1em;
              border-bottom: 1px solid var(--jp-border-color2); font-family: var(--jp-ui-font-family); }
.mathnn-widget-fallback { border: 1px dashed var(--jp-border-color1); padding: 0.5em; }
.mathnn-widget-fallback p { margin: 0.3em 0; font-style: italic; }
</style>
{% endblock extra_css %}
{% block html_head_js_mathjax %}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
    TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
    tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
              processEscapes: true, processEnvironments: true},
    "HTML-CSS": {availableFonts: [], preferredFont: null, imageFont: null, webFont: "STIX-Web",
                 styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}},
    NativeMML: {styles: {'[mathvariant="double-struck"]': {"font-family": "serif"},
                         '[mathvariant="script"]': {"font-family": "serif"}}},
    displayAlign: "center",
    messageStyle: "none",
    menuSettings: {renderer: "HTML-CSS"}
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{% endblock html_head_js_mathjax %}
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- set width = output | get_metadata('width', 'image/png') -%}
{%- set height = output | get_metadata('height', 'image/png') -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
{%- if alt %} alt="{{ alt | escape_html }}"{% endif %}
{%- if width is not none %} width="{{ width | escape_html }}"{% endif %}
{%- if height is not none %} height="{{ height | escape_html }}"{% endif %}>
</div>
{%- endblock data_png %}
"""


class BuildError(Exception):
    """The site can't be built; the message says what is wrong and what to do."""


# --- widgets: static fallbacks ----------------------------------------------------------------------


def _model_refs(value):
    """Model ids referenced from a widget state value ("IPY_MODEL_<id>", possibly in lists)."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        return [value[len("IPY_MODEL_"):]]
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _model_refs(item)]
    return []


def _output_image(output):
    """(png base64, alt or None) of one nbformat output dict holding a PNG, else None."""
    png = output.get("data", {}).get("image/png")
    if not png:
        return None
    metadata = output.get("metadata", {})
    alt = (metadata.get("image/png") or {}).get("alt") or metadata.get("alt")
    page = _text(output, "text/html")
    match = re.search(r"""<img\b[^>]*\balt=(["'])(.*?)\1""", page, re.S)
    if not alt and match:  # mn.show's bundle: <img alt="...">
        alt = html.unescape(match.group(2))
    text = _text(output, "text/plain").strip()
    if not alt and re.fullmatch(r"<[^<>]+>", text) and not re.search(r"object at 0x|Figure size", text):
        alt = text[1:-1]  # an output that names itself, e.g. "<learning curve>"
    return _text(output, "image/png"), alt or None


def _text(output, mime):
    """One mime type's data of an nbformat output as a string ('' if absent; lists of lines joined)."""
    value = output.get("data", {}).get(mime, "")
    return "".join(value) if isinstance(value, list) else value


def widget_models(states, model_id, seen=None):
    """A widget's model and its descendants' (a Box's children), in display order; each model once.

    states: the notebook's widget state (model id -> {"model_name", "model_module", "state", "buffers"}).
    """
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in states:
        return []
    seen.add(model_id)
    model = states[model_id]
    models = [model]
    for ref in _model_refs(model.get("state", {}).get("children")):
        models += widget_models(states, ref, seen)
    return models


def widget_images(models):
    """The images the models hold, in display order: [(png base64, alt or None)].

    An Output widget holds nbformat outputs; an Image widget holds its PNG bytes as a base64 buffer.
    """
    images = []
    for model in models:
        state = model.get("state", {})
        if model.get("model_name") == "OutputModel":
            images += [image for image in map(_output_image, state.get("outputs", [])) if image]
        if model.get("model_name") == "ImageModel" and state.get("format", "png") == "png":
            images += [(buffer["data"], None) for buffer in model.get("buffers", [])
                       if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64" and buffer["data"]]
    return images


def fallback_html(models):
    """The static stand-in for one widget: its last image (with alt text), its HTML lines (a status, a
    prediction) as they were, and what to do to use it ("to draw" for a drawing pad: an ipycanvas Canvas)."""
    images = widget_images(models)
    canvas = any(m.get("model_module") == "ipycanvas" and m.get("model_name") == "CanvasModel" for m in models)
    parts = ['<div class="mathnn-widget-fallback">']
    if images:
        png, alt = images[-1]
        parts.append(f'<img src="data:image/png;base64,{html.escape(png)}" alt="{html.escape(alt or FALLBACK_ALT)}">')
    parts += [f'<div class="mathnn-widget-text">{m["state"]["value"]}</div>' for m in models
              if m.get("model_name") == "HTMLModel" and m.get("state", {}).get("value", "").strip()]
    parts.append(f"<p>{DRAW if canvas else INTERACT}</p>")
    parts.append("</div>")
    return "\n".join(parts)


def replace_widgets(nb):
    """Replace every widget output of nb by its static fallback and drop the widget state.

    Returns the number of outputs replaced. nb is changed in place.
    """
    states = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            output["data"] = {"text/html": fallback_html(widget_models(states, view.get("model_id", "")))}
            output["metadata"] = {}
            replaced += 1
    nb.metadata.pop("widgets", None)
    return replaced


# --- the offline check ------------------------------------------------------------------------------

_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
_FETCHED = {"script": "src", "img": "src", "iframe": "src", "embed": "src", "source": "src", "audio": "src",
            "video": "src", "track": "src", "input": "src", "object": "data", "link": "href"}


def _remote(url):
    """True for an address the browser would fetch from the network (anything but data:, file: and relative)."""
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    return url.startswith("//") or scheme not in ("", "data", "file", "blob", "about", "javascript")


def offline_problems(page_html):
    """The network addresses a page would load: script/img/link/... sources, srcset, CSS url() and @import.

    Plain links (<a href>) are not loaded until clicked, so they are not problems.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    found = []
    for tag, attr in _FETCHED.items():
        for element in soup.find_all(tag):
            value = element.get(attr)
            if value and _remote(value):
                found.append(f"<{tag} {attr}={value}>")
    for element in soup.find_all(srcset=True):
        for candidate in element["srcset"].split(","):
            if candidate.strip() and _remote(candidate.split()[0]):
                found.append(f"<{element.name} srcset={candidate.strip()}>")
    css = [style.get_text() for style in soup.find_all("style")] + [e["style"] for e in soup.find_all(style=True)]
    for text in css:
        for match in _CSS_URL.finditer(text):
            url = match.group(1) or match.group(2)
            if _remote(url):
                found.append(f"CSS {url}")
    return found


# --- pages ------------------------------------------------------------------------------------------


def lesson_paths():
    """The complete lessons, in the manifest's order."""
    return [NOTEBOOKS / lesson.file for lesson in course.lessons()]


def page_of(name):
    """The site page of a notebook or markdown file name ("03_backprop.ipynb" -> "03_backprop.html")."""
    return Path(name).stem + ".html"


def lesson_title(nb, fallback):
    """The text of the lesson's first heading, e.g. "00 · Data: MNIST as columns"."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return fallback


def rewrite_links(soup, pages):
    """Point links to notebooks and notation.md at their pages; return the relative links that point nowhere."""
    broken = []
    for a in soup.find_all("a", href=True):
        parts = urlsplit(a["href"])
        if parts.scheme or parts.netloc or not parts.path:
            continue
        name = Path(parts.path).name
        if Path(parts.path).suffix in (".ipynb", ".md") and page_of(name) in pages and "/" not in parts.path:
            a["href"] = page_of(name) + (f"#{parts.fragment}" if parts.fragment else "")
        elif parts.path not in pages:
            broken.append(a["href"])
    return broken


def nav_html(prev_page, next_page):
    links = ['<a href="index.html">mathnn: all lessons</a>']
    if prev_page:
        links.append(f'<a href="{prev_page[0]}" rel="prev">← {html.escape(prev_page[1])}</a>')
    if next_page:
        links.append(f'<a href="{next_page[0]}" rel="next">{html.escape(next_page[1])} →</a>')
    links.append('<a href="notation.html">notation</a>')
    return f'<nav class="mathnn-nav">{" ".join(links)}</nav>'


def exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="mathnn_site.html.j2",
                        extra_loaders=[DictLoader({"mathnn_site.html.j2": TEMPLATE})],
                        mathjax_url=f"{MATHJAX_DIR}/MathJax.js{MATHJAX_QUERY}")


def export_page(nb, title, nav, pages):
    """nb (executed, widgets already replaced) as one page of HTML with a navigation bar; links rewritten."""
    from bs4 import BeautifulSoup

    nb.metadata["title"] = title
    body, _ = exporter().from_notebook_node(nb)
    soup = BeautifulSoup(body, "html.parser")
    soup.main.insert(0, BeautifulSoup(nav, "html.parser"))
    broken = rewrite_links(soup, pages)
    return str(soup), broken


# --- executing lessons ------------------------------------------------------------------------------


def execute(path, timeout, log=print):
    """Run the notebook at path top to bottom in a fresh kernel working in notebooks/; return it.

    Every PROGRESS_EVERY seconds log says which cell is running; a cell running longer than timeout
    seconds raises BuildError naming it."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert.preprocessors import ExecutePreprocessor

    class Executor(ExecutePreprocessor):
        index = None
        started = time.monotonic()

        def preprocess_cell(self, cell, resources, index):
            self.index, self.started = index, time.monotonic()
            return super().preprocess_cell(cell, resources, index)

        def start_new_kernel(self, **kwargs):
            # the kernel's own log (its TCP warning, its tracebacks when it is stopped mid-cell) is not the
            # lesson's output, which comes back through the kernel's messages
            return super().start_new_kernel(stderr=subprocess.DEVNULL, **kwargs)

    nb = nbformat.read(path, as_version=4)
    executor = Executor(timeout=timeout, kernel_name="python3", store_widget_state=True)

    def describe(index):
        source = nb.cells[index].source.strip() if index is not None else ""
        return f"cell {index} ({source.splitlines()[0] if source else ''!r})" if index is not None else "its kernel"

    done = threading.Event()

    def report_progress():
        while not done.wait(PROGRESS_EVERY):
            log(f"{path.name}: still running {describe(executor.index)}, "
                f"{time.monotonic() - executor.started:.0f} s so far (a cell may run {timeout} s)")

    threading.Thread(target=report_progress, daemon=True).start()
    try:
        executor.preprocess(nb, {"metadata": {"path": str(NOTEBOOKS)}})
    except CellTimeoutError:
        raise BuildError(f"{path.name}: {describe(executor.index)} ran for more than {timeout} s: an endless loop, "
                         f"or a cell too slow for --timeout {timeout}") from None
    except (CellExecutionError, DeadKernelError) as e:
        where = describe(executor.index) if executor.index is not None else "before its first cell"
        detail = f"{e.ename}: {e.evalue}" if isinstance(e, CellExecutionError) else str(e).strip()
        raise BuildError(f"{path.name} failed at {where}: {detail}") from None
    finally:
        done.set()
    return nb


def build_lesson(path, timeout, prev_page, next_page, pages):
    """Execute one lesson and render its page. Returns (page name, html, stats dict)."""
    start = time.monotonic()
    print(f"{path.name}: started", flush=True)
    nb = execute(path, timeout, log=lambda line: print(line, flush=True))
    seconds = time.monotonic() - start
    replaced = replace_widgets(nb)
    title = lesson_title(nb, path.stem)
    page, broken = export_page(nb, title, nav_html(prev_page, next_page), pages)
    missing_alt = page.count(f'alt="{DEFAULT_ALT}"')
    return page_of(path.name), page, dict(lesson=path.name, title=title, seconds=seconds, widgets=replaced,
                                          broken=broken, missing_alt=missing_alt)


def build_notation(pages):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell((NOTEBOOKS / "notation.md").read_text())])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    page, broken = export_page(nb, "Notation", nav_html(None, None), pages)
    return page, broken


# --- the index --------------------------------------------------------------------------------------


def index_html(manifest, built):
    """The index page: what the site is, the course table from the manifest (each row linking its page), how to
    run it. manifest: mathnn.course.read_manifest()."""
    import mistune

    inline = mistune.create_markdown(escape=True)

    def md(text):
        return re.sub(r"^<p>|</p>\s*$", "", inline(text).strip())

    notation = manifest["notation"]
    rows = [(page_of(notation["file"]), Path(notation["file"]).stem, notation["title"], notation["about"])]
    rows += [(page_of(lesson.file), lesson.name, lesson.heading, lesson.you_will) for lesson in manifest["lesson"]]
    rows = [f'<tr><td><a href="{page}">{html.escape(name)}</a></td><td>{html.escape(title)}</td>'
            f"<td>{md(text)}</td></tr>" for page, name, title, text in rows]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>mathnn: a neural network from first principles</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 62em; margin: 2em auto; padding: 0 1em; line-height: 1.5;
       color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: 0.4em 0.6em; border-bottom: 1px solid #ddd; }}
td:first-child {{ white-space: nowrap; }}
code, pre {{ background: #f4f4f4; font-size: 0.92em; }}
pre {{ padding: 0.8em; overflow-x: auto; }}
</style>
</head>
<body>
<main>
<h1>mathnn: a neural network from first principles</h1>
<p>A numbered series of Jupyter notebooks that derives a neural network in NumPy, from the forward pass to
backprop, initialization, the learning rate and optimizers, to modules, PyTorch and regularization, and trains
the 784-10-10 MNIST network (784 inputs, 10 ReLU hidden units, 10-way softmax).</p>
<p><strong>These pages show the complete lessons, with their solutions, executed</strong> top to bottom
(built {html.escape(built)}). To learn, work in the <strong>learner's edition</strong>
(<code>notebooks/learner/</code>), where you write the key code yourself and a checker tells you at once what is
wrong: <code>make lab</code> opens it. Interactive widgets show here as the last image they drew; run the
lesson in JupyterLab to use them.</p>
<h2>The course</h2>
<table>
<thead><tr><th>page</th><th>title</th><th>you will</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<h2>Run it on your machine</h2>
<p>With Python 3.11+ (no git, make or shell needed):</p>
<pre><code>python -m pip install "mathnn[notebooks]"   # the package, JupyterLab and the widgets
mathnn lab                                  # the learner's edition, opened in JupyterLab</code></pre>
<p>Or in a copy of the repository (Python 3.11+ and <code>make</code>):</p>
<pre><code>make lab    # first time: creates .venv, installs everything; then opens the course in JupyterLab
make test   # lint (ruff), unit tests, every notebook under nbval, the browser tests, the versions claimed</code></pre>
<p>MNIST is downloaded on first use (about 11 MB), or read from the folder <code>MATHNN_DATA</code> names.</p>
</main>
</body>
</html>
"""


# --- the build --------------------------------------------------------------------------------------


def check_data():
    """Find MNIST's four files as the lessons will (downloading them if the loader can); else the loader's error."""
    sys.path.insert(0, str(ROOT))
    from mathnn.mnist import FILES, MNISTError, find_or_download

    try:
        for files in FILES.values():
            for name in files:
                find_or_download(name)
    except MNISTError as e:
        raise BuildError(f"the lessons need MNIST: {e}") from None


def mathjax_source():
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise BuildError("the site needs a local MathJax: pip install jupyter-server-mathjax "
                         "(it is in mathnn's dev extra: pip install -e '.[dev]')") from None
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _worker_init():
    """In each worker: die with the build (Linux: SIGKILL when the parent process dies, even by kill -9) and
    leave Ctrl+C to the parent. A lesson's kernel ends by itself within a second of its worker (ipykernel
    watches its parent process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _stop_workers(pool):
    """Kill every worker of pool (their kernels follow them) and wait for them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    for process in processes:
        process.join(timeout=5)
    pool.shutdown(wait=False, cancel_futures=True)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_builds(out):
    """Remove the temporary folders .SITE-build-PID-* that a build killed before it could clean up left."""
    for folder in out.parent.glob(f".{out.name}-build-*"):
        pid = folder.name[len(f".{out.name}-build-"):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def build(out, jobs=2, timeout=600, lessons=None, log=print):
    """Build the site into out (replacing it only when everything succeeded). Returns a list of stats."""
    if os.environ.get("MATHNN_DATA"):  # the kernels work in notebooks/: a relative path would point elsewhere
        os.environ["MATHNN_DATA"] = os.path.abspath(os.environ["MATHNN_DATA"])
    os.environ.pop("MPLBACKEND", None)  # the kernels' figures must be inline PNGs
    lessons = lesson_paths() if lessons is None else lessons
    if not lessons:
        raise BuildError(f"no lessons (NN_*.ipynb) found in {NOTEBOOKS}")
    mathjax = mathjax_source()
    check_data()
    manifest = course.read_manifest()

    pages = {page_of(p.name) for p in lessons} | {"index.html", "notation.html"}
    names = [(page_of(p.name), p.stem) for p in lessons]
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-{os.getpid()}-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the site is for reading
    try:
        stats = []
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
        try:
            futures = [pool.submit(build_lesson, path, timeout, names[i - 1] if i else None,
                                   names[i + 1] if i + 1 < len(names) else None, pages)
                       for i, path in enumerate(lessons)]
            for i, future in enumerate(futures, start=1):
                page, body, info = future.result()
                (tmp / page).write_text(body)
                stats.append(info)
                log(f"[{i}/{len(lessons)}] {info['lesson']}: done in {info['seconds']:.0f} s, "
                    f"{len(body) / 1e6:.1f} MB" + (f", {info['widgets']} widget(s) made static" if info["widgets"]
                                                   else ""))
        except BrokenProcessPool:
            raise BuildError("a worker process died (killed?) while running a lesson; nothing was built") from None
        finally:
            _stop_workers(pool)
        notation, broken = build_notation(pages)
        (tmp / "notation.html").write_text(notation)
        stats.append(dict(lesson="notation.md", broken=broken, missing_alt=0))
        (tmp / "index.html").write_text(index_html(manifest, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        # (less the SVG output's fonts, 2.9 MB: the package ships them without the SVG output itself)
        shutil.copytree(mathjax, tmp / MATHJAX_DIR, ignore=shutil.ignore_patterns("SVG"))

        problems = [f"{page.name}: {problem}" for page in sorted(tmp.glob("*.html"))
                    for problem in offline_problems(page.read_text())]
        if problems:
            raise BuildError("pages would load from the network:\n  " + "\n  ".join(problems))
        for info in stats:
            if info["broken"]:
                log(f"warning: {info['lesson']} links to pages the site doesn't have: {', '.join(info['broken'])}")
            if info["missing_alt"]:
                log(f"warning: {info['lesson']}: {info['missing_alt']} image(s) without alt text "
                    "(show figures with mn.show(fig, alt=...))")

        old = out.with_name(f".{out.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return stats
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def positive_int(text):
    """An argparse type: a whole number >= 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number (1, 2, ...)")
    return int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(SITE), help="the folder to build (default: site/)")
    parser.add_argument("--jobs", type=positive_int, default=2, help="lessons executed at a time (default 2)")
    parser.add_argument("--timeout", type=positive_int, default=600, help="seconds one cell may run (default 600)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        stats = build(args.out, jobs=args.jobs, timeout=args.timeout)
    except BuildError as e:
        print(f"build_site: {e}\nThe previous site (if any) is left as it was.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build_site: interrupted (Ctrl+C); the previous site (if any) is left as it was", file=sys.stderr)
        return 130
    print(f"built {args.out}: {len(stats) + 1} pages in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
