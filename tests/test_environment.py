"""environment.yml (conda) and pyproject.toml (pip) list the same packages."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def parse_environment_yml(text):
    """Just enough YAML for environment.yml: top-level `key: value` / `key:` + `- item` lists,
    and the nested `- pip:` list. Returns {key: value or list}; the pip list as {"pip": [...]}."""
    env, key, pip, pip_indent = {}, None, None, None
    for raw in text.splitlines():
        line = re.sub(r"\s+#.*$|^\s*#.*$", "", raw).rstrip()  # comments
        if not line:
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if indent == 0:
            key, _, value = item.partition(":")
            env[key] = value.strip() or []
            pip = None
        elif item.startswith("- "):
            value = item[2:].strip()
            if pip is not None and indent > pip_indent:
                pip.append(value)
            elif value == "pip:":
                pip, pip_indent = [], indent
                env[key].append({"pip": pip})
            else:
                pip = None
                env[key].append(value)
        else:
            raise AssertionError(f"environment.yml: unexpected line {raw!r}")
    return env


def load():
    env = parse_environment_yml((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return env, project


def normalize(spec):
    return re.sub(r"\s+", "", spec).lower()


def test_parser_on_a_sample():
    sample = "name: x\nchannels:\n  - conda-forge\ndependencies:\n  - numpy>=1  # a comment\n  - pip\n" \
             "  - pip:\n      - -e .\n  - tqdm\n"
    assert parse_environment_yml(sample) == {"name": "x", "channels": ["conda-forge"],
                                             "dependencies": ["numpy>=1", "pip", {"pip": ["-e ."]}, "tqdm"]}


def test_conda_dependencies_equal_pyproject_dependencies():
    env, project = load()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = [d for section in env["dependencies"] if isinstance(section, dict) for d in section["pip"]]
    packages = [d for d in conda if re.match(r"(python|pip)\b(?!-)", d) is None]
    packages += [d for d in pip_section if d != "-e ."]
    pip_side = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        pip_side += group
    assert len(packages) == len(set(packages)), "duplicates in environment.yml"
    assert {normalize(d) for d in packages} == {normalize(d) for d in pip_side}


def test_environment_pins_python_like_pyproject_and_has_pip():
    env, project = load()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert normalize("python" + project["requires-python"]) in {normalize(d) for d in conda}
    assert "pip" in conda  # needed for the pip: section


def test_environment_installs_the_package_from_conda_forge():
    env, project = load()
    assert env["name"] == project["name"] == "mathnn"
    assert env["channels"][0] == "conda-forge"
    assert "defaults" not in env["channels"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1
    assert "-e ." in pip_sections[0]


def test_makefile_installs_every_optional_group():
    _, project = load()
    makefile = (ROOT / "Makefile").read_text()
    extras = re.search(r'pip install[^\n]*-e "?\.\[([^\]]+)\]', makefile)
    assert extras, "the Makefile should pip install -e .[extras]"
    assert set(extras.group(1).split(",")) == set(project["optional-dependencies"])


def load_minimums():
    """.ci/minimums.py, the script that pins the lowest declared versions for CI (make compat-minimums)."""
    spec = importlib.util.spec_from_file_location("minimums", ROOT / ".ci" / "minimums.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("requirement, expected", [("numpy>=1.26", ("numpy", "1.26")),
                                                    ("torch>=2.13.0,<=2.13.0", ("torch", "2.13.0")),
                                                    ("pytest-xdist >= 3.5", ("pytest-xdist", "3.5")),
                                                    ("a.b[extra]>=2; python_version < '3.13'", ("a.b", "2"))])
def test_minimum_of_a_requirement(requirement, expected):
    assert load_minimums().minimum(requirement) == expected


@pytest.mark.parametrize("requirement", ["numpy", "numpy<2", "numpy==1.26", "numpy>1.26"])
def test_a_requirement_without_a_minimum_is_refused(requirement):
    with pytest.raises(ValueError, match="declares no minimum"):
        load_minimums().minimum(requirement)


def test_ci_pins_every_runtime_dependency_at_its_declared_minimum():
    """What compat-minimums installs: each package of dependencies and of the notebooks and torch extras, and the
    nbval runner, pinned at the minimum pyproject.toml (and so environment.yml) declares for it."""
    _, project = load()
    pins = dict(line.split("==") for line in load_minimums().constraints(project).splitlines())
    extras = project["optional-dependencies"]
    learner = project["dependencies"] + extras["notebooks"] + extras["torch"]
    assert {name for name in pins} == {re.match(r"[\w.-]+", r).group() for r in learner} | {"pytest", "pytest-xdist",
                                                                                             "nbval"}
    assert {"numpy", "matplotlib", "jupyterlab", "ipywidgets", "ipykernel"} <= set(pins)
    for requirement in learner:
        name = re.match(r"[\w.-]+", requirement).group()
        assert f"{name}>={pins[name]}" in requirement.replace(" ", "")


def test_ci_runs_the_minimums_on_the_oldest_python_pyproject_allows():
    _, project = load()
    oldest = re.search(r"^OLDEST_PYTHON \?= \$\(call find_python,(\S+)\)$", (ROOT / "Makefile").read_text(), re.M)
    assert oldest and project["requires-python"] == f">={oldest.group(1)}"
