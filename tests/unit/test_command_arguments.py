"""The key=value arguments of the command-line tools (core.serve, core.export, core.predict, ...)."""

import pytest

from core.errors import PlugtuneError
from core.runs import parse_key_values

USAGE = "python -m core.tool run_dir=RUN [port=8000]"
KEYS = ("run_dir", "port")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_usage_and_exits_cleanly(flag, capsys):
    with pytest.raises(SystemExit) as stop:
        parse_key_values([flag], KEYS, ("run_dir",), USAGE)
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"usage: {USAGE}\n"


def test_values_unknown_keys_and_missing_keys():
    assert parse_key_values(["run_dir=r", "port=9"], KEYS, ("run_dir",), USAGE) == {"run_dir": "r", "port": "9"}
    with pytest.raises(PlugtuneError, match=r"^unexpected argument 'rundir=r'; usage: python -m core.tool"):
        parse_key_values(["rundir=r"], KEYS, ("run_dir",), USAGE)
    with pytest.raises(PlugtuneError, match=r"^run_dir= is required; usage:"):
        parse_key_values(["port=9"], KEYS, ("run_dir",), USAGE)
