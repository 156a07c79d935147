"""What passes the export check (core.export_check.default_rule and Check)."""

import pytest

from core.export_check import QUANTISED_TOLERANCE, Check, default_rule, report_section


def check(fmt: str, adapter: float, exported: float, changed: int, rows: int = 20, tolerance=None) -> Check:
    drop, share = default_rule(fmt, tolerance)
    differing = [{"source": f"test.json:{i + 1}", "input": "q", "reference": "r", "adapter": "a", "artifact": "b"}
                 for i in range(changed)]
    return Check(artifact=f"RUN/{fmt}", format=fmt, main_metric="char_f1", adapter=adapter, exported=exported,
                 tolerance=drop, changed_share=share, rows=rows, differing=differing)


def test_the_merged_model_and_the_server_must_give_the_adapters_answers():
    for fmt in ("merged", "server"):
        assert check(fmt, 0.5, 0.5, 0).passed
        assert not check(fmt, 0.5, 0.5, 1).passed  # same metric, one answer changed: a lost stop token shows here
        assert not check(fmt, 0.0, 0.0, 3).passed  # a metric that cannot drop does not hide it


def test_an_unquantised_gguf_may_round_a_few_answers_but_not_lose_any_score():
    assert check("f16", 0.5, 0.5, 2).passed  # 10 % of 20
    assert not check("f16", 0.5, 0.5, 3).passed  # most answers changing: a lost chat template
    assert not check("f16", 0.5, 0.45, 1).passed
    assert check("f16", 0.5, 0.45, 1, tolerance=0.1).passed  # tolerance= sets the allowed drop


@pytest.mark.parametrize("fmt", ["q8_0", "q4_k_m"])
def test_a_quantised_gguf_may_lose_a_little(fmt):
    assert check(fmt, 0.5, 0.5 - QUANTISED_TOLERANCE, 20).passed
    assert not check(fmt, 0.5, 0.5 - QUANTISED_TOLERANCE - 0.01, 5).passed


def test_a_failure_is_one_line_naming_the_artifact_and_the_first_differing_row():
    failed = check("q8_0", 0.9, 0.7, 4)
    line = failed.failure()
    assert "\n" not in line and line.startswith("export check failed for RUN/q8_0: char_f1 0.9000 on the adapter")
    assert "first differing row test.json:1: adapter 'a', artifact 'b'" in line
    assert "| `RUN/q8_0` |" in report_section([failed.as_dict()]) and "failed" in report_section([failed.as_dict()])


def test_recorded_checks_keep_other_artifacts_and_drop_unreadable_ones(tmp_path):
    import json

    from core.export_check import CHECK_FILE, write_check

    old_layout = {"artifact": "RUN/gguf/model-q4_0.gguf", "format": "q4_0", "passed": True}  # fields missing
    (tmp_path / CHECK_FILE).write_text(json.dumps({"checks": [old_layout]}))
    write_check(tmp_path, [check("q8_0", 0.5, 0.5, 0)])
    recorded = write_check(tmp_path, [check("f16", 0.5, 0.5, 0), check("q8_0", 0.5, 0.4, 3)])
    assert [(c["format"], c["passed"]) for c in recorded] == [("f16", True), ("q8_0", False)]
    assert "| `RUN/f16` |" in report_section(recorded)
