"""deploy/ and binder/: the trial hub starts, or says in one line why not; the learner's image holds the learner's
runtime only, as repo2docker reads it.

The trial hub (deploy/jupyterhub_config.py) is started as `make hub` starts it (MATHNN_HUB_PORT and friends):
a busy port, a short password or a bad port stop it with a message and no traceback; two hubs on other ports
run side by side. docker is not available here, so the image (binder/) is checked by reading its files the
way repo2docker does (which folder, which build pack, which Python, which pip lines, what postBuild leaves)
and, in the slow test, by installing its requirements into a clean venv that then runs the learner's edition.
"""

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
GUIDE = ROOT / "docs" / "teaching.md"
JUPYTERHUB_OF_CHART = {"3": "4", "4": "5"}  # z2jh chart major -> the JupyterHub major its hub runs (z2jh changelog)


# --- the trial hub ------------------------------------------------------------------------------

def free_block(n):
    """A port p with p .. p+n-1 free on 127.0.0.1."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n > 65535:
            continue
        try:
            for port in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


def hub_env(tmp_path, port, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "MATHNN_HUB"))}
    env.update({"MATHNN_HUB_DIR": str(tmp_path / "hub"), "MATHNN_DATA": str(tmp_path), "MATHNN_HUB_PORT": str(port),
                "MATHNN_HUB_PASSWORD": "a-long-password", "MATHNN_CLASS_REPO": str(tmp_path / "class"),
                "PYTHONDONTWRITEBYTECODE": "1", **extra})
    return env


def start_hub(tmp_path, port, **extra):
    return subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=tmp_path,
                            env=hub_env(tmp_path, port, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def refused(tmp_path, port, **extra):
    """Start the hub, expecting it to refuse: its whole output (it must exit within 60 s)."""
    proc = start_hub(tmp_path, port, **extra)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    return out


@pytest.mark.parametrize("busy", [0, 1, 2, 3])
def test_a_busy_port_names_hub_port(tmp_path, busy):
    port = free_block(4)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port + busy))
        s.listen()
        out = refused(tmp_path, port)
    assert f"port {port + busy} " in out and "HUB_PORT" in out and "make hub HUB_PORT=" in out, out


@pytest.mark.parametrize("password", ["short", "1234567"])
def test_a_short_password_is_one_line(tmp_path, password):
    out = refused(tmp_path, free_block(4), MATHNN_HUB_PASSWORD=password)
    assert f"MATHNN_HUB_PASSWORD has {len(password)} characters" in out and "8 or more" in out, out


@pytest.mark.parametrize("value", ["abc", "80", "65535"])
def test_a_bad_port_is_one_line(tmp_path, value):
    out = refused(tmp_path, value)
    assert "HUB_PORT" in out and "1024 to 65532" in out, out


def test_the_hub_state_is_private(tmp_path):
    refused(tmp_path, free_block(4), MATHNN_HUB_PASSWORD="short")  # the config ran up to the password
    assert stat.S_IMODE((tmp_path / "hub").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "hub" / "jupyterhub.sqlite").stat().st_mode) == 0o600


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def test_two_hubs_run_side_by_side(tmp_path):
    """Like `make hub` beside `make hub HUB_PORT=...`: each its own four ports and state; both up at once."""
    ports = [free_block(4)]
    ports.append(next(p for p in iter(lambda: free_block(4), None) if abs(p - ports[0]) >= 4))
    procs = []
    try:
        for i, port in enumerate(ports):
            (tmp_path / str(i)).mkdir()
            procs.append(start_hub(tmp_path / str(i), port))
        deadline = time.monotonic() + 90
        for proc, port in zip(procs, ports):
            while answers(f"http://127.0.0.1:{port}/hub/api") != 200:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, f"the hub on {port} did not answer"
                time.sleep(0.5)
        for proc, port in zip(procs, ports):
            assert proc.poll() is None
            # the class view answers through each hub's proxy (to its login: 302, followed to the login page)
            assert answers(f"http://127.0.0.1:{port}/services/classview/") == 200
            assert answers(f"http://127.0.0.1:{port + 3}/services/classview/api/class") == 403  # no token
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                out, _ = proc.communicate()
            if os.geteuid() == 0:  # said where the hub starts, not only in the config's docstring
                assert "runs as root, so every learner's server and kernel runs as root" in out


def test_no_news_prompt_for_learners():
    """deploy/lab-settings/overrides.json sets settings that exist in JupyterLab's own schema, to valid values."""
    overrides = json.loads((ROOT / "deploy" / "lab-settings" / "overrides.json").read_text())
    plugin = "@jupyterlab/apputils-extension:notification"
    assert overrides[plugin] == {"fetchNews": "false", "checkForUpdates": False}
    package, name = plugin.split(":")
    schema = json.loads((Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas" / package / f"{name}.json")
                        .read_text())
    for key, value in overrides[plugin].items():
        spec = schema["properties"][key]
        assert value in spec.get("enum", [value]) and isinstance(value, {"boolean": bool}.get(spec["type"], str))


# --- the learner's image, as repo2docker reads it -------------------------------------------------

def requirement_lines():
    """binder/requirements.txt without comments and blank lines (pip's rules: '#' after whitespace)."""
    lines = [re.sub(r"(^|\s)#.*$", "", line).strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    return [line for line in lines if line]


def name_of(line):
    return re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")


def is_local(line):
    """repo2docker's utils.is_local_pip_requirement: a line that needs the whole repository."""
    if line.startswith(("-r", "-c", "--requirement", "--constraint")):
        return True
    if line.startswith("--") and "=" in line:
        line = line.split("=", 1)[1]
    elif line.startswith("-"):
        rest = line.split(None, 1)[1:]
        if not rest:
            return False
        line = rest[0]
    return "file://" in line or (line.split("://", 1)[1] if "://" in line else line).startswith(".")


def test_repo2docker_reads_binder_and_builds_with_pip():
    """binder/ (no .binder/): repo2docker ignores the root's environment.yml (the developers' environment);
    nothing in binder/ selects another build pack than Python's (requirements.txt + runtime.txt)."""
    assert BINDER.is_dir() and not (ROOT / ".binder").exists()
    others = ["Dockerfile", "environment.yml", "Pipfile", "Pipfile.lock", "Project.toml", "REQUIRE", "install.R",
              "default.nix", "apt.txt", "setup.py"]
    assert not [name for name in others if (BINDER / name).exists()]
    assert sorted(p.name for p in BINDER.iterdir()) == ["postBuild", "requirements.txt", "runtime.txt"]


def test_python_pin_is_one_repo2docker_reads():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3)\.(\d+)", runtime)
    assert match, f"runtime.txt must be python-3.X, not {runtime!r}"
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert int(match.group(2)) >= int(re.fullmatch(r">=3\.(\d+)", minimum).group(1))


def test_requirements_are_the_learner_runtime_only():
    lines = requirement_lines()
    names = {name_of(line) for line in lines if not line.startswith("-") and line != "."}
    assert names == {"torch", "jupyterhub", "jupyterlab", "ipykernel", "ipywidgets", "ipycanvas", "nbgitpuller",
                     "jupyter-resource-usage"}
    assert "." in lines and is_local("."), "mathnn itself, installed from the repository's copy"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {name_of(d) for d in project["optional-dependencies"]["dev"]}
    assert not names & dev, f"test / lint / nbgrader tools in the image: {names & dev}"
    # PyTorch's CPU build: its own index, and pyproject's cap
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    [torch] = [line for line in lines if name_of(line) == "torch"]
    assert torch.replace(" ", "") in {t.replace(" ", "") for t in project["optional-dependencies"]["torch"]}
    # the same lower bounds as pyproject for what both list
    for spec in project["optional-dependencies"]["notebooks"] + project["optional-dependencies"]["hub"]:
        if name_of(spec) in names and name_of(spec) != "jupyterhub":
            assert spec in lines, f"{spec} (pyproject) differs in binder/requirements.txt"


def test_jupyterhub_major_matches_the_chart_the_guide_names():
    [hub] = [line for line in requirement_lines() if name_of(line) == "jupyterhub"]
    low, high = re.fullmatch(r"jupyterhub>=(\d+)\.\d+,<(\d+)", hub.replace(" ", "")).groups()
    assert int(high) == int(low) + 1, f"{hub}: one major version only"
    chart = re.search(r"z2jh chart (\d+)\.x\b.{0,80}?JupyterHub (\d+)\.x", GUIDE.read_text(), re.S)
    assert chart, "docs/teaching.md names no z2jh chart version with its JupyterHub"
    assert JUPYTERHUB_OF_CHART[chart.group(1)] == chart.group(2) == low


def test_post_build_leaves_the_learner_edition_only(tmp_path):
    """postBuild, run as repo2docker runs it (in a copy of the repository, NB_PYTHON_PREFIX set)."""
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR and post_build.read_text().startswith("#!/bin/bash")
    repo, prefix = tmp_path / "repo", tmp_path / "prefix"
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True,
                             check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    (repo / ".git").mkdir()  # repo2docker's copy may hold the history: it holds the solutions too
    learner = sorted(p.relative_to(repo) for p in (repo / "notebooks" / "learner").glob("*.ipynb"))
    assert learner and list((repo / "notebooks").glob("0*.ipynb")), "nothing to check"
    subprocess.run([str(repo / "binder" / "postBuild")], cwd=repo, env={**os.environ, "NB_PYTHON_PREFIX": str(prefix)},
                   check=True)
    left = sorted(p.relative_to(repo) for p in repo.rglob("*") if p.is_file())
    assert left == sorted([*learner, Path("notebooks/notation.md")]), left
    installed = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(installed.read_text()) == json.loads(
        (ROOT / "deploy" / "lab-settings" / "overrides.json").read_text())


RUN_LEARNER_EDITION = r"""
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
failures = []
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": path.rsplit("/", 1)[0]}})
    client.execute()
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                failures.append(f"{path} cell {i}: {out['ename']}: {out['evalue']}")
            elif out.get("output_type") == "error" and out["ename"] != "NotImplementedError":
                failures.append(f"{path} cell {i}: {out['ename']}: {out['evalue']} (a stub should raise that only)")
print("\n".join(failures) or "ok")
sys.exit(1 if failures else 0)
"""


@pytest.mark.slow
def test_the_learner_runtime_runs_the_learner_edition(tmp_path):
    """pip install binder/requirements.txt into a clean venv (no dev tools), then Run All of learner lessons in it.

    Slow: a venv with JupyterLab and PyTorch (1-2 min from a local wheel cache), then the lessons
    (MATHNN_IMAGE_LESSONS, default "01 09": the forward pass and the PyTorch bridge, the lessons that need
    the most of the runtime: widgets and torch; "00 01 02 03 04 05 06 07 08 09 10" for all, several more
    minutes). On a busy 2-core machine: 2.5 min with the default lessons (6.5 min for 00, 01, 04, 09).
    download.pytorch.org is not reachable here: the install leaves out the --extra-index-url line (and uses the
    machine's index, whose torch is the CPU build). Python is this one, not runtime.txt's (checked above).
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(line for line in requirement_lines() if not line.startswith("--extra-index")))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", "-r",
                    str(requirements)],
                   cwd=ROOT, check=True)
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], check=True,
                            capture_output=True, text=True).stdout
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed)}
    assert {"mathnn", "jupyterlab", "torch", "jupyter-resource-usage", "nbgitpuller"} <= installed
    assert not installed & {"pytest", "ruff", "nbval", "playwright", "nbgrader", "nbstripout"}, installed
    lessons = os.environ.get("MATHNN_IMAGE_LESSONS", "01 09").split()
    paths = [str(next((ROOT / "notebooks" / "learner").glob(f"{n}_*.ipynb"))) for n in lessons]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "agg", "MATHNN_TRAINED": str(tmp_path / "t"),
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "JUPYTER_PATH": "", "PYTHONPATH": ""}
    run = subprocess.run([str(venv / "bin" / "python"), "-c", RUN_LEARNER_EDITION, *paths], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
