"""Issue 21: bad input and faults get the right result or an error naming the argument, what is wrong and what
to do, before any work; nothing hangs silently and nothing is lost. One test (or a few) per kind of case;
benchmarks/probes.py runs the whole probe list."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

import mathnn as mn
from mathnn import cli, locations
from mathnn import mnist as mnist_files

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def site_builder():
    """tools/build_site.py, imported when a test runs: the module sys.modules holds then (test_site.py may
    have put its own there), where the build's workers look build_lesson up."""
    import build_site

    return build_site


def rng(seed=0):
    return np.random.default_rng(seed)


def small(m=32):
    r = rng(1)
    return r.random((784, m), dtype=np.float32), r.integers(0, 10, m)


# --- silently wrong before: now refused ------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(lr=1000), "lr"), (dict(lr=-1), "lr"), (dict(num_epochs=50), "num_epochs"), (dict(seed=-5), "seed"),
    (dict(max_runs=-1), "max_runs"), (dict(max_runs=0), "max_runs"),
])
def test_the_panel_refuses_values_its_controls_would_clamp(kwargs, name):
    pytest.importorskip("ipywidgets")
    from mathnn.widgets import TrainingPanel

    with pytest.raises(ValueError, match=rf"TrainingPanel: {name}=.* is not a (whole )?number from .* to "):
        TrainingPanel(**kwargs)


def test_a_cosine_schedule_refuses_epochs_past_its_end():
    schedule = mn.cosine_schedule(0.1, 5)
    assert schedule(4) == pytest.approx(0.1 * (1 + np.cos(np.pi * 4 / 5)) / 2)
    for epoch in range(5, 10):  # it used to climb back up
        with pytest.raises(ValueError, match=f"epoch {epoch} is past the end of this schedule of 5 epochs"):
            schedule(epoch)
    assert mn.step_schedule(0.1, 0.5, 2)(100) == pytest.approx(0.1 * 0.5**50)  # documented: it keeps dropping


def test_fit_checks_the_whole_schedule_and_a_conflicting_lr_before_training():
    X, y = small()
    params = mn.init_params((784, 10, 10), "he", rng())
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ValueError, match="epoch 2 is past the end"):
        mn.fit(params, X, y, rng=rng(), num_epochs=4, lr_schedule=mn.cosine_schedule(0.1, 2))
    with pytest.raises(ValueError, match=r"got lr=0.5 and an lr_schedule that starts at 0.1.*leave out lr"):
        mn.fit(params, X, y, rng=rng(), lr=0.5, num_epochs=1, lr_schedule=mn.cosine_schedule(0.1, 1))
    assert all(np.array_equal(params[k], before[k]) for k in params)  # no step was taken
    h = mn.fit(params, X, y, rng=rng(), lr=0.1, num_epochs=2, lr_schedule=mn.cosine_schedule(0.1, 2))
    assert h.lr == pytest.approx([0.1, 0.05])  # lr equal to the schedule's start is no conflict


@pytest.mark.parametrize("train_size", [-100, 0, 1.5, 10**6])
def test_train_mnist_refuses_a_train_size_that_is_not_a_number_of_images(train_size):
    with pytest.raises(ValueError, match=rf"train_mnist\(\): train_size.*{train_size!r}"):
        mn.train_mnist(train_size=train_size)


@pytest.mark.parametrize(("labels", "words"), [
    (lambda y: y.astype(str), "labels must be integers"),
    (lambda y: np.where(np.arange(len(y)) == 3, 10, y), r"1 label\(s\) outside 0..9, e.g. 10 at index 3"),
])
def test_accuracy_refuses_labels_that_are_not_class_indices(labels, words):
    X, y = small()
    with pytest.raises(ValueError, match=rf"accuracy\(\): y: .*{words}|accuracy\(\): y holds {words}"):
        mn.accuracy(mn.init_params((784, 10, 10), "he", rng()), X, labels(y))


@pytest.mark.parametrize(("kwargs", "words"), [
    (dict(sizes=(784,)), r"sizes must be a tuple of at least two layer sizes"),
    (dict(sizes=(784, 0, 10)), r"every layer size in sizes=\(784, 0, 10\) must be a positive integer, got 0"),
    (dict(sizes=(784, 10.5, 10)), r"every layer size in sizes=\(784, 10.5, 10\) must be a positive integer, got 10.5"),
    (dict(sizes="784,10,10"), r"sizes must be a tuple"),
    (dict(rng=42), r"rng must be an explicit rng.*got 42 \(a seed\? pass np.random.default_rng\(42\)\)"),
    (dict(dtype=np.int32), r"dtype must be a floating-point type"),
    (dict(dtype=bool), r"dtype must be a floating-point type"),
])
def test_init_params_refuses_what_it_used_to_turn_into_nonsense_or_a_numpy_error(kwargs, words):
    args = dict(sizes=(784, 10, 10), init="he", rng=rng())
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"init_params\(\): {words}"):
        mn.init_params(**args)


@pytest.mark.parametrize("C", [np.ones((10, 9), int), np.ones(10, int), -np.ones((3, 3), int)])
def test_show_confusion_refuses_what_is_not_a_square_matrix_of_counts(C):
    with pytest.raises(ValueError, match=r"show_confusion\(\): C should"):
        mn.show_confusion(C)


