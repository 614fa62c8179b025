"""mathnn.check's progress: one record() per verdict, kept in the MATHNN_PROGRESS file, only for the learner's own
function; check.progress() in any kernel; the time limit on the learner's function."""

import json
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from mathnn import check
from mathnn.check import core

progress = sys.modules["mathnn.check.progress"]  # the module (check.progress is the function that prints it)


def learners(fn, name=None):
    """fn as if defined in the learner's notebook (a Jupyter kernel runs the notebook as __main__)."""
    fn.__module__ = "__main__"
    if name:
        fn.__name__ = fn.__qualname__ = name
    return fn


def relu_right(Z):
    return np.maximum(Z, 0)


def relu_wrong(Z):
    return np.max(Z, 0)


def parts():
    return progress.load()


# ----------------------------------------------------------------------------- record()

def test_record_builds_one_entry_and_saves_it():
    entry = progress.record(1, "relu", "wrong", "a hint")
    assert set(entry) == {"lesson", "part", "state", "hint", "time"}
    assert entry["lesson"] == 1 and entry["part"] == "relu" and entry["state"] == "wrong" and entry["hint"] == "a hint"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["time"]), entry
    saved = json.loads(progress.path().read_text())["parts"]["relu"]
    assert saved == {"last": entry, "last_passed": None, "failures": 1}
    passed = progress.record(1, "relu", "passed")
    assert parts()["relu"] == {"last": passed, "last_passed": passed["time"], "failures": 0}
    with pytest.raises(ValueError, match="state must be one of"):
        progress.record(1, "relu", "fine")


