"""The course on a JupyterHub: two learners, each in their own home, one shared read-only MNIST, and the
instructor's class view.

The hub is deploy/jupyterhub_config.py, started on 127.0.0.1 with free ports and every piece of its
state (database, cookie secret, homes, class repository) in a temporary folder. The shared MNIST
folder is a temporary copy prepared once with `python -m mathnn data prepare`, then made read-only
(chmod a-w; root ignores that, so it is checked another way too: below). Two learners, in two
browser contexts, click the class's nbgitpuller link for lesson 01, log in, get their own copy
of the learner's edition and Run All; learner A writes the relu exercise and saves.

Checked: each Run All ends with no error but the NotImplementedError of the exercises not done;
A's saved notebook holds A's code while B's copy is byte for byte what the class repository
holds; both kernels memory-map the same .npy files of the shared folder (read from their
/proc/PID/maps: same inode, mapped without write permission), and nothing else of MNIST;
the shared folder's files (names, sizes, mtimes, SHA-256) are the same afterwards; each learner's
status bar shows their memory (jupyter-resource-usage); the hub's database is 0600 and the homes 0700.

The class view (deploy/classview.py): after Run All, A writes a right relu and B a wrong one, and each
runs it and its checker; the instructor (in the group "instructors") logs in, opens
/services/classview/ and sees A passed and B wrong on relu, B stuck there, and B's hint; B is
refused that page (403). The hub, its proxy, the class view, the learners' servers and their
kernels are stopped at the end.
"""

import hashlib
import json
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from labdriver import (
    ARTIFACTS,
    LAB_SETTINGS,
    ROOT,
    RUN_ALL_TIMEOUT,
    STATUS_IDLE_JS,
    Lab,
    cmdline,
    descendants,
    free_port,
    start_logged,
    stop_logged,
    wait_until_up,
)

pytestmark = pytest.mark.browser

LEARNERS = ("ada", "alan")  # A edits and saves; B runs a wrong relu without saving
INSTRUCTOR = "grace"
LESSON = "learner/01_forward.ipynb"
CLASS = "mathnn-class"  # the class repository's folder name, and so the folder in each home
HUB_TIMEOUT = 60  # seconds for the hub to answer
SPAWN_TIMEOUT = 120  # seconds from the link to the open notebook (login, start the server, clone)
ADAS_RELU = "def relu(Z):\n    return np.maximum(Z, 0)  # ada's solution"
ALANS_RELU = "def relu(Z):\n    return Z  # alan forgot the max"
SHARED_NPY = ("mnist-train-images-float32.npy", "mnist-test-images-float32.npy")
PROCESS_MARKERS = (b"jupyterhub", b"configurable-http-proxy", b"ipykernel", b"classview.py")  # what cleanup may kill


# --- the shared data folder and the hub ----------------------------------------------------------

def snapshot(folder):
    """Every file of folder (hidden ones too): name -> (size, mtime in ns, SHA-256)."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def shared_mnist(tmp_path_factory):
    """A class's shared MNIST folder: the four .gz files, prepared once, then read-only (a-w)."""
    from mathnn.mnist import FILES, find_or_download

    folder = tmp_path_factory.mktemp("shared") / "mnist"
    folder.mkdir()
    for name in [n for pair in FILES.values() for n in pair]:
        (folder / name).write_bytes(find_or_download(name).read_bytes())
    subprocess.run([sys.executable, "-m", "mathnn", "data", "prepare", "--no-download", str(folder)], check=True,
                   stdout=subprocess.DEVNULL)  # the instructor's command
    folder.chmod(0o555)
    for path in folder.iterdir():
        path.chmod(0o444)
    try:
        yield folder, snapshot(folder)
    finally:
        folder.chmod(0o755)  # so that pytest can remove it


def free_port_block(n):
    """A port p such that p, p+1, ..., p+n-1 are all free on 127.0.0.1 (now)."""
    for _ in range(100):
        base = free_port()
        sockets = []
        try:
            for port in range(base, base + n):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {n} consecutive free ports found")


class Hub:
    def __init__(self, url, proc, state, log_path):
        self.url, self.proc, self.state, self.log_path = url, proc, state, log_path

    def home(self, learner):
        return self.state / "home" / learner

    def kernels(self):
        """{learner: kernel pid} of the kernels running under the hub (by their JUPYTERHUB_USER)."""
        found = {}
        for pid in descendants(self.proc.pid):
            if b"ipykernel" in cmdline(pid):
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                user = next(v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"JUPYTERHUB_USER="))
                found.setdefault(user, []).append(pid)
        return found


