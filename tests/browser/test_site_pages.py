"""The offline site (make html): every page opened from disk in headless Chromium, with no network.

Every request that is not file:// is refused (and recorded); each page must then load with no refused
or failed request and no console error, its maths typeset by the local MathJax (no raw $$ or \\( left in
the text), every image loaded and described by alt text, and every link pointing at a file that exists.
The site is not built here: build it with `make html` (these tests fail, saying so, when site/ is
missing or older than the lessons). Screenshots of the index and of a lesson go to tests/artifacts/.
"""

import html
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from labdriver import ARTIFACTS, NOTEBOOKS, ROOT, notebook_paths

pytestmark = pytest.mark.browser

SITE = ROOT / "site"
SOURCES = [*notebook_paths(), NOTEBOOKS / "notation.md", ROOT / "tools" / "build_site.py",
           ROOT / "mathnn" / "course.toml"]
LESSON_PAGES = [p.stem + ".html" for p in notebook_paths()]
PAGES = ["index.html", "notation.html", *LESSON_PAGES]
DEFAULT_ALT = "No description has been provided for this image"  # nbconvert's, on an <img> without alt
SCREENSHOT_LESSON = "05_initialization.html"  # a lesson with maths, figures and a widget fallback

# Visible text outside code, scripts and MathJax's own output (markdown cells, HTML outputs): raw TeX
# delimiters left there were not typeset.
VISIBLE_TEXT_JS = """() => {
    const skip = ['SCRIPT', 'STYLE', 'CODE', 'PRE', 'TEXTAREA'];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
        for (let e = node.parentElement; e; e = e.parentElement) {
            if (skip.includes(e.tagName) || [...e.classList].some(c => c.startsWith('MathJax'))
                || e.classList.contains('jp-InputArea'))
                return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
    }});
    const parts = [];
    while (walker.nextNode()) parts.push(walker.currentNode.textContent);
    return parts.join(' ');
}"""

# True once MathJax 2 has started and its queue (the page's typesetting) is empty.
MATHJAX_IDLE_JS = "() => MathJax.isReady === true && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0"

IMAGES_JS = """() => [...document.querySelectorAll('img')].map(img => ({
    alt: img.getAttribute('alt'), complete: img.complete, width: img.naturalWidth,
    src: (img.getAttribute('src') || '').slice(0, 60)}))"""


@pytest.fixture(scope="module")
def site():
    """site/, built and at least as new as what it is built from; else fail saying to run make html."""
    index = SITE / "index.html"
    if not index.exists():
        pytest.fail(f"no site to test: {index} is missing. Build it with `make html`", pytrace=False)
    built = index.stat().st_mtime
    newer = [str(p.relative_to(ROOT)) for p in SOURCES if p.stat().st_mtime > built]
    if newer:
        pytest.fail(f"site/ is older than {', '.join(newer)}: rebuild it with `make html`", pytrace=False)
    return SITE


@pytest.fixture(scope="module")
def offline(browser):
    """A browser context that refuses every request not for a file:// address (recording each one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.refused = []

    def route(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            context.refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    yield context
    context.close()


def open_page(context, path):
    """Open a page of the site from disk; return (page, problems) after MathJax has typeset it."""
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} "
                                                             f"({request.failure})"))
    refused_before = len(context.refused)
    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
    state = "no MathJax"
    if page.evaluate("() => !!(window.MathJax && MathJax.Hub)"):
        page.wait_for_function(MATHJAX_IDLE_JS, timeout=60_000)
        state = "typeset"
    page.wait_for_timeout(200)  # late font loads and console messages
    problems += [f"refused (not on disk): {url}" for url in context.refused[refused_before:]]
    return page, state, problems


def draws(lesson):
    """True if a lesson's code shows figures (mn.show, a live curve, the panel or the drawing pad)."""
    code = "\n".join(c.source for c in nbformat.read(lesson, as_version=4).cells if c.cell_type == "code")
    return bool(re.search(r"\bshow\(|LiveCurve|TrainingPanel|DrawingPad", code))