def test_show_digits_says_to_transpose_images_in_rows():
    X, _ = small()
    with pytest.raises(mn.ShapeError, match=r"X is \(32, 784\) = \(m, 784\), one image per row: transpose it"):
        mn.show_digits(X.T)


def make_learner(force):
    result = subprocess.run(["make", "-n", "-C", str(ROOT), "learner", f"FORCE={force}",
                             "-o", ".venv/.installed-stamp"], capture_output=True, text=True)  # -o: no install
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(("force", "replaces"), [("no", False), ("false", False), ("0", False), ("", False),
                                                  ("1", True), ("yes", True), ("true", True)])
def test_make_learner_force_means_what_it_says(force, replaces):
    code, out = make_learner(force)
    line = next(line for line in out.splitlines() if "make_learner_edition.py" in line)
    assert code == 0 and ("--force" in line) == replaces, out


def test_make_learner_refuses_a_force_that_is_neither_yes_nor_no():
    code, out = make_learner("maybe")
    assert code != 0 and "FORCE=maybe is neither yes" in out and "make_learner_edition.py" not in out


# --- errors that did not name their cause --------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "words"), [
    (dict(lr_schedule=0.1), r"lr_schedule must be a function"),
    (dict(callback=1), r"callback must be a function"),
    (dict(callback=lambda: None), r"callback must take one argument"),
    (dict(lr_schedule=lambda: 0.1), r"lr_schedule must take one argument"),
    (dict(params="read-only"), r"params\['W1'\] is read-only, so it cannot be updated in place"),
    (dict(params="extra key"), r"argument 'params' has the extra key\(s\) 'lr'"),
    (dict(rng=42), r"rng must be an explicit rng"),
])
def test_fit_names_the_argument_before_training(kwargs, words):
    X, y = small()
    params = mn.init_params((784, 10, 10), "he", rng())
    if kwargs.get("params") == "read-only":
        for array in params.values():
            array.flags.writeable = False
        kwargs["params"] = params
    elif kwargs.get("params") == "extra key":
        kwargs["params"] = {**params, "lr": 0.1}
    args = dict(params=params, X=X, y=y, rng=rng(), num_epochs=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        mn.fit(args.pop("params"), args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize("seed", [1.5, -1, "0"])
def test_train_mnist_names_a_bad_seed(seed):
    with pytest.raises(ValueError, match=rf"train_mnist\(\): seed must be a whole number >= 0.*got {seed!r}"):
        mn.train_mnist(seed=seed)


def test_save_params_names_the_missing_folder_not_a_temporary_file(tmp_path):
    params = mn.init_params((784, 10, 10), "he", rng())
    with pytest.raises(FileNotFoundError, match=rf"the folder {tmp_path / 'no'} does not exist; create it") as info:
        mn.save_params(tmp_path / "no" / "p.npz", params)
    assert ".tmp" not in str(info.value)


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), "1e-5"])
def test_compare_gradients_names_a_bad_step(h):
    params = mn.init_params((30, 5, 10), "he", rng(), dtype=np.float64)
    X, Y = rng().random((30, 4)), mn.one_hot(np.array([1, 2, 3, 4]), dtype=np.float64)
    with pytest.raises(ValueError, match=r"compare_gradients\(\): h must be the finite-difference step, a small"):
        mn.compare_gradients(params, X, Y, h=h)


def test_a_step_with_missing_gradients_names_them():
    params = mn.init_params((784, 10, 10), "he", rng())
    with pytest.raises(KeyError, match=r"SGD.step\(\): grads has no dW1, db2"):
        mn.SGD(params).step({"db1": 0, "dW2": 0})


# --- the command line ------------------------------------------------------------------------------------------


def run_cli(args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "mathnn", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), **kwargs)


def test_a_run_that_ends_at_chance_fails(mnist):
    result = run_cli(["train", "--lr", "50", "--num-epochs", "1", "--schedule", "constant", "--json"], timeout=300)
    out = json.loads(result.stdout)
    assert result.returncode == 1, result
    assert out["test_accuracy"] < cli.CHANCE and out["diverged"] is None
    assert "no better than guessing" in out["failed"]


@pytest.mark.parametrize("args", [["train", "--lr", "-1", "--json"], ["train", "--bogus", "--json"],
                                  ["bench", "--num-epochs", "0", "--json"]])
def test_json_means_json_on_stdout_whatever_happens(args):
    result = run_cli(args, timeout=60)
    assert result.returncode == 2
    assert "error" in json.loads(result.stdout)
    assert "Traceback" not in result.stderr