@pytest.fixture(scope="module")
def hub(chromium_path, shared_mnist, tmp_path_factory):
    """deploy/jupyterhub_config.py on free ports, its state in a temporary folder; stopped at the end."""
    state = tmp_path_factory.mktemp("hub")
    identity = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
                for what, value in (("NAME", "Instructor"), ("EMAIL", "instructor@example.org"))}
    subprocess.run([sys.executable, str(ROOT / "deploy" / "class_repo.py"), str(state / CLASS)], check=True,
                   env={**os.environ, **identity})
    for learner in (*LEARNERS, INSTRUCTOR):  # no autosave: the tests save explicitly
        for name, values in LAB_SETTINGS.items():
            if "notification" in name:
                continue  # the hub's own defaults turn the news prompt off (test_no_news_prompt)
            path = state / "home" / learner / ".jupyter" / "lab" / "user-settings" / name
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(values))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "MATHNN_HUB"))}
    password = secrets.token_urlsafe(12)
    port = free_port_block(4)  # the hub takes HUB_PORT to HUB_PORT+3, as with make hub HUB_PORT=...
    env.update(MATHNN_HUB_DIR=str(state), MATHNN_DATA=str(shared_mnist[0]), MATHNN_HUB_USERS=",".join(LEARNERS),
               MATHNN_HUB_INSTRUCTORS=INSTRUCTOR, MATHNN_HUB_PASSWORD=password, MATHNN_CLASS_REPO=str(state / CLASS),
               MATHNN_HUB_PORT=str(port), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "deploy" / "jupyterhub_config.py")]
    log_path = state / "jupyterhub.log"
    proc = start_logged(cmd, state, env, log_path)
    hub = Hub(f"http://127.0.0.1:{port}", proc, state, log_path)
    hub.password = password
    try:
        wait_until_up(proc, lambda: urllib.request.urlopen(f"{hub.url}/hub/api", timeout=5).read(), HUB_TIMEOUT,
                      "JupyterHub", log_path)
        yield hub
    finally:
        # the hub stops the servers (cleanup_servers) and the proxy; then anything left of the proxy, the
        # learners' servers and their kernels
        stop_logged(proc, descendants(proc.pid), PROCESS_MARKERS, log_path, timeout=30)


# --- two learners in the browser ----------------------------------------------------------------

def class_link(hub):
    """The link an instructor hands the class: nbgitpuller pulls the class repository, then opens lesson 01."""
    return (f"{hub.url}/hub/user-redirect/git-pull?repo={quote(str(hub.state / CLASS), safe='')}"
            f"&branch=main&urlpath={quote(f'lab/tree/{CLASS}/{LESSON}', safe='')}")


def log_in(page, hub, user, url):
    """Go to url, which sends to the hub's login page; log in as user."""
    page.goto(url, wait_until="domcontentloaded")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")


