"""One source for each contract: the Protocols in core/kinds.py.

The registration hook's docstring (core/hookspecs.py) and CONTRIBUTING's hook reference list
exactly the methods (and their arguments) of the kind's Protocol, and every object in the real
registry has every method of its kind's Protocol with a compatible signature.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs, kinds
from core.registry import KINDS, get_registry

REPO = Path(__file__).resolve().parents[2]

# kind -> the Protocol its registration hook documents (the hook comes from core.registry.KINDS)
PROTOCOLS = {
    "data_format": kinds.DataFormat,
    "prompt_template": kinds.PromptTemplate,
    "task_head": kinds.TaskHead,
    "trainer": kinds.Trainer,
    "evaluator": kinds.Evaluator,
}

Methods = dict[str, list[str]]  # method name -> argument names (without self)


def protocol_methods(protocol: type) -> Methods:
    """The methods a Protocol declares, in source order, with their argument names."""
    methods = {}
    for name, fn in vars(protocol).items():
        if inspect.isfunction(fn) and not name.startswith("_"):
            methods[name] = list(inspect.signature(fn).parameters)[1:]
    return methods


def _arguments(text: str) -> list[str]:
    return [a.split("=")[0].strip() for a in text.split(",") if a.strip()]


def documented_protocol(text: str) -> str | None:
    """The protocol a docstring or CONTRIBUTING section names: "implements ``core.kinds.Name``"."""
    found = re.findall(r"implement(?:s|ing)\s+`+core\.kinds\.(\w+)`", text)
    return found[0] if len(found) == 1 else None


def docstring_methods(doc: str) -> Methods:
    """Methods listed in a hookspec docstring as ``- ``name(args)``: …`` bullets."""
    return {name: _arguments(args) for name, args in re.findall(r"^\s*- ``(\w+)\(([^)]*)\)``", doc, re.M)}


def contributing_sections(text: str) -> dict[str, str]:
    """Hook name -> prose of its '### hook(args)' section in '## Hook reference' (code removed)."""
    reference = text.split("## Hook reference", 1)[1]
    sections = re.findall(r"^### (\w+)\([^)]*\)\n(.*?)(?=^### |\Z)", reference, re.M | re.S)
    return {name: re.sub(r"```.*?```", "", body, flags=re.S) for name, body in sections}


def contributing_methods(section: str) -> Methods:
    """Methods listed in a CONTRIBUTING section as ``- `name(args)`: …`` bullets."""
    return {name: _arguments(args) for name, args in re.findall(r"^- `(\w+)\(([^)]*)\)`", section, re.M)}


def signature_problems(obj: object, protocol: type) -> list[str]:
    """Why ``obj`` does not satisfy ``protocol`` (empty: it does).

    Each Protocol method must exist and accept the Protocol's arguments positionally and by
    name; arguments the Protocol gives a default must have one; extra arguments need defaults
    (``*args`` / ``**kwargs`` are fine).
    """
    problems = []
    for method, _ in protocol_methods(protocol).items():
        impl = getattr(obj, method, None)
        if not callable(impl):
            problems.append(f"{method}: missing")
            continue
        wanted = list(inspect.signature(getattr(protocol, method)).parameters.values())[1:]
        params = list(inspect.signature(impl).parameters.values())
        var_pos = any(p.kind is p.VAR_POSITIONAL for p in params)
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for i, want in enumerate(wanted):
            have = positional[i] if i < len(positional) else None
            if have is None:
                if not (var_pos and var_kw):
                    problems.append(f"{method}: does not accept {want.name!r}")
                continue
            if have.name != want.name and not var_kw:
                problems.append(f"{method}: argument {i + 1} is {have.name!r}, the protocol's is {want.name!r}")
            if want.default is not inspect.Parameter.empty and have.default is inspect.Parameter.empty:
                problems.append(f"{method}: {have.name!r} needs a default, as the protocol's {want.name!r} has")
        for extra in positional[len(wanted):] + [p for p in params if p.kind is p.KEYWORD_ONLY]:
            if extra.default is inspect.Parameter.empty:
                problems.append(f"{method}: extra argument {extra.name!r} has no default")
    if not problems and not isinstance(obj, protocol):
        problems.append(f"isinstance(obj, {protocol.__name__}) is false")
    return problems


@pytest.mark.parametrize("kind", list(KINDS))
def test_hookspec_docstring_and_contributing_list_the_protocols_methods(kind):
    hook = KINDS[kind][0]
    protocol = PROTOCOLS[kind]
    expected = protocol_methods(protocol)
    assert expected, f"{protocol.__name__} declares no methods"

    doc = getattr(hookspecs, hook).__doc__
    assert documented_protocol(doc) == protocol.__name__, f"{hook}'s docstring must name core.kinds.{protocol.__name__}"
    assert docstring_methods(doc) == expected, f"{hook}'s docstring lists other methods than {protocol.__name__}"

    section = contributing_sections((REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"))[hook]
    assert documented_protocol(section) == protocol.__name__, f"CONTRIBUTING's {hook} must name core.kinds.{protocol.__name__}"
    assert contributing_methods(section) == expected, f"CONTRIBUTING's {hook} lists other methods than {protocol.__name__}"


def test_every_protocol_method_has_a_docstring():
    for protocol in PROTOCOLS.values():
        assert (protocol.__doc__ or "").strip(), protocol.__name__
        for method in protocol_methods(protocol):
            assert (getattr(protocol, method).__doc__ or "").strip(), f"{protocol.__name__}.{method}"


def test_every_registered_object_satisfies_its_kinds_protocol():
    registry = get_registry()
    checked = 0
    for kind, protocol in PROTOCOLS.items():
        for name, plugin in registry.names(kind).items():
            problems = signature_problems(registry.get(kind, name), protocol)
            assert not problems, f"{kind} {name!r} from plugin {plugin!r} breaks {protocol.__name__}: {problems}"
            checked += 1
    assert checked >= 15  # every built-in at least


def test_the_checks_fail_when_a_method_goes_missing():
    """The comparisons above can fail: a method dropped from the docs or from an object is caught."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    doctored = re.sub(r"^- `load_base\(ctx\)`.*\n", "", text, count=1, flags=re.M)
    assert doctored != text
    section = contributing_sections(doctored)["register_task_heads"]
    assert contributing_methods(section) != protocol_methods(kinds.TaskHead)

    head = get_registry().get("task_head", "seq_cls")

    class WithoutLoadBase:  # a head written from the old docs: six methods, no load_base
        def __getattr__(self, name):
            if name == "load_base":
                raise AttributeError(name)
            return getattr(head, name)

    assert signature_problems(head, kinds.TaskHead) == []
    assert signature_problems(WithoutLoadBase(), kinds.TaskHead) == ["load_base: missing"]

    class Renamed:
        def evaluate(self, preds, context): ...

    class Loose:
        def evaluate(self, predictions, ctx, **kwargs): ...

    class NeedsMore:
        def evaluate(self, predictions, ctx, threshold): ...

    class NoDefault:
        def train(self, ctx, model, head, train_dataset, eval_dataset): ...

    assert signature_problems(Loose(), kinds.Evaluator) == []
    assert len(signature_problems(Renamed(), kinds.Evaluator)) == 2
    assert signature_problems(NeedsMore(), kinds.Evaluator) == ["evaluate: extra argument 'threshold' has no default"]
    assert signature_problems(NoDefault(), kinds.Trainer) == [
        "train: 'eval_dataset' needs a default, as the protocol's 'eval_dataset' has"
    ]
