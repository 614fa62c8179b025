"""The command line: `python -m mathnn train`, `bench` and `data prepare DIR`, run as a user would."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mathnn as mn
from mathnn import cli, locations, shared
from mathnn import mnist as mnist_files

ROOT = Path(__file__).resolve().parent.parent


def mnist_env():
    """Environment for a subprocess that needs MNIST; skip when no copy is reachable."""
    env = dict(os.environ)
    if not env.get("MATHNN_DATA") and not all((locations.REPO_DATA / f).is_file() for f in mnist_files.SHA256):
        pytest.skip("MNIST not available: set MATHNN_DATA (e.g. ../shared/mnist)")
    return env


def strict_json(text):
    """Parse text as strict JSON: NaN, Infinity and -Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def run(args, env, timeout=300, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_train_defaults_reach_94_percent():
    result = run(["-m", "mathnn", "train", "--json"], mnist_env())
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert {"test_accuracy", "val_accuracy", "train_seconds", "epochs"} <= set(out)
    assert out["epochs"] == cli.DEFAULTS["num_epochs"]
    assert out["diverged"] is None
    assert {k: out["recipe"][k] for k in cli.DEFAULTS} == json.loads(json.dumps(cli.DEFAULTS))  # the defaults were used
    assert out["test_accuracy"] >= 0.94, out
    assert out["train_seconds"] > 0, out  # the <= 10 s target is a benchmark (train --json), not a timed test


def test_train_one_epoch_prints_progress_and_result(capsys):
    mnist_env()
    code = cli.main(["train", "--num-epochs", "1", "--schedule", "constant", "--lr", "0.1"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("epoch   1  train loss") and "val loss" in lines[0] and "val acc" in lines[0]
    assert all("test" not in line for line in lines[:-1])  # "test" only for the final test figure
    match = re.fullmatch(r"test accuracy (0\.\d{4}) after 1 epochs, \d+\.\d\d s of training", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 0.85  # one epoch of SGD on MNIST


def test_train_reports_divergence_with_exit_code_1(capsys):
    mnist_env()
    code = cli.main(["train", "--num-epochs", "2", "--lr", "1e30", "--schedule", "constant", "--json"])
    captured = capsys.readouterr()
    out = strict_json(captured.out)
    assert code == 1
    assert out["diverged"].startswith("diverged at epoch 1")


def test_train_divergence_in_text_mode_prints_the_message(capsys):
    mnist_env()
    code = cli.main(["train", "--num-epochs", "2", "--lr", "1e30", "--schedule", "constant"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("diverged at epoch 1"), captured.err
    assert "after 0 epochs" in captured.out


def test_bench_smoke():
    result = run(["-m", "mathnn", "bench", "--json", "--num-epochs", "1"], mnist_env())
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert out["numpy_seconds_per_epoch"] > 0
    assert out["numpy_gflops"] > 0
    assert out["busy_core_seconds_per_epoch"] > 0
    slowdown = out["busy_core_seconds_per_epoch"] / out["numpy_seconds_per_epoch"]
    assert out["busy_core_slowdown"] == pytest.approx(slowdown)
    assert out["epochs_timed"] == 1 and out["batch_size"] == 128 and out["blas_threads"] == 1
    assert "torch" not in result.stdout  # the PyTorch comparison lives in benchmarks/vs_pytorch.py


def test_busy_core_spins_a_process_and_stops_it():
    with cli.busy_core(seconds=30) as proc:
        assert proc.poll() is None  # running
    assert proc.poll() is not None  # killed when the block ended, not after 30 s


def test_import_mathnn_does_not_import_torch():
    code = "import sys, mathnn, mathnn.cli; print('torch' in sys.modules)"
    result = run(["-c", code], dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("argv", [
    ["train", "--num-epochs", "-1"], ["train", "--num-epochs", "0"], ["train", "--num-epochs", "2.5"],
    ["train", "--batch-size", "0"], ["train", "--batch-size", "-5"],
    ["train", "--lr", "nan"], ["train", "--lr", "inf"], ["train", "--lr", "-0.1"], ["train", "--lr", "0"],
    ["train", "--seed", "-1"], ["bench", "--num-epochs", "0"], ["bench", "--batch-size", "-1"],
])
def test_bad_numbers_are_usage_errors(capsys, argv):
    """Each used to train to NaN, divide by zero, exit 0 or end in a traceback."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    option, value = argv[1], argv[2]
    assert f"error: argument {option}: {value!r} is not a" in err, err


@pytest.mark.parametrize("sizes", ["784", "10,10", "784,0,10", "784,a,10", "784,10,9"])
def test_bad_sizes_are_usage_errors(capsys, sizes):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--sizes", sizes])
    assert info.value.code == 2
    assert "error: argument --sizes:" in capsys.readouterr().err


def test_train_a_wider_network(capsys):
    """--sizes goes further than the course's 784-10-10: one epoch of a 784-32-10 learns."""
    code = cli.main(["train", "--sizes", "784,32,10", "--num-epochs", "1", "--schedule", "constant", "--lr", "0.1",
                     "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["recipe"]["sizes"] == [784, 32, 10] and out["epochs"] == 1
    assert out["test_accuracy"] > 0.9, out


def test_json_output_is_strict_json():
    """JSON has no NaN or Infinity: such numbers are written as null."""
    text = cli.to_json({"loss": float("nan"), "nested": {"x": float("inf"), "ok": 0.5}, "n": 3, "s": "nan"})
    assert strict_json(text) == {"loss": None, "nested": {"x": None, "ok": 0.5}, "n": 3, "s": "nan"}


def test_train_flops_784_10_10():
    # forward: W1 X and W2 A1; backward: dW1, dW2 and dA1 (no dX): 2 flops per multiply-add
    per_example = 2 * (784 * 10) * 2 + 2 * (10 * 10) * 3
    assert cli.train_flops((784, 10, 10), 1) == per_example
    assert cli.train_flops((784, 10, 10), 60000) == 60000 * per_example


def test_missing_data_exits_with_code_2_and_says_what_to_do(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    repo = tmp_path / "repo_data"
    wrapper = textwrap.dedent(f"""
        import socket, sys
        from pathlib import Path
        import mathnn.locations, mathnn.mnist
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        mathnn.locations.REPO_DATA = Path({str(repo)!r})
        mathnn.mnist.MIRRORS = [f"http://127.0.0.1:{{port}}/"]
        from mathnn.cli import main
        sys.exit(main(["train", "--json"]))
    """)
    env = dict(os.environ, MATHNN_DATA=str(empty))
    result = run(["-c", wrapper], env, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert strict_json(result.stdout)["error"].startswith("MNIST not found in")  # --json: JSON on stdout, always
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: MNIST not found in")
    assert "put the four files in data/ or set MATHNN_DATA" in result.stderr
    assert str(empty) in result.stderr and str(repo) in result.stderr
    assert not repo.exists() or not any(repo.iterdir())  # the failed download left nothing behind


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--optimizer", "rmsprop"])
    assert info.value.code == 2
    assert "invalid choice: 'rmsprop'" in capsys.readouterr().err


def real_gz_folder(tmp_path):
    """A folder holding links to the four real MNIST .gz files (from $MATHNN_DATA)."""
    source = Path(mnist_env().get("MATHNN_DATA") or locations.REPO_DATA)
    folder = tmp_path / "class_mnist"
    folder.mkdir()
    for name in mnist_files.SHA256:
        (folder / name).symlink_to(source / name)
    return folder


def test_data_prepare_then_learners_load_from_the_read_only_folder(tmp_path):
    """The instructor's command, then a learner's kernel: it maps the prepared files and writes nothing."""
    folder = real_gz_folder(tmp_path)
    result = run(["-m", "mathnn", "data", "prepare", str(folder), "--no-download"], dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    for name in [shared.shared_name("train"), shared.shared_name("test")]:
        assert f"ok  {folder / name}  (" in result.stdout and f"ok  {folder / name}.json  (" in result.stdout
    assert f"make it read-only (chmod -R a-w {folder})" in result.stdout
    folder.chmod(0o555)
    try:
        learner = ("import mathnn as mn; s = mn.load_mnist_splits(); "
                   "print(*[a.base.filename for a in (s.X_train, s.X_test)])")  # a.base: the np.memmap it views
        env = dict(os.environ, MATHNN_DATA=str(folder), XDG_CACHE_HOME=str(tmp_path / "cache"))
        result = run(["-c", learner], env, timeout=120)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(folder / shared.shared_name(split)) for split in ("train", "test")]
    assert not (tmp_path / "cache").exists()


def test_data_prepare_of_a_relative_folder_prints_an_absolute_mathnn_data(tmp_path):
    """Kernels run in the notebook's folder: a relative MATHNN_DATA would point elsewhere there."""
    folder = real_gz_folder(tmp_path)
    result = run(["-m", "mathnn", "data", "prepare", folder.name, "--no-download"], dict(os.environ), timeout=120,
                 cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    assert f"set MATHNN_DATA={folder.resolve()} for every learner" in result.stdout
    assert f"chmod -R a-w {folder.resolve()})" in result.stdout


def test_data_prepare_errors_exit_2_and_say_what_to_do(tmp_path, capsys):
    assert cli.main(["data", "prepare", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'nowhere'} is not a folder: create it "
                                       f"(mkdir -p {tmp_path / 'nowhere'}) and run this again\n")
    folder = tmp_path / "half"
    folder.mkdir()
    assert cli.main(["data", "prepare", str(folder), "--no-download"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / mnist_files.FILES['train'][0]} is missing: copy the four MNIST .gz files")
    assert list(folder.iterdir()) == []


def test_data_prepare_is_documented_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "data prepare" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["data", "prepare", "--help"])
    out = capsys.readouterr().out
    assert "usage: python -m mathnn data prepare [-h] [--no-download] DIR" in out
    assert "chmod -R a-w DIR" in out and "MATHNN_DATA=DIR" in out


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", cli.DEFAULTS["lr"]), ("momentum", mn.Momentum.default_lr),
                                               ("adam", mn.Adam.default_lr)])
def test_train_without_lr_uses_the_recipes_lr_for_sgd_and_the_optimizers_own_otherwise(capsys, optimizer, lr):
    """0.15 is the recipe's (benchmarks/recipe.md: SGD, batch 32, cosine); Adam at 0.15 would be 150x its default."""
    mnist_env()
    code = cli.main(["train", "--num-epochs", "1", "--batch-size", "256", "--optimizer", optimizer, "--json"])
    out = strict_json(capsys.readouterr().out)
    assert code == 0 and out["recipe"]["lr"] == lr == cli.recipe_lr(optimizer)
    assert cli.recipe_lr("adam") == 0.001 and cli.recipe_lr("sgd") == 0.15
