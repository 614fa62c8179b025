"""Fixtures for the browser tests: a throw-away JupyterLab server, headless Chromium, a notebook runner.

The server runs on 127.0.0.1, a free port and a random token, with every Jupyter, IPython and
Matplotlib folder inside a temporary directory: the tests never read or write a learner's
settings, and autosave is off, so running a notebook never rewrites it. It is stopped at the
end of the session (its kernels first, then its process group), also when a test fails.

Chromium is Debian's (/usr/bin/chromium, or $MATHNN_CHROMIUM); Playwright's own browser
download can't work here. Without Chromium the tests are skipped, saying why, unless
MATHNN_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

import json
import os
import secrets
import sys
from pathlib import Path

import pytest
from labdriver import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LAB_SETTINGS,
    ROOT,
    SERVER_TIMEOUT,
    NotebookRunner,
    Server,
    children_of,
    free_port,
    skip_or_fail,
    start_logged,
    stop_logged,
    wait_until_up,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Run the tests of one notebook one after another, so each notebook is opened and run once."""
    slots = [i for i, item in enumerate(items)
             if Path(item.path).resolve().parent == HERE and hasattr(item, "callspec")
             and "notebook" in item.callspec.params]
    ordered = sorted((items[i] for i in slots), key=lambda item: item.callspec.params["notebook"].name)
    for i, item in zip(slots, ordered):
        items[i] = item


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path():
    if not CHROMIUM.exists():
        skip_or_fail(f"browser tests need Chromium at {CHROMIUM}, which is missing")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("browser tests need the playwright Python package (pip install -e '.[dev]')")
    return CHROMIUM


@pytest.fixture(scope="session")
def jupyter(chromium_path, tmp_path_factory):
    """JupyterLab serving the repository, isolated in a temporary directory; stopped at the end."""
    home = tmp_path_factory.mktemp("jupyter-home")
    settings_dir = home / "lab-user-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ)  # MATHNN_DATA, if set, passes through to the kernels with the rest
    for name in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "MPLBACKEND"):  # no outside kernels, config or backend
        env.pop(name, None)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "matplotlib"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    port, token = free_port(), secrets.token_hex(24)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={ROOT}", f"--LabApp.user_settings_dir={settings_dir}",
           f"--LabApp.workspaces_dir={home / 'workspaces'}",
           f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"]  # not .ipynb_checkpoints/ in the repo
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    log_path = home / "jupyterlab.log"
    proc = start_logged(cmd, ROOT, env, log_path)
    server = Server(port, token, proc, log_path)
    try:
        wait_until_up(proc, lambda: server.api("status"), SERVER_TIMEOUT, "JupyterLab", log_path)
        yield server
    finally:
        try:
            server.shutdown_kernels()
        except OSError:
            pass
        # kernels run in their own sessions: killpg does not reach one the server failed to stop
        stop_logged(proc, children_of(proc.pid), [b"ipykernel"], log_path, timeout=15)


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Debian Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def runner(browser, jupyter):
    runner = NotebookRunner(browser, jupyter)
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def notebooks(runner, request):
    """The notebook runner; after a failed test, a screenshot of the page as it was."""
    yield runner
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and runner.lab is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        try:
            runner.lab.page.screenshot(path=str(ARTIFACTS / f"FAILED_{name}.png"))
        except Exception as e:  # the screenshot is a bonus
            print(f"could not save a screenshot of the failure: {e}")