def local_target(page_path, href):
    """The file a relative link points at (None for a link elsewhere), and its #fragment."""
    parts = urlsplit(href)
    if parts.scheme in ("http", "https", "mailto"):
        return None, None
    if parts.scheme == "file":
        return Path(unquote(parts.path)), parts.fragment
    target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
    return target, parts.fragment


@pytest.mark.parametrize("name", PAGES)
def test_page_works_offline(site, offline, name):
    path = site / name
    assert path.exists(), f"{name} is missing from site/: rebuild it with `make html`"
    page, mathjax, problems = open_page(offline, path)
    try:
        assert not problems, f"{name}:\n  " + "\n  ".join(problems)

        # maths: typeset by the local MathJax, nothing raw left, no TeX errors
        if name != "index.html":
            assert mathjax == "typeset", f"{name}: MathJax did not run ({mathjax})"
            assert page.locator(".MathJax, .MathJax_Display").count() > 0, f"{name}: no typeset maths"
            errors = page.locator(".MathJax .merror, .MathJax .noError, .MathJax_Error").all_inner_texts()
            assert not errors, f"{name}: TeX errors: {errors}"
        text = page.evaluate(VISIBLE_TEXT_JS)
        raw = re.findall(r".{0,30}(?:\$\$|\\\(|\\\[|\\begin\{|\$[^$\s][^$]*\$).{0,30}", text)
        assert not raw, f"{name}: maths left as raw TeX: {raw[:5]}"

        # images: loaded, and described
        images = page.evaluate(IMAGES_JS)
        if name in LESSON_PAGES and draws(NOTEBOOKS / name.replace(".html", ".ipynb")):
            assert images, f"{name}: its lesson draws figures, but the page shows none"
        for img in images:
            assert img["complete"] and img["width"] > 0, f"{name}: image not loaded: {img}"
            assert img["alt"] and img["alt"].strip() and img["alt"] != DEFAULT_ALT, \
                f"{name}: image without alt text (mn.show(fig, alt=...)): {img}"

        # widgets: the panel (05, 06) and the drawing pad (08) as their last image and a line saying where to use them
        if name in LESSON_PAGES:
            code = (NOTEBOOKS / name.replace(".html", ".ipynb")).read_text()
            fallbacks = page.locator(".mathnn-widget-fallback")
            texts = fallbacks.all_inner_texts()
            if "TrainingPanel(" in code:
                assert any("Run this lesson in JupyterLab to interact." in t for t in texts), f"{name}: {texts}"
                assert fallbacks.locator("img").count() >= 1, f"{name}: the panel's last image is missing"
            if "DrawingPad(" in code:
                assert any("Run this lesson in JupyterLab to draw." in t for t in texts), f"{name}: {texts}"

        # links: every relative link points at a file of the site, and at an id that exists there
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target, fragment = local_target(path, href)
            if target is None:
                continue
            assert target.is_file(), f"{name}: link {href!r} points at a missing file {target}"
            if fragment and target.suffix == ".html":
                ids = {html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', target.read_text())}
                assert fragment in ids or unquote(fragment) in ids, \
                    f"{name}: link {href!r}: no id {fragment!r} in {target.name}"

        if name in ("index.html", SCREENSHOT_LESSON):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"site_{Path(name).stem}.png"
            page.screenshot(path=str(shot), full_page=name == "index.html")
            fallback = page.locator(".mathnn-widget-fallback").first
            if fallback.count():
                fallback.scroll_into_view_if_needed()
                fallback.screenshot(path=str(ARTIFACTS / f"site_{Path(name).stem}_widget.png"))
    finally:
        page.close()


def test_index_links_every_page(site):
    index = (site / "index.html").read_text()
    links = set(re.findall(r'<a href="([^"#]+)', index))
    missing = [p for p in PAGES[1:] if p not in links]
    assert not missing, f"the index does not link to {missing}"
