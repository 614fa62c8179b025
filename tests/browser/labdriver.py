"""Driving JupyterLab from Playwright: the server handle, one open notebook, and the waits.

Used by conftest.py (fixtures) and the browser tests. Run All is clicked in the Run menu by its
command id (runmenu:run-all); the notebook counts as idle when no prompt shows [*], the execution
indicator is idle and the status bar says "| Idle", and all three still hold 400 ms later.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("MATHNN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
RUN_ALL_TIMEOUT = 120  # seconds for Run All of one notebook
SERVER_TIMEOUT = 90  # seconds for JupyterLab to start

# User settings: no news/update toast over the page, no autosave (the tests must never rewrite a
# notebook), every cell in the DOM (no virtual scrolling) so that every output can be checked.
# JavaScript: the status bar says "Python 3 (ipykernel) | Idle"
STATUS_IDLE_JS = ("[...document.querySelectorAll('#jp-main-statusbar *')]"
                  ".some(e => e.childElementCount === 0 && /\\|\\s*Idle/.test(e.textContent))")

LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def browser_required():
    return os.environ.get("MATHNN_REQUIRE_BROWSER", "") not in ("", "0")


def skip_or_fail(reason):
    """Skip (saying why) on a learner's machine; fail in CI, where MATHNN_REQUIRE_BROWSER=1."""
    if browser_required():
        pytest.fail(f"{reason} (MATHNN_REQUIRE_BROWSER is set, so this is a failure)", pytrace=False)
    pytest.skip(f"{reason}; install it with: apt-get install -y chromium")


def notebook_paths():
    """The complete lessons, as the course's manifest (mathnn/course.toml) lists them."""
    from mathnn import course

    return [NOTEBOOKS / lesson.file for lesson in course.lessons()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid):
    """PIDs of the direct children of pid (kernels run in their own sessions, so killpg misses them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid):
    """PIDs of every process below pid (kernels run in their own sessions: killpg misses them)."""
    found, todo = [], [pid]
    while todo:
        children = children_of(todo.pop())
        found += children
        todo += children
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def log_tail(log_path, n=40):
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def start_logged(cmd, cwd, env, log_path):
    """Start cmd (a server) in a process group of its own, its output going to log_path."""
    with open(log_path, "w") as log:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_until_up(proc, ping, timeout, name, log_path):
    """Call ping() until it raises no OSError; fail the test, with the log's tail, when proc exits first or
    timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with code {proc.returncode}:\n{log_tail(log_path)}", pytrace=False)
        try:
            ping()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {timeout} s:\n{log_tail(log_path)}", pytrace=False)
            time.sleep(0.25)


def stop_logged(proc, leftovers, markers, log_path, timeout):
    """Stop a server started by start_logged: SIGTERM to its process group (SIGKILL after timeout seconds),
    then SIGKILL to the leftovers, pids seen below it before, whose command line still holds one of markers
    (checked by name: a pid may have been reused); its log is kept in tests/artifacts/."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    for pid in leftovers:
        if any(marker in cmdline(pid) for marker in markers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / log_path.name).write_text(log_path.read_text(errors="replace"))


class Server:
    """A running JupyterLab: its URL, token, and a tiny REST client."""

    def __init__(self, port, token, proc, log_path):
        self.base = f"http://127.0.0.1:{port}"
        self.token, self.proc, self.log_path = token, proc, log_path

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, path):
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

    def shutdown_kernels(self):
        """Delete every session and kernel: the next notebook gets a fresh kernel."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

