"""Third-party plugins written against the documented API keep working (issue 24's acceptance).

tests/legacy_plugin is a plugin package written from CONTRIBUTING.md as it was before issue 24.
Each test registers it the way pip does (a .dist-info declaring its entry point, the package on
the path) and uses it as a user would; a plugin importing a module that moved fails at load in
one line naming the old and the new module.
"""

import ast
import json
import textwrap
import tomllib
from pathlib import Path

import pytest

import core
from core import DataError, PlugtuneError
from core.plugins import get_plugin_manager, reset_plugin_manager
from core.registry import get_registry
from core.testing import run_cli, tiny_overrides

LEGACY = Path(__file__).resolve().parents[1] / "legacy_plugin"
PROJECT = tomllib.loads((LEGACY / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def install_metadata(site: Path, name: str, version: str, entry_points: dict[str, str]) -> Path:
    """The .dist-info an (editable) pip install writes: the distribution and its entry points."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[plugtune]\n{lines}")
    return site


@pytest.fixture
def legacy_site(tmp_path, monkeypatch) -> Path:
    """tests/legacy_plugin 'installed': its metadata in a site folder, its package importable."""
    site = install_metadata(tmp_path / "site", PROJECT["name"], PROJECT["version"], PROJECT["entry-points"]["plugtune"])
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(LEGACY))
    reset_plugin_manager()
    return site


def to_csv(jsonl: Path, target: Path) -> Path:
    """The tiny intent data with the plugin's own column names."""
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    target.write_text("utterance,intent\n" + "".join(f"{r['text']},{r['label']}\n" for r in rows), encoding="utf-8")
    return target


def test_legacy_plugin_imports_only_the_public_api():
    """What CONTRIBUTING documented then is still public: core, core.datafiles, core.kinds."""
    tree = ast.parse((LEGACY / "plugtune_legacy" / "__init__.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    used = {name for name in imported if name.split(".")[0] == "core"}
    assert used == {"core", "core.datafiles", "core.kinds"}
    assert used <= set(core.PUBLIC_MODULES)


def test_legacy_plugin_registers_its_names_and_reports_bad_rows(legacy_site, tmp_path):
    registry = get_registry()
    plugin = next(iter(PROJECT["entry-points"]["plugtune"]))
    for kind, name in [("data_format", "utterance_csv"), ("prompt_template", "customer_turn"), ("evaluator", "label_recall")]:
        assert registry.names(kind)[name] == plugin, (kind, name)
    bad = tmp_path / "bad.csv"
    bad.write_text("utterance,intent\n余额多少,balance\n,refund\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{bad}:3: expected non-empty 'utterance' and 'intent' columns"):
        registry.get("data_format", "utterance_csv").read(bad, None)


def test_legacy_plugin_task_runs_from_the_command_line(legacy_site, tiny_model, tiny_data, tmp_path):
    """`python -m core task=legacy_intent`: its task config, format, template and evaluator in one run."""
    train, eval_ = (to_csv(path, tmp_path / f"{path.stem}.csv") for path in tiny_data)
    run_dir = tmp_path / "run"
    result = run_cli(
        "core", "task=legacy_intent", *tiny_overrides(tiny_model, train, eval_), f"hydra.run.dir={run_dir}",
        env={"PYTHONPATH": f"{legacy_site}:{LEGACY}"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "legacy_intent"
    assert (results["data"]["train_rows"], results["data"]["eval_rows"]) == (40, 10)
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 20
    assert all(r["input"].startswith("Customer: ") and r["input"].endswith("\nIntent:") for r in rows)  # its template

    labels = results["config"]["task"]["labels"]
    for model in ("baseline", "finetuned"):
        mine = [r for r in rows if r["model"] == model]
        accuracy = sum(r["prediction"] == r["reference"] for r in mine) / len(mine)
        recall = {
            label: sum(r["prediction"] == label for r in mine if r["reference"] == label)
            / sum(r["reference"] == label for r in mine)
            for label in labels
        }
        metrics = results["metrics"][model]
        assert metrics["label_recall.accuracy"] == pytest.approx(accuracy)
        assert metrics["label_recall.accuracy"] == pytest.approx(metrics["accuracy"])  # macro_f1's own count
        assert metrics["label_recall.worst"] == pytest.approx(min(recall.values()))
        assert results["details"][model]["label_recall"]["recall"] == pytest.approx(recall)
    assert results["metrics"]["finetuned"]["label_recall.accuracy"] > results["metrics"]["baseline"]["label_recall.accuracy"]

    provided = {(p["kind"], p["name"]): p for p in results["plugins"]}
    for kind, name in [("data_format", "utterance_csv"), ("prompt_template", "customer_turn"), ("evaluator", "label_recall")]:
        assert provided[kind, name]["distribution"] == PROJECT["name"]
        assert provided[kind, name]["version"] == PROJECT["version"]
    assert "## label_recall: finetuned (the trained model)" in (run_dir / "report.md").read_text()


def test_plugin_importing_a_moved_module_fails_at_load_in_one_line(tmp_path, monkeypatch, capsys):
    """`import plugins.lora` (now core.heads): one line naming both modules, no traceback."""
    site = install_metadata(tmp_path, "moved-import-plugin", "1.0", {"moved_import": "moved_import_plugin"})
    (site / "moved_import_plugin.py").write_text(textwrap.dedent("""
        import plugins.lora
        from core import hookimpl

        @hookimpl
        def register_evaluators(register):
            pass
    """))
    monkeypatch.syspath_prepend(str(site))
    reset_plugin_manager()
    try:
        get_plugin_manager()
        get_registry()
        message = ""
    except PlugtuneError as exc:  # failing the start-up instead of skipping the plugin is fine too
        message = str(exc)
    output = capsys.readouterr().err + "\n" + message
    named = [line for line in output.splitlines() if "plugins.lora" in line]
    assert len(named) == 1, output
    assert "core.heads" in named[0] and "moved_import" in named[0], named[0]
    assert "Traceback" not in output
