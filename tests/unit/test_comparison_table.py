"""The console's results table (core.report.comparison_table)."""

from core.report import comparison_table


def test_a_metric_one_model_did_not_report_is_explained_under_the_table():
    metrics = {"baseline": {"tool_call.exact_match": 0.0},
               "finetuned": {"tool_call.exact_match": 0.7, "tool_call.schema_valid": 1.0}}
    table = comparison_table(metrics).splitlines()
    row = next(line for line in table if line.startswith("tool_call.schema_valid"))
    assert row.split()[1:] == ["-", "1.0000", "-"]
    assert table[-1].startswith("-: not measured for that model") and "(tool_call.schema_valid;" in table[-1]


def test_a_table_where_both_models_report_everything_has_no_note():
    metrics = {"baseline": {"macro_f1": 0.2}, "finetuned": {"macro_f1": 0.9}}
    table = comparison_table(metrics).splitlines()
    assert len(table) == 2 and table[1].split() == ["macro_f1", "0.2000", "0.9000", "+0.7000"]


def test_a_run_without_a_baseline_gets_no_note():
    table = comparison_table({"finetuned": {"macro_f1": 0.9}}).splitlines()
    assert not any(line.startswith("-:") for line in table)


def test_the_main_metric_is_starred_and_explained():
    # Fails before the change: a tool-call run's table listed exact_match and tool_call.exact_match
    # side by side with nothing saying which one the run is judged by.
    metrics = {"baseline": {"tool_call.exact_match": 0.0, "exact_match": 0.0},
               "finetuned": {"tool_call.exact_match": 0.75, "exact_match": 0.7}}
    table = comparison_table(metrics, main="tool_call.exact_match").splitlines()
    assert table[1].startswith("tool_call.exact_match *") and table[2].startswith("exact_match ")
    assert table[-1].startswith("*: the main metric (task.main_metric): the one to quote")
    assert not any(line.startswith("*") for line in comparison_table(metrics).splitlines())  # no main given