class Lab:
    """One notebook open in JupyterLab in a fresh browser context, with a fresh kernel."""

    def __init__(self, page, server):
        self.page, self.server = page, server

    # --- opening and running ----------------------------------------------------------

    def open(self, relpath):
        """Open a notebook with a fresh kernel and wait until that kernel is idle."""
        self.server.shutdown_kernels()
        page = self.page
        page.goto(self.server.url(relpath), wait_until="domcontentloaded", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        # a notebook without a kernelspec asks which kernel to use (take the default); else the kernel starts
        page.wait_for_function(f"() => document.querySelector('.jp-Dialog .jp-mod-accept') || ({STATUS_IDLE_JS})",
                               timeout=60_000)
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            dialog.click()
        # more room for the notebook: collapse the file browser
        sidebar_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if sidebar_tab.count():
            sidebar_tab.click()
        self.wait_idle(timeout=60)

    def menu(self, menu_label, command):
        """Click a top menu, then one of its entries by command id."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu_label}$")).click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()

    def set_theme(self, name):
        """Switch JupyterLab's theme ("JupyterLab Light", "JupyterLab Dark") in Settings > Theme, as a learner
        does, and wait until the page wears it. JupyterLab saves the choice in the server's user settings, so
        later pages get it too: switch back when done."""
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
        page.locator('.lm-Menu-item[data-type="submenu"]', has_text=re.compile("^Theme")).click()
        page.locator('.lm-Menu-item[data-command="apputils:change-theme"]').filter(
            has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{name}$"))).click()
        page.wait_for_function("name => document.body.dataset.jpThemeName === name", arg=name, timeout=30_000)
        page.wait_for_timeout(500)  # the theme's fonts and icons settle

    def run_all(self, timeout=RUN_ALL_TIMEOUT):
        self.menu("Run", "runmenu:run-all")
        # the first cell is queued or running before we wait for the end
        self.page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                     .some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))""", timeout=30_000)
        self.wait_idle(timeout=timeout)

    def wait_idle(self, timeout=60):
        """Wait until no cell is queued or running and the kernel is idle, and still is 400 ms later."""
        predicate = """() => {
            if ([...document.querySelectorAll('.jp-InputArea-prompt')].some(e => e.textContent.includes('[*]')))
                return false;
            const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
            if (indicator && indicator.getAttribute('data-status') !== 'idle') return false;
            return STATUS_IDLE;
        }""".replace("STATUS_IDLE", STATUS_IDLE_JS)
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(deadline - time.monotonic(), 0.1)
            self.page.wait_for_function(predicate, timeout=remaining * 1000)
            self.page.wait_for_timeout(400)
            if self.page.evaluate(predicate):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not stay idle within {timeout} s")

    # --- reading the page -------------------------------------------------------------

    def prompts(self):
        """The execution prompts of all code cells, e.g. ['[1]:', '[2]:', ...]."""
        return self.page.eval_on_selector_all(".jp-CodeCell .jp-InputArea-prompt",
                                              "els => els.map(e => e.textContent.trim())")

    def errors(self):
        """Texts of error outputs and of stderr outputs that hold a traceback."""
        texts = self.page.eval_on_selector_all(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
            "els => els.map(e => e.textContent)")
        return [t for t in texts if "Traceback" in t or re.search(r"^\w*(Error|Exception)\b", t, re.M)]

    def stderr(self):
        return self.page.eval_on_selector_all(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
            "els => els.map(e => e.textContent)")

    def images(self):
        """The src of every PNG image in an output (cell outputs and Output widgets)."""
        return self.page.eval_on_selector_all(".jp-OutputArea-output img",
                                              "els => els.map(e => e.getAttribute('src') || '')")

    # --- screenshots ------------------------------------------------------------------

    def screenshot_notebook(self, name, max_height=15_000):
        """A screenshot of the whole notebook: make the window as tall as the notebook, then shoot."""
        page = self.page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        height = page.evaluate("""() => {
            const outer = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
            outer.scrollTop = 0;
            return outer.scrollHeight + outer.getBoundingClientRect().top;
        }""")
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 100, max_height)})
        page.wait_for_timeout(500)  # let JupyterLab lay out the taller window
        page.evaluate("""() => document.querySelector(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer').scrollTop = 0""")
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        return path

    def screenshot(self, locator, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        locator.scroll_into_view_if_needed()
        path = ARTIFACTS / f"{name}.png"
        locator.screenshot(path=str(path))
        return path


class NotebookRunner:
    """Opens and runs one notebook at a time; the tests of that notebook share its page.

    ``run(path)`` returns the :class:`Lab` of ``path`` after Run All. The first call for a
    notebook closes the previous one (its browser context and its kernel), opens this one
    with a fresh kernel, runs it, and saves the screenshot ``NN_name.png``; later calls for
    the same notebook return the same page (or fail again if Run All failed).
    """

    def __init__(self, browser, server):
        self.browser, self.server = browser, server
        self.name = self.context = self.lab = self.error = None

    def run(self, path, require_clean=True):
        """The page of ``path`` after Run All. With require_clean, fail at once if Run All showed an error:
        the checks that follow it (widgets, interactions) would only fail for the same reason."""
        if self.name != path.name:
            self._open_and_run(path)
        if self.error:
            pytest.fail(f"Run All of {path.name} failed earlier: {self.error}", pytrace=False)
        if require_clean and self.lab.errors():
            pytest.fail(f"Run All of {path.name} stopped at an error output "
                        f"(see test_run_all_without_errors[{path.stem}])", pytrace=False)
        return self.lab

    def _open_and_run(self, path):
        self.close()
        self.name = path.name
        self.context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(30_000)
        self.lab = Lab(self.context.new_page(), self.server)
        try:
            self.lab.open(path.relative_to(ROOT).as_posix())
            self.lab.run_all()
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"
            raise
        finally:
            try:
                self.lab.screenshot_notebook(path.stem)
            except Exception as e:  # a missing screenshot must not hide the real failure
                print(f"could not save the screenshot of {path.name}: {e}")

    def close(self):
        if self.context is not None:
            self.context.close()
        self.name = self.context = self.lab = self.error = None
        try:
            self.server.shutdown_kernels()
        except OSError:
            pass