def log_in_and_open(browser, hub, learner):
    """A learner clicks the class link, logs in, and lands on their own copy of lesson 01 with an idle kernel."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page, hub, learner, class_link(hub))
    page.wait_for_url(f"**/user/{learner}/lab/tree/{CLASS}/{LESSON}", timeout=SPAWN_TIMEOUT * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('.jp-Dialog .jp-mod-accept') || ({STATUS_IDLE_JS})",
                           timeout=60_000)
    if page.locator(".jp-Dialog .jp-mod-accept").count():  # a kernel to choose: the default
        page.locator(".jp-Dialog .jp-mod-accept").click()
    lab = Lab(page, hub)
    lab.wait_idle(timeout=60)
    return context, lab


def start_run_all(lab):
    lab.menu("Run", "runmenu:run-all")
    lab.page.wait_for_function("""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                                  .some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))""", timeout=30_000)


def errors_by_cell(lab):
    """{cell index: [error texts]} of the open notebook (error outputs show as stderr with a traceback)."""
    texts = lab.page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
        """cells => cells.map(c => [...c.querySelectorAll(
               '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.textContent))""")
    return {i: [t for t in ts if "Traceback" in t or "Error" in t] for i, ts in enumerate(texts)
            if any("Traceback" in t or "Error" in t for t in ts)}


def cell(lab, index):
    return lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def write_cell(lab, index, text, save=True):
    """Replace the source of cell index with text, as a learner types it, and save (File > Save)."""
    editor = cell(lab, index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    lab.page.keyboard.press("ControlOrMeta+a")
    lab.page.keyboard.insert_text(text)  # no auto-indent or auto-closed brackets, unlike typing key by key
    if not save:
        return
    lab.menu("File", "docmanager:save")
    lab.page.wait_for_function("""() => !document.querySelector(
        '.jp-mod-current.jp-mod-dirty, .lm-TabBar-tab.jp-mod-current.jp-mod-dirty')""", timeout=15_000)


@pytest.fixture(scope="module")
def learners(browser, hub):
    """{learner: (their Lab, errors_by_cell after Run All)}: both logged in, lesson 01 run at the same time."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened = {learner: log_in_and_open(browser, hub, learner) for learner in LEARNERS}
    try:
        for _, lab in opened.values():
            start_run_all(lab)
        for learner, (_, lab) in opened.items():
            lab.wait_idle(timeout=RUN_ALL_TIMEOUT)
            lab.page.screenshot(path=str(ARTIFACTS / f"hub_{learner}_01_forward.png"))
        yield {learner: (lab, errors_by_cell(lab)) for learner, (_, lab) in opened.items()}  # errors: before A's edit
    finally:
        for context, _ in opened.values():
            context.close()


def lesson_cells():
    return json.loads((ROOT / "notebooks" / LESSON).read_text())["cells"]


def test_each_learner_runs_lesson_01(learners):
    """Run All stops nowhere: the only errors are the exercises' NotImplementedError, in cells tagged for it."""
    cells = lesson_cells()
    raising = {i for i, c in enumerate(cells) if c["cell_type"] == "code"
               and any(line.startswith("raise NotImplementedError(")
                       for line in "".join(c["source"]).splitlines())}  # the stub at top level
    assert raising, f"{LESSON} has no exercise left as a stub: nothing shows that the run went past one"
    for learner in LEARNERS:
        lab, errors = learners[learner]
        assert lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count() == len(cells)
        assert set(errors) == raising, f"{learner}: errors in cells {sorted(errors)}, expected {sorted(raising)}"
        for i, texts in errors.items():
            assert all("NotImplementedError" in t for t in texts), f"{learner}, cell {i}: {texts}"
            assert "raises-exception" in cells[i]["metadata"].get("tags", [])
        prompts = lab.prompts()
        assert all(p not in ("[ ]:", "[*]:") for p in prompts), f"{learner}: cells not run: {prompts}"


def run_cells(lab, first, count):
    """Run count cells from cell first on, as a learner does with Shift+Enter; wait until the kernel is idle."""
    editor = cell(lab, first).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    for _ in range(count):
        lab.page.keyboard.press("Shift+Enter")
    lab.wait_idle(timeout=60)


@pytest.fixture(scope="module")
def relus(learners):
    """A writes a right relu (and saves), B a wrong one (not saved); each runs it and its checker cell.
    Returns {learner: the checker cell's output text}."""
    cells = lesson_cells()
    relu = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("def relu("))
    assert "".join(cells[relu + 1]["source"]).startswith("relu = check.relu(relu)"), "the checker cell moved"
    outputs = {}
    for learner, code, save in ((LEARNERS[0], ADAS_RELU, True), (LEARNERS[1], ALANS_RELU, False)):
        lab = learners[learner][0]
        write_cell(lab, relu, code, save=save)
        run_cells(lab, relu, 2)
        outputs[learner] = cell(lab, relu + 1).locator(".jp-OutputArea").inner_text()
    return relu, outputs


def test_the_checkers_answer_each_learner(relus):
    _, outputs = relus
    a, b = LEARNERS
    assert "✓ relu" in outputs[a], outputs[a]
    assert "✗ relu" in outputs[b] and "using mathnn's relu" in outputs[b], outputs[b]
    for text in outputs.values():
        assert "class view" not in text, f"the class view did not take a verdict: {text}"


def test_edits_stay_their_own(relus, learners, hub):
    a, b = LEARNERS
    relu, _ = relus
    mine = json.loads((hub.home(a) / CLASS / LESSON).read_text())
    assert "".join(mine["cells"][relu]["source"]) == ADAS_RELU
    assert any(c.get("outputs") for c in mine["cells"]), "A's saved notebook lost the outputs of Run All"
    upstream = (hub.state / CLASS / LESSON).read_bytes()
    assert (hub.home(b) / CLASS / LESSON).read_bytes() == upstream, "B's copy changed"
    assert ADAS_RELU not in (hub.state / CLASS / LESSON).read_text()


def test_both_kernels_map_the_one_shared_mnist(learners, hub, shared_mnist):
    folder, _ = shared_mnist
    kernels = hub.kernels()
    assert sorted(kernels) == sorted(LEARNERS) and all(len(pids) == 1 for pids in kernels.values()), kernels
    inodes = {(os.stat(folder / name).st_dev, os.stat(folder / name).st_ino): name for name in SHARED_NPY}
    for learner, [pid] in kernels.items():
        mapped = {}
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].endswith(".npy") and "mnist" in fields[5]:
                mapped.setdefault(fields[5], set()).add((fields[1], fields[3], int(fields[4])))
        assert sorted(mapped) == sorted(str(folder / name) for name in SHARED_NPY), (
            f"{learner}'s kernel maps {sorted(mapped)}, not the shared copies in {folder}")
        for path, regions in mapped.items():
            for perms, dev, inode in regions:
                assert "w" not in perms, f"{learner}'s kernel maps {path} writable ({perms})"
                major, minor = (int(x, 16) for x in dev.split(":"))
                assert (os.makedev(major, minor), inode) in inodes, f"{path} mapped is not the shared file"


def test_shared_folder_unchanged(learners, shared_mnist):
    folder, before = shared_mnist
    assert snapshot(folder) == before


def test_each_learner_sees_their_memory(learners):
    """jupyter-resource-usage: the status bar shows the memory of the learner's server and kernels."""
    for learner in LEARNERS:
        text = learners[learner][0].page.locator("#jp-main-statusbar").inner_text()
        assert re.search(r"Mem: [\d.]+ ?[KMG]B", text), f"{learner}'s status bar: {text!r}"


def test_hub_state_and_homes_are_private(learners, hub):
    assert stat.S_IMODE((hub.state / "jupyterhub.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE((hub.state / "classview.sqlite").stat().st_mode) == 0o600
    for learner in LEARNERS:
        assert stat.S_IMODE(hub.home(learner).stat().st_mode) == 0o700, learner


# --- the instructor's class view ----------------------------------------------------------------

def class_view(hub):
    return f"{hub.url}/services/classview/"


@pytest.fixture(scope="module")
def instructor(browser, hub, relus):
    """The instructor logs in through the class view's link and lands on the class page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        log_in(page, hub, INSTRUCTOR, class_view(hub))
        page.wait_for_selector("#grid", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "hub_class_view.png"), full_page=True)
        yield page
    finally:
        context.close()


def grid(page):
    """{learner: {column header: cell text}} of the class page's table of learners."""
    return page.evaluate("""() => {
        const heads = [...document.querySelectorAll('#grid tr:first-child th')].map(e => e.textContent);
        return Object.fromEntries([...document.querySelectorAll('#grid tr.learner')].map(tr => [
            tr.dataset.user,
            Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i + 1], td.textContent]))]));
    }""")


def test_instructor_sees_both_learners(instructor):
    a, b = LEARNERS
    table = grid(instructor)
    assert sorted(table) == sorted(LEARNERS), table
    assert table[a]["01 relu"].startswith("✓ passed"), table[a]
    assert table[b]["01 relu"].startswith("✗ wrong (1 wrong)"), table[b]
    # Run All before: every other checker of lesson 01 ran on a stub
    for learner in LEARNERS:
        others = {head: text for head, text in table[learner].items() if head != "01 relu"}
        assert others and all(text.startswith("○ not written") for text in others.values()), others
    stuck = instructor.locator('#stuck tr.stuck-part[data-part="relu"] td').all_inner_texts()
    assert stuck == ["01", "relu", "1", "2"], stuck
    hints = instructor.locator("#hints").inner_text()
    assert "01 relu" in hints and "negative entries" in hints, hints


def test_a_learner_is_refused_the_class_view(learners, hub, relus):
    lab = learners[LEARNERS[1]][0]
    page = lab.page.context.new_page()  # the learner's browser, logged in to the hub
    try:
        response = page.goto(class_view(hub), wait_until="domcontentloaded")
        assert response.status == 403, response.status
        assert "may not read the class view" in page.content()
        assert "relu" not in page.content()
    finally:
        page.close()


def test_no_news_prompt(learners, hub):
    """deploy/lab-settings/overrides.json: JupyterLab never asks a learner about "Jupyter news"."""
    learner = LEARNERS[0]
    page = learners[learner][0].page
    setting = page.evaluate("""async url => {  // as JupyterLab asks: with the _xsrf cookie in a header
        const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '');
        const r = await fetch(url, {headers: {'X-XSRFToken': xsrf}});
        return [r.status, await r.text()];
    }""",
                            f"/user/{learner}/lab/api/settings/@jupyterlab/apputils-extension:notification")
    status, body = setting
    assert status == 200, setting
    plugin = json.loads(body)  # the server applies the overrides to the schema's defaults
    defaults = {key: spec.get("default") for key, spec in plugin["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    assert "fetchNews" not in plugin["settings"], "a setting of the learner's own would hide the hub's default"
    assert not page.locator(".jp-toast-message", has_text=re.compile("news", re.I)).count()
