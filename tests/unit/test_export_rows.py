"""The rows an export is checked on (core.data.read_eval) are the rows the run scored. No model."""

from core.data import load_data, read_eval
from core.registry import get_registry
from core.shipped_data import resolve_data_paths
from core.testing import compose_config, write_intent_rows


def test_the_export_check_reads_the_rows_the_run_scored(tmp_path):
    # Fails before the fix: read_eval ignored data.max_eval_rows, so a run scored on 24 rows had
    # its GGUF checked on all 120 of its eval file (five times the decoding, another metric).
    train = write_intent_rows(tmp_path / "train.jsonl", [("我要退款", "refund"), ("查余额", "balance")] * 4)
    rows = [(f"第{i}条 退款", "refund") if i % 3 else (f"第{i}条 天气", "weather") for i in range(30)]
    test = write_intent_rows(tmp_path / "test.jsonl", rows)
    cfg = compose_config(["task=intent", f"data.train_path={train}", f"data.eval_path={test}",
                          "data.max_eval_rows=7", "task.labels=[refund,balance]"])
    resolve_data_paths(cfg)
    scored = load_data(cfg, get_registry().get("data_format", cfg.data.format)).eval
    checked = read_eval(cfg)
    assert len(checked) == 7
    assert [ex.source for ex in checked] == [ex.source for ex in scored]
