"""plugins/ holds plugins written like third-party ones: each imports only the public core API.

Every import in every plugins/*.py (at the top or inside a function) must name a module in
``core.PUBLIC_MODULES`` or outside plugtune (the standard library, torch, ...): never
``plugins.*`` (another plugin's internals) and never another core module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import core

REPO = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("core", "plugins")


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``tree``; ``from core import kinds`` counts as
    ``core.kinds`` when ``core.kinds`` is a module, relative imports are resolved in ``package``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module
            found.append((node.lineno, base))
            # `from core import heads` imports the module core.heads, `from core import hookimpl` a name.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if _is_module(candidate):
                    found.append((node.lineno, candidate))
    return sorted(found)


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def forbidden_imports(path: Path) -> list[str]:
    """``file:line: module`` for each import in ``path`` that breaks the rule."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for line, module in imported_modules(tree, "plugins"):
        top = module.split(".")[0]
        if top not in PROJECT_PACKAGES:
            continue  # the standard library and third-party packages are fine
        if module in core.PUBLIC_MODULES:
            continue
        if top == "plugins":
            why = "another plugin's module; move what is shared into the public core API"
        else:
            why = f"not public core API (core.PUBLIC_MODULES: {', '.join(core.PUBLIC_MODULES)})"
        problems.append(f"{path.relative_to(REPO)}:{line}: imports {module}: {why}")
    return problems


def test_public_modules_exist_and_are_listed_once():
    assert len(set(core.PUBLIC_MODULES)) == len(core.PUBLIC_MODULES)
    assert core.PUBLIC_MODULES[0] == "core"


def test_builtin_plugins_import_only_the_public_core_api():
    files = sorted((REPO / "plugins").glob("*.py"))
    assert len(files) > 10
    problems = [problem for path in files for problem in forbidden_imports(path)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_every_kind_of_forbidden_import(tmp_path, monkeypatch):
    """The rule test must be able to fail: each of these lines is reported with its line number."""
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    (tmp_path / "core").mkdir()
    for name in ("__init__", "registry", "heads"):
        (tmp_path / "core" / f"{name}.py").write_text("")
    (tmp_path / "plugins").mkdir()
    plugin = tmp_path / "plugins" / "bad.py"
    plugin.write_text(
        "from core import hookimpl, heads\n"  # fine: core and the public core.heads
        "import json\n"  # fine: the standard library
        "from plugins.alpaca import clean_text\n"  # line 3: another plugin
        "import core.registry\n"  # line 4: a private core module
        "from core import registry\n"  # line 5: the same, spelt differently
        "from . import messages\n"  # line 6: a relative import of another plugin
        "def f():\n"
        "    from core.models import quantization_kwargs\n"  # line 8: inside a function
    )
    reported = forbidden_imports(plugin)
    lines = [problem.split(":")[1] for problem in reported]
    assert lines == ["3", "4", "5", "6", "8"], reported
    assert reported[0].startswith("plugins/bad.py:3: imports plugins.alpaca")
