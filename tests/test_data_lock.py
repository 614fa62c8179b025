"""shared.build_lock: one process builds the shared MNIST copy, with fcntl (Unix) and without it (Windows)."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mathnn import mnist as mnist_files
from mathnn import shared


@pytest.fixture(params=["fcntl", "no fcntl"])
def lock_kind(request, monkeypatch):
    """Run the test with fcntl's lock, and again as on Windows, with fcntl made unavailable."""
    if request.param == "no fcntl":
        monkeypatch.setattr(shared, "fcntl", None)
    return request.param


def test_a_second_holder_waits_until_the_first_releases(tmp_path, lock_kind):
    events, holding, release = [], threading.Event(), threading.Event()

    def first():
        with shared.build_lock(tmp_path, "test"):
            events.append("first in")
            holding.set()
            release.wait(10)
            events.append("first out")

    def second():
        holding.wait(10)
        with shared.build_lock(tmp_path, "test"):
            events.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(10)
    time.sleep(0.5)  # time enough for the second to get in, were the lock not exclusive
    release.set()
    for thread in threads:
        thread.join(10)
    assert events == ["first in", "first out", "second in"]


def test_the_lock_is_released_when_the_block_raises(tmp_path, lock_kind):
    with pytest.raises(RuntimeError), shared.build_lock(tmp_path, "test"):
        raise RuntimeError("the build failed")
    done = threading.Event()

    def take():
        with shared.build_lock(tmp_path, "test"):
            done.set()

    threading.Thread(target=take, daemon=True).start()
    assert done.wait(5), "the lock was not released"


def test_without_fcntl_the_lock_file_goes_and_a_stale_one_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setattr(shared, "fcntl", None)
    lock = tmp_path / ".mnist-test.lock"
    with shared.build_lock(tmp_path, "test"):
        assert lock.is_file()
    assert not lock.exists(), "the lock file is left behind"
    lock.touch()  # left by a process that died while building
    os.utime(lock, (time.time() - 300, time.time() - 300))
    start = time.monotonic()
    with shared.build_lock(tmp_path, "test", stale_seconds=120):
        pass
    assert time.monotonic() - start < 5
    assert not lock.exists()


def test_a_fresh_lock_file_is_waited_for_not_taken_over(tmp_path, monkeypatch):
    monkeypatch.setattr(shared, "fcntl", None)
    lock = tmp_path / ".mnist-test.lock"
    lock.touch()  # another process is building right now
    threading.Timer(0.6, lock.unlink).start()  # ... and is done in 0.6 s
    start = time.monotonic()
    with shared.build_lock(tmp_path, "test", stale_seconds=120):
        waited = time.monotonic() - start
    assert 0.5 < waited < 5


NO_FCNTL_CHILD = """
import json, sys
sys.modules["fcntl"] = None  # as on Windows: `import fcntl` raises ImportError
from mathnn import shared
assert shared.fcntl is None
rows = shared.shared_images("test", root=sys.argv[1])
inode = next(l.split()[4] for l in open("/proc/self/maps") if l.rstrip().endswith(shared.shared_name("test")))
print(json.dumps({"file": str(rows.filename), "inode": int(inode), "sum": float(rows.sum(dtype="float64"))}))
"""


def test_two_processes_without_fcntl_build_one_copy(tmp_path):
    """Started at once on a folder without a shared copy, two processes without fcntl both get the images, from
    one copy built once: the second waited for the first instead of building and replacing it (no warning)."""
    if not os.environ.get("MATHNN_DATA"):
        pytest.skip("MATHNN_DATA is unset: this test needs the real MNIST files from that folder")
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in mnist_files.SHA256:
        (folder / name).symlink_to(Path(os.environ["MATHNN_DATA"]).absolute() / name)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg_cache")}
    procs = [subprocess.Popen([sys.executable, "-c", NO_FCNTL_CHILD, str(folder)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outs]
    assert not any("Warning" in err for _, err in outs), [err for _, err in outs]
    results = [json.loads(out) for out, _ in outs]
    npy = folder / shared.shared_name("test")
    assert [Path(r["file"]) for r in results] == [npy, npy]
    assert [r["inode"] for r in results] == [npy.stat().st_ino] * 2, "two copies built: one replaced the other"
    assert results[0]["sum"] == results[1]["sum"] > 0
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".gz")) == [npy.name, npy.name + ".json"]
