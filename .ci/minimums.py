"""Print pip constraints that pin what a learner installs at the lowest versions pyproject.toml declares.

    python .ci/minimums.py > minimums.txt
    pip install "mathnn-*.whl[notebooks,torch]" -c minimums.txt pytest nbval pytest-xdist

Pins every package of `dependencies` and of the GROUPS extras (the learner's environment: the package,
JupyterLab and the widgets, PyTorch), and RUNNER, what runs the lessons under nbval, each at its declared
minimum ("numpy>=1.26" -> "numpy==1.26", which pip matches with 1.26.0). A package in them without a
minimum is an error: every version a learner may get is one we can name and test.
"""

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
GROUPS = ("notebooks", "torch")
RUNNER = ("pytest", "pytest-xdist", "nbval")  # from the dev extra


def minimum(requirement):
    """'numpy>=1.26' -> ('numpy', '1.26'); ValueError when the requirement declares no minimum."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?", requirement)
    name, specs = match.group(1), match.group(2)
    lows = [spec.split(">=", 1)[1].strip() for spec in specs.split(",") if spec.strip().startswith(">=")]
    if len(lows) != 1:
        raise ValueError(f"{requirement!r} declares no minimum (name>=VERSION)")
    return name, lows[0]


def constraints(project):
    """The pins, one 'name==version' a line, from pyproject.toml's [project] table."""
    extras = project["optional-dependencies"]
    requirements = list(project["dependencies"]) + [r for group in GROUPS for r in extras[group]]
    requirements += [r for r in extras["dev"] if minimum(r)[0] in RUNNER]
    return "".join(f"{name}=={version}\n" for name, version in map(minimum, requirements))


if __name__ == "__main__":
    sys.stdout.write(constraints(tomllib.loads(PYPROJECT.read_text())["project"]))