def test_json_with_an_unusable_mnist_folder_is_json_too(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    result = run_cli(["train", "--num-epochs", "1", "--json"], env={"MATHNN_DATA": str(tmp_path / "a-file")},
                     timeout=60)
    assert result.returncode == 2
    assert "is a file, not a folder" in json.loads(result.stdout)["error"]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_ctrl_c_during_train_ends_with_one_line(mnist):
    proc = subprocess.Popen([sys.executable, "-m", "mathnn", "train", "--num-epochs", "30"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not proc.stdout.readline().startswith("epoch"):
        pass  # training has started
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "python -m mathnn: interrupted (Ctrl+C); nothing was saved", err


def test_a_closed_pipe_ends_quietly(mnist):
    command = f"{sys.executable} -m mathnn train --num-epochs 3 --schedule constant | head -1"
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.stdout.startswith("epoch   1")
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 1


# --- data --------------------------------------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setattr(locations, "REPO_DATA", tmp_path / "none")
    monkeypatch.setattr(locations, "default_data_dir", lambda: tmp_path / "none")
    monkeypatch.setattr(mnist_files, "MIRRORS", ["http://127.0.0.1:9/"])  # nothing answers there
    return tmp_path


def test_mathnn_data_that_is_a_file_or_a_dead_link_is_named(offline, monkeypatch):
    (offline / "a-file").write_text("x")
    (offline / "loop").symlink_to(offline / "loop")
    monkeypatch.setenv("MATHNN_DATA", str(offline / "a-file"))
    with pytest.raises(mnist_files.MNISTError, match="is a file, not a folder: set MATHNN_DATA to the folder"):
        mn.load_mnist("test")
    monkeypatch.setenv("MATHNN_DATA", str(offline / "loop"))
    with pytest.raises(mnist_files.MNISTError, match="is a symbolic link that leads nowhere"):
        mn.load_mnist("test")


def test_no_network_is_said_in_words(offline, monkeypatch):
    (offline / "empty").mkdir()
    monkeypatch.setenv("MATHNN_DATA", str(offline / "empty"))
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test")
    assert "cannot connect" in str(info.value) and "without a network, copy the four MNIST .gz files" in str(info.value)
    assert "<urlopen error" not in str(info.value)


def test_a_full_disk_is_not_told_to_make_the_folder_writable(tmp_path):
    error = OSError(errno.ENOSPC, "No space left on device")
    assert "is full: free some space" in mnist_files.cannot_write(tmp_path, error)


def test_a_dead_writers_part_file_goes_at_once(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = tmp_path / f".t10k-labels-idx1-ubyte.gz.{child.pid}-0badf00d.part"
    mine = tmp_path / f".t10k-labels-idx1-ubyte.gz.{os.getpid()}-0badf00d.part"
    dead.write_bytes(b"half")
    mine.write_bytes(b"under way")
    mnist_files.remove_stale_parts(tmp_path, "t10k-labels-idx1-ubyte.gz")
    assert not dead.exists() and mine.exists()


# --- the site build --------------------------------------------------------------------------------------------------


def lesson(folder, name, cells):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / name)
    return folder / name


def test_a_cell_that_never_ends_is_reported_while_it_runs_and_named(tmp_path, monkeypatch):
    build_site = site_builder()
    loop = lesson(tmp_path, "00_loop.ipynb", ["x = 1", "import time\nwhile True:\n    time.sleep(0.1)"])
    monkeypatch.setattr(build_site, "check_data", lambda: None)
    monkeypatch.setattr(build_site, "PROGRESS_EVERY", 1)
    monkeypatch.setenv("MATHNN_DATA", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    lines = []
    with pytest.raises(build_site.BuildError, match=r"00_loop.ipynb: cell 1 \('import time'\) ran for more than 15 s"):
        build_site.build(tmp_path / "site", jobs=1, timeout=15, lessons=[loop], log=lines.append)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site-build")]


def descendants(pid):
    """The PIDs of every process under pid (children, their children, ...)."""
    rows = [line.split() for line in subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True,
                                                    text=True).stdout.splitlines()]
    found, frontier = [], [str(pid)]
    while frontier:
        children = [child for child, parent in rows if parent in frontier]
        found += children
        frontier = children
    return found


DRIVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tools!r})
    import build_site
    build_site.PROGRESS_EVERY = 1
    build_site.check_data = lambda: None
    build_site.build(Path({out!r}), jobs=1, timeout=100, lessons=[Path({lesson!r})])
""")


def test_killing_the_build_leaves_no_worker_nor_kernel_and_the_next_build_removes_its_folder(tmp_path):
    loop = lesson(tmp_path, "00_loop.ipynb", ["import time\nwhile True:\n    time.sleep(0.1)"])
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tools=str(ROOT / "tools"), out=str(tmp_path / "site"), lesson=str(loop)))
    proc = subprocess.Popen([sys.executable, str(driver)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, MATHNN_DATA=str(tmp_path), MPLBACKEND="Agg"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "still running" not in proc.stdout.readline():
        pass  # the lesson's kernel is running its cell
    family = descendants(proc.pid)
    assert len(family) >= 2, family  # a worker and its kernel
    proc.kill()  # kill -9: no chance to clean up
    proc.wait()
    time.sleep(4)  # a worker dies with its parent; a kernel notices its dead worker within a second or two
    alive = [pid for pid in family if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        os.kill(int(pid), signal.SIGKILL)
    assert not alive, "workers or kernels outlived the build"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".site-build")]  # left by the killed build
    site_builder().remove_stale_builds(tmp_path / "site")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site-build")]
