"""Every hook a plugtune plugin can implement, grouped by phase.

Plugins implement these with ``@core.hookimpl`` functions of the same name; an implementation
may take any subset of the listed arguments. pluggy checks the names when a plugin is registered
(``check_pending``), so a typo in a hook name fails at start-up, not silently.

Registration hooks are called once per plugin while the registry is built. Each receives a
``register(name, obj)`` callable; the registry records which plugin registered ``name`` so an
unknown or duplicated name can be reported with the plugins involved. The object follows its
kind's protocol in ``core/kinds.py``; each docstring below names the protocol and lists exactly
its methods (a test checks both against the protocols and against CONTRIBUTING.md).
"""

from __future__ import annotations

from core import hookspec

# --- registration: what a plugin adds ---------------------------------------------------------


@hookspec
def register_data_formats(register):
    """Register readers that turn a raw file into canonical examples.

    Called once while the registry is built. ``register(name, fmt)`` takes the name used in
    ``data.format`` and an object implementing ``core.kinds.DataFormat``:

    - ``read(path, data_cfg)``: a list of ``core.Example`` (or a ``core.ReadResult`` listing the
      rows it skipped, which the report counts); raises ``core.DataError(path, line, reason)``
      for a malformed row, never a bare exception, so the user sees ``file:line: reason``.

    Returns nothing.
    """


@hookspec
def register_prompt_templates(register):
    """Register prompt templates that render a canonical example as model text.

    Called once while the registry is built. ``register(name, template)`` takes the name used in
    ``task.prompt_template`` and an object implementing ``core.kinds.PromptTemplate``:

    - ``render(example, tokenizer, task_cfg)``: a ``core.RenderedPrompt`` (the generation
      prompt, the final answer, and for training the whole text with the character spans the
      loss covers).

    Returns nothing.
    """


@hookspec
def register_task_heads(register):
    """Register task heads: how a model is built, inputs are encoded, and outputs are read.

    Called once while the registry is built. ``register(name, head)`` takes the name used in
    ``task.head`` and an object implementing ``core.kinds.TaskHead``:

    - ``load_tokenizer(ctx)``: the tokenizer alone, into ``ctx.tokenizer`` (``mode=inspect``).
    - ``load_base(ctx)``: the base model as the head shapes it, without LoRA; export and chat
      attach a finished run's adapter to it.
    - ``load(ctx)``: tokenizer and base model wrapped for LoRA training.
    - ``encode(ctx, examples)``: rows with ``input_ids`` and ``truncated`` (and
      ``completion_mask`` where only part of the text is trained).
    - ``collator(ctx)``: the batch collator for encoded rows.
    - ``predict(ctx, model, encoded, examples, model_name)``: one ``core.Prediction`` per example.
    - ``save_adapter(ctx, model, path)``: what training produced, loadable by plain PEFT.

    Returns nothing.
    """


@hookspec
def register_trainers(register):
    """Register training loops.

    Called once while the registry is built. ``register(name, trainer)`` takes the name used in
    ``task.trainer`` and an object implementing ``core.kinds.Trainer``:

    - ``train(ctx, model, head, train_dataset, eval_dataset)``: trains ``model`` in place and
      returns a ``core.kinds.TrainResult``; the eval rows are for an eval loss during training,
      if the trainer logs one (the validation split's rows when the run has one, never the eval
      split's then). With a validation split, ``ctx.validation`` scores it: a trainer built on a
      transformers Trainer gets the checks, the best checkpoint and early stopping by creating it
      from ``core.training.trainer_class(base, ctx)`` with ``callbacks=core.training.trainer_callbacks(ctx)``.

    Returns nothing.
    """


@hookspec
def register_evaluators(register):
    """Register evaluators that score predictions.

    Called once while the registry is built. ``register(name, evaluator)`` takes the name used in
    ``task.evaluators`` and an object implementing ``core.kinds.Evaluator``:

    - ``evaluate(predictions, ctx)``: a ``core.EvalResult`` for ``predictions``, a list of
      ``core.Prediction`` for one model (baseline or fine-tuned).

    Returns nothing.
    """


@hookspec
def register_config_dirs():
    """Return config directories this plugin ships, to add to Hydra's search path.

    Called once when Hydra builds its config search path (before any config is composed).
    Returns a list of absolute directory paths or ``pkg://package.subpackage`` strings; each may
    hold Hydra config groups such as ``task/my_task.yaml`` that then work as ``task=my_task``.
    """


# --- lifecycle: what a reporter observes -------------------------------------------------------


@hookspec
def on_run_start(cfg, run_dir):
    """Called when a run starts, after the config is resolved and before any data is read.

    ``cfg`` is the run's OmegaConf config (read-only by convention); ``run_dir`` is the
    ``pathlib.Path`` of the run directory. Returns nothing.
    """


@hookspec
def on_metrics(model, metrics, run_dir):
    """Called each time one model has been evaluated.

    ``model`` is ``"baseline"`` or ``"finetuned"``; ``metrics`` the flat ``name -> float`` dict
    merged from all evaluators; ``run_dir`` the run directory. Returns nothing.
    """


@hookspec
def on_run_end(results, run_dir):
    """Called after ``results.json`` and ``report.md`` have been written.

    ``results`` is the dict written to ``results.json``; ``run_dir`` the run directory.
    Returns nothing.
    """