def test_the_file_is_named_by_MATHNN_PROGRESS_else_the_users_data_folder(monkeypatch, tmp_path):
    assert progress.path() == tmp_path / "mathnn-progress.json"  # conftest's
    monkeypatch.delenv("MATHNN_PROGRESS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert progress.path() == tmp_path / "data" / "mathnn" / "progress.json"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress.path() == tmp_path / "home" / ".local" / "share" / "mathnn" / "progress.json"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "AppData"))
    assert progress.path() == tmp_path / "AppData" / "mathnn" / "progress.json"


# ----------------------------------------------------------------------------- whose verdict is recorded

def test_the_learners_own_function_records_its_verdict(capsys):
    check.relu(learners(relu_wrong, "relu"))
    assert parts()["relu"]["last"]["state"] == "wrong" and "axis 0" in parts()["relu"]["last"]["hint"]
    check.relu(learners(relu_right, "relu"))
    assert parts()["relu"]["last"]["state"] == "passed" and parts()["relu"]["last"]["hint"] is None

    def relu(Z):
        raise NotImplementedError

    check.relu(learners(relu))
    assert parts()["relu"]["last"]["state"] == "not written"


def test_demos_other_names_and_mathnns_own_never_overwrite_progress(capsys):
    check.relu(learners(relu_right, "relu"))
    check.relu(learners(relu_wrong, "relu_max"))  # a lesson's demonstration: another name
    check.relu(lambda Z: -Z)
    assert check.relu(check.relu.fallback) is check.relu.fallback  # the checker cell re-run after a ✗
    out = capsys.readouterr().out
    assert "this is mathnn's relu (check.relu.fallback), not yours: run your `def relu` cell first" in out, out
    assert parts()["relu"]["last"]["state"] == "passed" and list(parts()) == ["relu"]

    def relu(Z):  # defined elsewhere than the notebook (a module of the learner's): checked, not recorded
        return np.maximum(Z, 0)
    check.relu(relu)
    assert "not recorded in your progress" in capsys.readouterr().out


def test_a_function_that_only_calls_mathnns_is_told_and_recorded_wrong(capsys):
    import mathnn as mn

    def relu(Z):
        return mn.relu_forward(Z)[0]

    assert check.relu(learners(relu)) is check.relu.fallback
    assert "you called mn.relu_forward, mathnn's own relu: write it yourself" in capsys.readouterr().out
    assert parts()["relu"]["last"]["state"] == "wrong"

    from mathnn import l2_grads as imported

    def l2_grads(params, grads, weight_decay):
        return imported(params, grads, weight_decay)

    check.l2_grads(learners(l2_grads))
    assert "you called mn.l2_grads" in capsys.readouterr().out


def test_a_class_that_inherits_mathnns_linear_is_not_the_learners(capsys):
    import mathnn as mn

    Linear = learners(type("Linear", (mn.Linear,), {}))
    assert check.linear_module(Linear) is mn.Linear
    assert "you called mn.Linear" in capsys.readouterr().out
    assert check.linear_module(mn.Linear) is mn.Linear
    assert "run your `class Linear` cell first" in capsys.readouterr().out


def test_a_repeated_failure_is_remembered_across_kernels(capsys):
    progress.record(1, "relu", "wrong", "an earlier hint")  # another kernel's verdict
    check.relu(learners(relu_wrong, "relu"))
    assert "np.maximum(Z, 0)" in capsys.readouterr().out  # the second failure shows the code
    assert parts()["relu"]["failures"] == 2


# ----------------------------------------------------------------------------- check.progress()

def test_progress_shows_the_whole_course_in_a_new_kernel(capsys):
    check.relu(learners(relu_right, "relu"))
    check.softmax(learners(lambda Z: np.exp(Z), "softmax"))
    out = subprocess.run([sys.executable, "-c", "from mathnn import check; check.progress()"], env=os.environ,
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    lessons = sorted({getattr(check, name).lesson for name in check.__all__ if name != "progress"})
    assert [line[:9] for line in lines if line.startswith("lesson")] == [f"lesson {n:02d}" for n in lessons]
    assert "lesson 01: 1 of 3 parts passed" in lines
    assert re.search(r"^  relu +passed +last passed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", out, re.M), out
    assert re.search(r"^  softmax +wrong$", out, re.M) and re.search(r"^  forward +not checked yet$", out, re.M)
    assert re.search(r"^  dropout_backward +not checked yet$", out, re.M), out
    assert "next: lesson 00, one_hot" in out and str(progress.path()) in out


def test_progress_names_the_next_part_and_a_finished_course(capsys):
    for name in check.__all__:
        if name != "progress":
            progress.record(getattr(check, name).lesson, name, "passed")
    progress.record(3, "backward", "wrong", "a hint")
    check.progress()
    assert "next: lesson 03, backward" in capsys.readouterr().out
    progress.record(3, "backward", "passed")
    check.progress()
    assert "every part passed" in capsys.readouterr().out


def test_a_new_checker_appears_in_progress_by_its_lesson(monkeypatch, capsys):
    monkeypatch.setitem(core._CHECKERS, "new_part", type("C", (), {"lesson": 11})())
    check.progress()
    assert "lesson 11: 0 of 1 parts passed\n  new_part" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the file: broken, shared

def test_a_corrupt_file_is_kept_aside_with_a_one_line_warning(capsys):
    progress.path().write_text("{not json")
    assert check.relu(learners(relu_right, "relu")) is not check.relu.fallback
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was corrupt" in err and "progress.json.corrupt" in err, err
    assert progress.path().with_name(progress.path().name + ".corrupt").read_text() == "{not json"
    assert parts()["relu"]["last"]["state"] == "passed"


def test_an_unreadable_file_is_a_warning_and_is_left_alone(capsys):
    progress.path().mkdir()  # a folder where the file should be: cannot be read (nor replaced)
    assert check.relu(learners(relu_right, "relu")) is not check.relu.fallback
    captured = capsys.readouterr()
    assert captured.out.startswith("✓ relu") and captured.err.count("\n") == 1, captured
    assert "cannot read your progress file" in captured.err
    check.progress()  # the file is left alone, but this kernel's verdict is shown, and said to be unsaved
    out = capsys.readouterr().out
    assert "lesson 01: 1 of 3 parts passed" in out and "could NOT be saved" in out, out
    assert progress.path().is_dir() and not list(progress.path().iterdir())


def test_an_unwritable_folder_is_a_warning(monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("MATHNN_PROGRESS", str(blocker / "progress.json"))
    assert check.relu(learners(relu_right, "relu")) is not check.relu.fallback
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "your progress was not saved" in err, err


def test_several_kernels_record_at_once():
    script = ("import sys\nimport mathnn.check\nprogress = sys.modules['mathnn.check.progress']\n"
              "for i in range(30):\n    progress.record(0, f'part{sys.argv[1]}_{i}', 'passed')\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(k)], env=os.environ) for k in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    assert len(parts()) == 4 * 30
    assert not list(progress.path().parent.glob(".mathnn-progress.json.*.tmp"))  # no temporary file left


def test_the_portable_lock_without_fcntl(monkeypatch, capsys):
    monkeypatch.setattr(progress, "_fcntl", None)
    lock = progress.path().with_name(progress.path().name + ".lock")
    lock.write_text("")  # left behind by a kernel that died holding it
    os.utime(lock, (time.time() - 100, time.time() - 100))
    progress.record(1, "relu", "passed")
    assert parts()["relu"]["last"]["state"] == "passed" and not lock.exists()
    lock.write_text("")  # held right now: record waits, then gives up with a warning, not an error
    monkeypatch.setattr(progress, "_lock", lambda file, wait=0.2, _lock=progress._lock: _lock(file, wait))
    os.utime(lock, None)
    progress.record(1, "softmax", "passed")
    assert "stays locked" in capsys.readouterr().err
    assert "softmax" not in progress._read(progress.path())[0] and progress.unsaved()  # only in this kernel


# ----------------------------------------------------------------------------- the time limit

def relu_loops(Z):
    while True:
        pass


def relu_sleeps(Z):
    time.sleep(1000)


@pytest.mark.parametrize("fn", [relu_loops, relu_sleeps])
def test_an_endless_loop_is_stopped_and_told(fn, monkeypatch, capsys):
    monkeypatch.setattr(check.relu, "time_limit", 0.5)
    start = time.monotonic()
    assert check.relu(learners(fn, "relu")) is check.relu.fallback
    assert time.monotonic() - start < 5
    out = capsys.readouterr().out
    assert "✗ relu: your function ran for more than 0.5 s — an endless loop?" in out, out
    assert parts()["relu"]["last"]["state"] == "wrong"


@pytest.mark.parametrize("fn", [relu_loops, relu_sleeps])
def test_the_time_limit_without_a_timer_signal(fn, monkeypatch, capsys):
    """Where there is no signal.setitimer (Windows), or outside the main thread: a helper thread."""
    monkeypatch.setattr(check.relu, "time_limit", 0.5)
    monkeypatch.delattr(core.signal, "setitimer")
    start = time.monotonic()
    assert check.relu(fn) is check.relu.fallback
    assert time.monotonic() - start < 5 and "an endless loop?" in capsys.readouterr().out


def test_the_time_limit_outside_the_main_thread(monkeypatch):
    monkeypatch.setattr(check.relu, "time_limit", 0.5)
    results = []
    thread = threading.Thread(target=lambda: results.append(check.relu(relu_loops)))
    thread.start()
    thread.join(10)
    assert results == [check.relu.fallback]


def test_a_right_function_under_the_limit_and_the_timer_left_as_it_was(monkeypatch, capsys):
    import signal

    before = signal.getsignal(signal.SIGALRM)
    assert check.relu(relu_right) is relu_right
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert check.sgd_epoch.time_limit > check.relu.time_limit >= 1


def test_strict_mode_refuses_a_wrapper_but_not_mathnns_own(monkeypatch, capsys):
    import mathnn as mn

    def relu(Z):
        return mn.relu_forward(Z)[0]

    monkeypatch.setenv("MATHNN_CHECK_STRICT", "1")
    with pytest.raises(AssertionError, match="check.relu: relu did not pass"):
        check.relu(relu)
    assert check.relu(check.relu.fallback) is check.relu.fallback  # a lesson going on after an earlier ✗


def test_a_progress_file_problem_never_fails_the_checker(monkeypatch, capsys):
    def broken(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(progress, "record", broken)
    assert check.relu(learners(relu_right, "relu")) is not check.relu.fallback
    assert "your progress was not saved (RuntimeError: disk on fire)" in capsys.readouterr().err


def test_the_time_limit_and_progress_in_a_jupyter_kernel(tmp_path):
    """In a real kernel (the notebook's code runs in its main thread): endless loops stopped, the verdict recorded."""
    from jupyter_client.manager import start_new_kernel

    code = (
        "import time, numpy as np\nfrom mathnn import check\ncheck.relu.time_limit = 1\n"
        "def relu(Z):\n    while True:\n        pass\n"
        "t = time.monotonic(); assert check.relu(relu) is check.relu.fallback; print('loop', time.monotonic() - t)\n"
        "def relu(Z):\n    time.sleep(1000)\n"
        "t = time.monotonic(); assert check.relu(relu) is check.relu.fallback; print('sleep', time.monotonic() - t)\n"
        "def relu(Z):\n    return np.maximum(Z, 0)\n"
        "relu = check.relu(relu)\ncheck.progress()\n")
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=dict(os.environ))
    outputs = []
    try:
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: outputs.append(msg))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(msg["content"].get("text", "") for msg in outputs if msg["msg_type"] == "stream")
    assert text.count("your function ran for more than 1 s — an endless loop?") == 2, text
    seconds = [float(value) for value in re.findall(r"^(?:loop|sleep) ([\d.]+)$", text, re.M)]
    assert len(seconds) == 2 and max(seconds) < 5, text
    assert re.search(r"^  relu +passed +last passed ", text, re.M), text
    assert parts()["relu"]["last"]["state"] == "passed"



def test_progress_says_when_nothing_could_be_saved(monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv("MATHNN_PROGRESS", str(blocker / "progress.json"))
    check.relu(learners(relu_right, "relu"))
    capsys.readouterr()
    check.progress()
    out = capsys.readouterr().out
    assert "could NOT be saved in" in out and "saved in" not in out.replace("could NOT be saved in", ""), out
    assert re.search(r"^  relu +passed", out, re.M), out  # this kernel's verdict is still shown


def test_progress_names_a_part_as_the_learner_wrote_it(capsys):
    check.progress()
    out = capsys.readouterr().out
    assert re.search(r"^  Linear +not checked yet$", out, re.M) and "linear_module" not in out, out
    assert "(nothing saved yet: your progress will be kept in" in out
