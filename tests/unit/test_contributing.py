"""CONTRIBUTING.md's hook reference: it names exactly the hook specs, and its examples do what their text says."""

import inspect
import re

import pytest

from core import Example, Prediction, hookspecs
from core.registry import get_registry
from core.testing import inline_plugin


def hook_specs() -> list[tuple[str, list[str]]]:
    """(name, argument names) of every hook spec, in source order."""
    specs = [
        (name, fn)
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "plugtune_spec")
    ]
    specs.sort(key=lambda item: item[1].__code__.co_firstlineno)
    return [(name, list(inspect.signature(fn).parameters)) for name, fn in specs]


def test_reference_names_every_hook_spec_with_its_arguments_in_order(hook_reference):
    documented = [(name, args) for name, args, _ in hook_reference]
    assert documented == hook_specs()


def test_every_hook_spec_has_a_docstring():
    for name, _ in hook_specs():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_registering_examples_add_their_names(examples):
    expected = {
        "register_data_formats": ("data_format", "tsv_label"),
        "register_prompt_templates": ("prompt_template", "qa_lines"),
        "register_task_heads": ("task_head", "seq_cls_lower"),
        "register_trainers": ("trainer", "none"),
        "register_evaluators": ("evaluator", "answer_length"),
    }
    for hook, (kind, name) in expected.items():
        with inline_plugin(examples[hook], name=f"example-{hook}"):
            assert get_registry().names(kind)[name] == f"example-{hook}"


def test_examples_do_what_their_text_says(examples, tmp_path):
    data = tmp_path / "rows.tsv"
    data.write_text("hello\tgreeting\nno tab here\n", encoding="utf-8")
    fmt = examples["register_data_formats"].TsvLabelFormat()
    with pytest.raises(Exception, match=rf"{re.escape(str(data))}:2: expected text<TAB>label"):
        fmt.read(data, None)

    template = examples["register_prompt_templates"].QuestionAnswerTemplate()
    example = Example(messages=[{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}])
    rendered = template.render(example, None, None)
    assert (rendered.prompt, rendered.answer) == ("Q: 2+2?\nA: ", "4")

    metrics = examples["register_evaluators"].AnswerLength().evaluate([Prediction("finetuned", "q", "r", "abcd"), Prediction("finetuned", "q", "r", "ab")], None)
    assert metrics.metrics == {"answer_length.mean": 3.0}

    dirs = examples["register_config_dirs"].register_config_dirs()
    assert dirs == [str(tmp_path / "conf")]
