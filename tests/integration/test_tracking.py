"""train.report_to: one tiny intent run logs to TensorBoard, MLflow and SwanLab, offline and inside
the run directory; each tracker's files are read back with its own reader."""

import json

import pytest

from core.testing import run_cli, tiny_overrides

pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")
pytest.importorskip("swanlab")

# Empty values read as unset: the user's own tracker settings would move the files elsewhere.
CLEAN_ENV = {"MLFLOW_TRACKING_URI": "", "TENSORBOARD_LOGGING_DIR": "", "SWANLAB_MODE": "", "SWANLAB_LOG_DIR": ""}


@pytest.fixture(scope="module")
def tracked_run(tiny_model, tmp_path_factory):
    """2 epochs of the intent task, validation loss each epoch; returns (run_dir, results)."""
    from core.testing import tiny_intent_data

    root = tmp_path_factory.mktemp("tracking")
    train, eval_ = tiny_intent_data(root / "data")
    run_dir = root / "run"
    env = {key: value for key, value in CLEAN_ENV.items()}
    result = run_cli("core", *tiny_overrides(tiny_model, train, eval_), "train.eval_strategy=epoch",
                     "train.report_to=[tensorboard,mlflow,swanlab]", f"hydra.run.dir={run_dir}",
                     env=env, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in root.iterdir()) == ["data", "run"]  # nothing written beside the run
    return run_dir, json.loads((run_dir / "results.json").read_text())


def train_log(run_dir):
    return json.loads((run_dir / "train_log.json").read_text())


def test_tensorboard_has_the_loss_curve_and_the_results(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, results = tracked_run
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    losses = [row["loss"] for row in train_log(run_dir) if "loss" in row]
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(losses, rel=1e-5)
    assert len(events.Scalars("eval/loss")) == 2  # one validation point per epoch
    main = results["main_metric"]
    for model in ("baseline", "finetuned"):
        [point] = events.Scalars(f"{model}/{main}")
        assert point.value == pytest.approx(results["metrics"][model][main], rel=1e-6)
    assert f"finetuned/{main}" in scalars
    [config] = events.Tensors("plugtune/config/text_summary")
    assert '"report_to": [' in config.tensor_proto.string_val[0].decode()


def test_mlflow_run_holds_training_metrics_results_and_config(tracked_run):
    from mlflow import MlflowClient

    run_dir, results = tracked_run
    client = MlflowClient(f"sqlite:///{run_dir / 'mlflow.db'}")
    [experiment] = [e for e in client.search_experiments() if e.name == "plugtune"]
    [run] = client.search_runs([experiment.experiment_id])  # one run: results went to the training run
    assert run.info.artifact_uri.startswith((run_dir / "mlartifacts").as_uri())
    main = results["main_metric"]
    for model in ("baseline", "finetuned"):
        assert run.data.metrics[f"{model}/{main}"] == pytest.approx(results["metrics"][model][main], rel=1e-6)
    losses = [row["loss"] for row in train_log(run_dir) if "loss" in row]
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in history] == pytest.approx(losses, rel=1e-5)
    assert len(client.get_metric_history(run.info.run_id, "eval_loss")) == 2
    assert run.data.params["train.lr"] == "0.005" and run.data.params["task.name"] == results["task"]
    assert run.data.params["learning_rate"] == "0.005"  # the Trainer's own params, same run
    assert run.data.tags["plugtune.main_metric"] == main
    local = client.download_artifacts(run.info.run_id, "plugtune/config.json", str(run_dir / "dl"))
    assert json.loads(open(local).read())["train"]["report_to"] == ["tensorboard", "mlflow", "swanlab"]


def swanlab_records(run_dir):
    from swanlab.proto.swanlab.record.v1.record_pb2 import Record
    from swanlab.sdk.internal.core_python.store import DataStoreReader

    [path] = (run_dir / "swanlog").glob("run-*/run-*.swanlab")  # one run, left open for the results
    reader = DataStoreReader()
    reader.open(path)
    records = []
    for raw in reader:
        record = Record()
        record.ParseFromString(raw)
        records.append(record)
    reader.close()
    return path.parent, records


def test_swanlab_local_run_holds_loss_and_results(tracked_run):
    run_dir, results = tracked_run
    folder, records = swanlab_records(run_dir)
    scalars = {}
    for record in records:
        if record.HasField("scalar"):
            scalars.setdefault(record.scalar.key, []).append(record.scalar.value.number)
    losses = [row["loss"] for row in train_log(run_dir) if "loss" in row]
    assert scalars["train/loss"] == pytest.approx(losses, rel=1e-5)
    assert len(scalars["eval/loss"]) == 2
    main = results["main_metric"]
    for model in ("baseline", "finetuned"):
        assert scalars[f"{model}/{main}"] == pytest.approx([results["metrics"][model][main]], rel=1e-6)
    assert records[-1].HasField("finish")
    config = (folder / "files" / "config.yaml").read_text()
    assert "plugtune:" in config and "report_to:" in config
