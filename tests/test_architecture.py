"""CONTRIBUTING.md's picture of mathnn's layers is true: every module of mathnn/ is in it, and each imports only
modules of its own layer or below (read from the source with ast: every `import` and `from ... import`, at the top
of a module or inside a function).

The picture is the block of lines "N │ what │ modules" in CONTRIBUTING.md; the test reads it from there, so
changing the architecture means changing the picture.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mathnn"
ROW = re.compile(r"^\s*(\d+)\s*│\s*([^│]+?)\s*│\s*(.+?)\s*$")

# Imports that go up on purpose, each with its reason (keep this short: a new entry needs a reason in CONTRIBUTING).
EXCEPTIONS = {
    ("check", "__init__"): "check.core looks up mn.NAME to name mathnn's own version of a fallback in a hint",
}


def picture(text):
    """{module: layer} from the picture's rows "N │ what │ module module ...". check stands for mathnn/check/."""
    layers = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            for module in match.group(3).split():
                assert module not in layers, f"{module} is twice in the picture"
                layers[module] = int(match.group(1))
    return layers


def unit(path):
    """The picture's name for a file of mathnn/: its module name; check for anything in mathnn/check/."""
    relative = path.relative_to(PACKAGE)
    return "check" if relative.parts[0] == "check" else relative.stem


def imported(path, location=None):
    """The units of mathnn a file imports: `from mathnn import data` -> data; `from mathnn.check.core import x`
    -> check; `import mathnn` or `from mathnn import NAME` (a name of the package, not a module) -> __init__.
    Relative imports are resolved from location (default: path), a file inside mathnn/."""
    location = path if location is None else location
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.split(".")[0] == "mathnn"]
        elif isinstance(node, ast.ImportFrom):
            package = ["mathnn", *location.parent.relative_to(PACKAGE).parts]
            base = package[:len(package) - node.level + 1] if node.level else []  # from . import x: this package
            module = [*base, *(node.module.split(".") if node.module else [])]
            if module[0] != "mathnn":
                continue
            names = [".".join(module)] if len(module) > 1 else [f"mathnn.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) == 1:
                found.add("__init__")
            elif parts[1] == "check":
                found.add("check")
            elif (PACKAGE / f"{parts[1]}.py").is_file():
                found.add(parts[1])
            else:
                found.add("__init__")  # from mathnn import fit: a name of the package's surface
    return found


def modules():
    return {unit(path) for path in PACKAGE.rglob("*.py")}


LAYERS = picture((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))


def test_the_picture_has_every_module_of_mathnn_and_no_other():
    assert len(set(LAYERS.values())) >= 5, "CONTRIBUTING.md's picture (rows 'N │ what │ modules') not found"
    assert not modules() - LAYERS.keys(), f"modules missing from CONTRIBUTING.md's picture: {modules() - LAYERS.keys()}"
    gone = LAYERS.keys() - modules()
    assert not gone, f"CONTRIBUTING.md's picture names modules mathnn/ lacks: {sorted(gone)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_layer_or_below(path):
    here = unit(path)
    upward = [f"{here} (layer {LAYERS[here]}) imports {other} (layer {LAYERS[other]})"
              for other in sorted(imported(path)) if other != here and LAYERS.get(other, -1) > LAYERS[here]
              and (here, other) not in EXCEPTIONS]
    assert not upward, "\n".join(upward) + "\n(see CONTRIBUTING.md, 'The architecture in one picture')"


def test_the_import_reader_sees_each_kind_of_import(tmp_path):
    """The rule can fail: every way of importing is read, including inside a function."""
    fake = tmp_path / "fake.py"
    fake.write_text("import numpy\nimport mathnn\nimport mathnn.train as t\nfrom mathnn import data, fit\n"
                    "from mathnn.check.core import x\ndef f():\n    from mathnn.plots import show\n")
    assert imported(fake, PACKAGE / "layers.py") == {"__init__", "train", "data", "check", "plots"}
    fake.write_text("from . import core\nfrom ..plots import show\nfrom .. import network\n")
    assert imported(fake, PACKAGE / "check" / "fake.py") == {"check", "plots", "network"}
    assert LAYERS["layers"] < LAYERS["plots"], "so layers importing plots would be refused"
