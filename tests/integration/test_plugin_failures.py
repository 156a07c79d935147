"""The command line with a broken or disabled plugin: contained, and named where it matters.

- ``python -m core.plugins`` with a plugin whose registration hook raises lists it as failed;
- ``task=<option>`` that a disabled or failed plugin would ship is one line naming the plugin and
  the options there are (exit 2), not Hydra's search-path dump; a misspelt option likewise.
"""

from pathlib import Path

import pytest

from core.testing import fake_plugin_distribution, run_cli

SHIPS_A_TASK = """
    from pathlib import Path

    from core import hookimpl

    @hookimpl
    def register_config_dirs():
        return [str(Path(__file__).parent / "{module}_conf")]
"""

RAISES_IN_HOOKS = """
    from core import hookimpl

    @hookimpl
    def register_config_dirs():
        import not_installed_config_library

    @hookimpl
    def register_evaluators(register):
        import not_installed_scoring_library
"""


def make_distribution(root: Path, module: str, body: str, version: str = "1.2.3") -> dict:
    """A plugin distribution that also ships a task config folder; the env to see it."""
    fake_plugin_distribution(root, module, body.replace("{module}", module), version)
    task = root / f"{module}_conf" / "task"
    task.mkdir(parents=True)
    (task / "shipped_task.yaml").write_text("name: shipped\nhead: seq_cls\ntrainer: hf\nmain_metric: macro_f1\n")
    return {"PYTHONPATH": str(root)}


def one_error_line(result) -> str:
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_plugin_listing_survives_a_raising_hook(tmp_path):
    env = make_distribution(tmp_path, "raising_plugtune_plugin", RAISES_IN_HOOKS)
    result = run_cli("core.plugins", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "macro_f1" in result.stdout
    assert "raising_plugtune_plugin (failed from raising_plugtune_plugin: register_config_dirs raised ModuleNotFoundError" in result.stdout
    assert "Traceback" not in result.stderr


def test_shipped_option_works_when_the_plugin_is_loaded(tmp_path):
    env = make_distribution(tmp_path, "shipping_plugtune_plugin", SHIPS_A_TASK)
    result = run_cli("core", "task=shipped_task", "--cfg", "job", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "name: shipped" in result.stdout


def test_option_of_a_disabled_plugin_is_one_line(tmp_path):
    env = make_distribution(tmp_path, "shipping_plugtune_plugin", SHIPS_A_TASK)
    env["PLUGTUNE_DISABLE_PLUGINS"] = "shipping_plugtune_plugin"
    result = run_cli("core", "task=shipped_task", f"hydra.run.dir={tmp_path / 'run'}", env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert line.startswith("error: task=shipped_task: no such task option; available: chat, intent")
    assert "plugins disabled by PLUGTUNE_DISABLE_PLUGINS may ship it: shipping_plugtune_plugin" in line
    assert "Config search path" not in result.stderr


def test_option_of_a_failed_plugin_is_one_line(tmp_path):
    env = make_distribution(tmp_path, "raising_plugtune_plugin", RAISES_IN_HOOKS)
    result = run_cli("core", "task=shipped_task", f"hydra.run.dir={tmp_path / 'run'}", env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert line.startswith("error: task=shipped_task: no such task option; available: chat, intent")
    assert "plugins that failed to load may ship it: 'raising_plugtune_plugin' from raising_plugtune_plugin" in line


@pytest.mark.parametrize("overrides", [["task=intnet"], ["-m", "task=intent,intnet"]])
def test_misspelt_option_is_one_line(tmp_path, overrides):
    result = run_cli("core", *overrides, f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}",
                     timeout=120)
    assert result.returncode == 2, result.stderr
    assert one_error_line(result).startswith("error: task=intnet: no such task option; available: chat, intent, ")
