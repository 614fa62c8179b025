"""`mathnn lab [DIR]`: the learner's edition copied into DIR without replacing a learner's file, then JupyterLab."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from argparse import Namespace
from pathlib import Path

import pytest

from mathnn import cli, course, locations

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(path.name for path in (NOTEBOOKS / "learner").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = [Path("notation.md")] + [Path("learner", name) for name in LESSONS]


def tree(folder):
    """Every file under folder, relative, as {path: bytes}."""
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_first_time_every_file_is_copied_as_in_notebooks(tmp_path):
    assert len(LESSONS) == 11
    copied, kept = course.copy_course(tmp_path / "course", NOTEBOOKS)
    assert (copied, kept) == (EXPECTED, [])
    assert tree(tmp_path / "course") == {name: (NOTEBOOKS / name).read_bytes() for name in EXPECTED}


def test_again_only_what_is_missing_is_copied_and_the_learners_files_stay(tmp_path):
    folder = tmp_path / "course"
    course.copy_course(folder, NOTEBOOKS)
    mine = folder / "learner" / "03_backprop.ipynb"
    mine.write_text('{"my": "work"}')
    (folder / "learner" / "05_initialization.ipynb").unlink()
    (folder / "learner" / "my_notes.ipynb").write_text("{}")
    copied, kept = course.copy_course(folder, NOTEBOOKS)
    assert copied == [Path("learner", "05_initialization.ipynb")]
    assert kept == [name for name in EXPECTED if name not in copied]
    assert mine.read_text() == '{"my": "work"}'
    assert (folder / "learner" / "my_notes.ipynb").read_text() == "{}"
    assert (folder / copied[0]).read_bytes() == (NOTEBOOKS / copied[0]).read_bytes()


@pytest.mark.parametrize("blocked", ["course", "course/learner"])
def test_a_file_where_a_folder_should_be_is_a_clear_error(tmp_path, blocked):
    (tmp_path / blocked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocked).write_text("not a folder")
    with pytest.raises(course.CourseError, match=re.escape(f"{tmp_path / blocked} is a file, not a folder")):
        course.copy_course(tmp_path / "course", NOTEBOOKS)
    assert (tmp_path / blocked).read_text() == "not a folder"


def test_a_failed_write_leaves_no_partial_copy_and_names_the_folder(tmp_path, monkeypatch):
    folder = tmp_path / "course"
    real_open = open

    class Full:
        def __init__(self, target):
            self.file = real_open(target, "xb")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, content):
            self.file.write(content[:100])
            raise OSError(28, "No space left on device", str(folder / "notation.md"))

    monkeypatch.setattr(course, "open", lambda target, mode: Full(target), raising=False)
    with pytest.raises(course.CourseError, match="cannot write into .*notation.md \\(No space left on device\\)"):
        course.copy_course(folder, NOTEBOOKS)
    assert tree(folder) == {}, "a partial copy was left, which the next run would keep"


def test_the_installed_package_copy_comes_first_and_its_absence_is_explained(tmp_path, monkeypatch):
    packaged = tmp_path / "site-packages" / "mathnn" / "notebooks"
    monkeypatch.setattr(locations, "PACKAGED_NOTEBOOKS", packaged)
    assert course.source_folder() == NOTEBOOKS  # a source checkout, without a packaged copy
    packaged.mkdir(parents=True)
    assert course.source_folder() == packaged
    packaged.rmdir()
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", False)
    with pytest.raises(course.CourseError, match="has no course files"):
        course.source_folder()


def test_lab_argv_serves_the_folder_on_localhost_at_the_first_lesson(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000, raising=False)
    argv = course.lab_argv(tmp_path, 8899, open_browser=True)
    assert argv == ["--ServerApp.ip=127.0.0.1", "--ServerApp.port=8899", f"--ServerApp.root_dir={tmp_path}",
                    str(tmp_path / "learner" / "00_data.ipynb")]
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    assert course.lab_argv(tmp_path, 8899, open_browser=False)[-3:-1] == ["--no-browser", "--allow-root"]
    monkeypatch.delattr(os, "geteuid", raising=False)  # Windows: no root, no geteuid
    assert "--allow-root" not in course.lab_argv(tmp_path, 8899, open_browser=True)


def test_lab_copies_then_starts_jupyterlab_in_this_process(tmp_path, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(course, "start_lab", lambda argv: started.append(argv) or 0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["lab", "--port", "9000"]) == 0
    folder = tmp_path / "mathnn-course"  # the default
    assert sorted(tree(folder)) == sorted(EXPECTED)
    assert started == [course.lab_argv(folder, 9000, open_browser=True)]
    assert "copied into" in capsys.readouterr().out
    assert cli.main(["lab", "--copy-only"]) == 0 and len(started) == 1
    assert "12 files you already have" in capsys.readouterr().out


def test_without_jupyterlab_lab_says_how_to_install_it_and_copies_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(course.importlib.util, "find_spec", lambda name: None)
    args = Namespace(folder=tmp_path / "course", copy_only=False, port=8888, no_browser=True)
    assert course.lab(args) == 2
    assert "pip install 'mathnn[notebooks]'" in capsys.readouterr().err
    assert not (tmp_path / "course").exists()
    assert course.lab(Namespace(**{**vars(args), "copy_only": True})) == 0  # --copy-only needs no JupyterLab


@pytest.mark.parametrize("text", ["0", "65536", "-1", "http", "88.5"])
def test_a_bad_port_is_a_usage_error(tmp_path, capsys, text):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["lab", str(tmp_path / "course"), "--port", text])
    assert exit_.value.code == 2 and "is not a port number" in capsys.readouterr().err
    assert not (tmp_path / "course").exists()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_python_m_mathnn_lab_serves_the_copy_with_a_token(tmp_path):
    """The real thing: `python -m mathnn lab DIR` copies, then JupyterLab answers on 127.0.0.1 only with the token
    it printed, and serves DIR (the lesson copied there)."""
    port, home = free_port(), tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython")}
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "mathnn", "lab", str(tmp_path / "course"), "--no-browser",
                                   "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, token = time.monotonic() + 60, None
        while token is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.3)
            token = next((line.split("token=")[1].split()[0] for line in log.read_text().splitlines()
                          if f"127.0.0.1:{port}/lab?token=" in line), None)
        assert token, log.read_text()
        base = f"http://127.0.0.1:{port}"
        assert http_status(f"{base}/api/status")[0] == 403
        assert http_status(f"{base}/api/status?token={token}")[0] == 200
        status, body = http_status(f"{base}/api/contents/learner/00_data.ipynb?content=0&token={token}")
        assert status == 200 and json.loads(body)["path"] == "learner/00_data.ipynb"
        assert "copied into" in log.read_text()
    finally:
        server.terminate()
        server.wait(30)
