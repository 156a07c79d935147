"""The test tiers keep their promises (CONTRIBUTING's "Developing" section).

- ``tests/unit``: no model load at all (no tiny model, no tokenizer, no CLI subprocess), so the
  whole tier runs in under 2 minutes;
- ``tests/integration``: the tiny random model, pipeline runs, the CLI in a subprocess;
- ``tests/e2e``: the embedded model, every test marked ``slow``.

Test modules share fixtures through tests/conftest.py and helpers through core.testing; none
imports another test module or conftest. Checked on the source (ast), so nothing is run here.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
TIERS = ("unit", "integration", "e2e")
# Where test modules live outside tests/: examples' own tests.
OTHER_TEST_DIRS = sorted(REPO.glob("examples/*/tests"))

# What loads a model or a tokenizer, or runs plugtune in a subprocess: never in tests/unit.
MODEL_FIXTURES = {"tiny_model"}
MODEL_LOADERS = {
    "tiny_model_dir", "embedded_tokenizer", "embedded_model_dir", "from_pretrained", "from_config",
    "run_cli", "run_tiny_chat", "reload_predictions", "assert_adapter_reproduces",
    "assert_sft_cache_trains_the_same_model",
}


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "legacy_plugin" not in p.relative_to(root).parts)


def all_test_modules() -> list[Path]:
    files = python_files(TESTS) + [p for d in OTHER_TEST_DIRS for p in python_files(d)]
    return [p for p in files if p.name.startswith("test_") or p.name == "conftest.py"]


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def imported_modules(tree: ast.AST):
    """(line, module) for every import in the file, including those inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .test_x import y
                yield node.lineno, "." * node.level + (node.module or "")
            else:
                yield node.lineno, node.module


def is_test_module(module: str) -> bool:
    parts = module.split(".")
    return (module.startswith(".") or parts[0] in {"conftest", "tests", *TIERS}
            or any(part.startswith("test_") or part == "conftest" for part in parts))


def test_no_test_module_imports_another_test_module_or_conftest():
    offences = [f"{rel(path)}:{line}: imports {module}"
                for path in all_test_modules()
                for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
                if is_test_module(module)]
    assert not offences, ("shared helpers go to core.testing, shared fixtures to tests/conftest.py:\n"
                          + "\n".join(offences))


def test_every_test_module_is_in_a_tier():
    stray = [rel(p) for p in TESTS.glob("test_*.py")]
    stray += [rel(p) for p in TESTS.glob("*/test_*.py") if p.parent.name not in TIERS]
    assert not stray, f"put each test module in tests/unit, tests/integration or tests/e2e: {stray}"


def model_loads(tree: ast.AST):
    """(line, what) for each use of the tiny model fixture or a call that loads a model or tokenizer."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in node.args.args + node.args.kwonlyargs:
                if arg.arg in MODEL_FIXTURES:
                    yield node.lineno, f"fixture {arg.arg} (in {node.name})"
        elif isinstance(node, ast.Name) and node.id in MODEL_LOADERS | MODEL_FIXTURES:
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute) and node.attr in MODEL_LOADERS:
            yield node.lineno, node.attr
        elif isinstance(node, ast.Constant) and node.value in MODEL_FIXTURES:  # usefixtures("tiny_model")
            yield node.lineno, f"fixture {node.value!r}"


def test_the_unit_tier_loads_no_model():
    offences = [f"{rel(path)}:{line}: {what}"
                for path in python_files(TESTS / "unit") if path != Path(__file__).resolve()  # names them as data
                for line, what in model_loads(ast.parse(path.read_text(encoding="utf-8")))]
    assert not offences, "tests/unit loads no model or tokenizer; move these tests to tests/integration:\n" + "\n".join(offences)


def marks_slow(node: ast.expr) -> bool:
    """``pytest.mark.slow`` (or a list/tuple holding it)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(marks_slow(item) for item in node.elts)
    return isinstance(node, ast.Attribute) and node.attr == "slow" and ast.unparse(node.value) == "pytest.mark"


def unmarked_e2e_tests(tree: ast.Module) -> list[str]:
    module_marked = any(isinstance(node, ast.Assign) and marks_slow(node.value)
                        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
                        for node in tree.body)
    if module_marked:
        return []
    unmarked = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test") and not any(marks_slow(d) for d in node.decorator_list):
            unmarked += [f"{node.name}.{f.name}" for f in node.body
                         if isinstance(f, ast.FunctionDef) and f.name.startswith("test") and not any(marks_slow(d) for d in f.decorator_list)]
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not any(marks_slow(d) for d in node.decorator_list):
            unmarked.append(node.name)
    return unmarked


def test_every_end_to_end_test_is_marked_slow():
    offences = [f"{rel(path)}: {name}" for path in python_files(TESTS / "e2e") if path.name.startswith("test_")
                for name in unmarked_e2e_tests(ast.parse(path.read_text(encoding="utf-8")))]
    assert not offences, "mark them @pytest.mark.slow (or pytestmark = pytest.mark.slow):\n" + "\n".join(offences)


@pytest.mark.parametrize("source, offences", [
    ("from conftest import run_cli\n", ["conftest"]),
    ("from test_pipeline import losses\n", ["test_pipeline"]),
    ("from tests.integration.test_pipeline import losses\n", ["tests.integration.test_pipeline"]),
    ("def f():\n    from .test_frozen_prefix import losses\n", [".test_frozen_prefix"]),
    ("import core.testing\nfrom core.testing import losses, run_cli\n", []),
])
def test_the_import_check_catches_test_modules(source, offences):
    assert [m for _, m in imported_modules(ast.parse(source)) if is_test_module(m)] == offences


@pytest.mark.parametrize("source, caught", [
    ("def test_x(tiny_model):\n    pass\n", True),
    ("@pytest.mark.usefixtures('tiny_model')\ndef test_x():\n    pass\n", True),
    ("from core.testing import embedded_tokenizer\ndef test_x():\n    embedded_tokenizer()\n", True),
    ("import core.testing\ndef test_x(tmp_path):\n    core.testing.tiny_model_dir(tmp_path)\n", True),
    ("def test_x():\n    AutoTokenizer.from_pretrained('x')\n", True),
    ("def test_x():\n    run_cli('core')\n", True),
    ("from core.testing import tiny_model_dir  # noqa: F401  (the name is importable)\n", False),
    ("def test_x(tiny_data, tmp_path):\n    compose_config([])\n", False),
])
def test_the_model_load_check_catches_the_tiny_model_and_loaders(source, caught):
    assert bool(list(model_loads(ast.parse(source)))) == caught


@pytest.mark.parametrize("source, unmarked", [
    ("import pytest\npytestmark = pytest.mark.slow\ndef test_a():\n    pass\n", []),
    ("import pytest\npytestmark = [pytest.mark.slow]\ndef test_a():\n    pass\n", []),
    ("import pytest\n@pytest.mark.slow\ndef test_a():\n    pass\ndef test_b():\n    pass\n", ["test_b"]),
    ("import pytest\npytestmark = pytest.mark.skip\ndef test_a():\n    pass\n", ["test_a"]),
])
def test_the_slow_check_reads_module_and_test_marks(source, unmarked):
    assert unmarked_e2e_tests(ast.parse(source)) == unmarked
