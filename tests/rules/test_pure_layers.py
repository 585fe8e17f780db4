"""portal/rules/ and portal/x12/ are pure: they import only the standard library and their
own package (rules may not import x12, nor x12 rules), never flask, peewee, stripe or the
rest of the portal. Read from the source, so an import inside a function counts too."""

import ast
import pathlib
import sys

import pytest

PORTAL = pathlib.Path(__file__).resolve().parents[2] / "portal"


def _imports(path: pathlib.Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


MODULES = sorted(
    (package, path) for package in ("rules", "x12") for path in (PORTAL / package).glob("*.py")
)


@pytest.mark.parametrize("package, path", MODULES, ids=[f"{p}/{m.name}" for p, m in MODULES])
def test_pure_package_imports_only_the_standard_library_and_itself(package, path):
    for name in _imports(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or name.startswith(f"portal.{package}")
        assert allowed, f"portal/{package}/{path.name} imports {name}"


def test_the_check_sees_what_it_should():
    assert "portal.rules.claim_data" in _imports(PORTAL / "rules" / "claim_parties.py")
    assert "portal.x12.segments" in _imports(PORTAL / "x12" / "write837.py")
    assert len(MODULES) >= 20
