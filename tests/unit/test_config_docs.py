"""docs/configuration.md is generated from the schema (``python -m core.config_docs``) and kept current."""

from __future__ import annotations

import dataclasses
import inspect
import io
import tokenize

from omegaconf import DictConfig, OmegaConf

from core import config_docs
from core.config_docs import OUTPUT, field_comments, main, render, schema_class

CHANGED = "a comment changed in the source"


def schema_classes(cls=None) -> list[type]:
    """The schema's dataclasses, the root first."""
    cls = cls or schema_class()
    found = [cls]
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            found += schema_classes(type(default))
    return found


def schema_keys(node: DictConfig, prefix: str = "") -> list[str]:
    """Every key of the composed schema, nested groups included (``train``, ``train.lr``, …)."""
    keys = []
    for name in node.keys():
        key = f"{prefix}{name}"
        keys.append(key)
        child = node._get_node(name)
        if isinstance(child, DictConfig) and dataclasses.is_dataclass(OmegaConf.get_type(child)):
            keys += schema_keys(child, f"{key}.")
    return keys


def with_one_comment_changed() -> tuple[type, str]:
    """A schema class and its source with one field's comment replaced by ``CHANGED``: the first
    comment, in schema order, that some field's help text is read from."""
    for cls in schema_classes():
        source = inspect.getsource(cls)
        helps = field_comments(source)
        lines = source.splitlines(keepends=True)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.COMMENT:
                continue
            row, col = tok.start
            changed_lines = list(lines)
            line = changed_lines[row - 1]
            changed_lines[row - 1] = line[:col] + f"# {CHANGED}" + line[col + len(tok.string):]
            changed = "".join(changed_lines)
            if field_comments(changed) != helps:
                return cls, changed
    raise AssertionError("no field of the schema has a comment to read its help text from")


def test_committed_reference_is_current():
    assert OUTPUT.is_file(), "docs/configuration.md is missing: run python -m core.config_docs"
    stale = "docs/configuration.md is stale: run python -m core.config_docs"
    assert OUTPUT.read_text(encoding="utf-8") == render(), stale
    assert main(["--check"]) == 0


def test_every_schema_key_is_documented():
    text = render()
    missing = [key for key in schema_keys(OmegaConf.structured(schema_class())) if f"`{key}`" not in text]
    assert not missing, f"keys missing from the reference: {missing}"


def test_a_changed_comment_makes_the_check_fail(tmp_path, capsys):
    cls, changed_source = with_one_comment_changed()

    def source_of(c):
        return changed_source if c is cls else inspect.getsource(c)

    regenerated = render(source_of=source_of)
    assert CHANGED in regenerated
    assert regenerated != render()

    stale = tmp_path / "configuration.md"
    stale.write_text(regenerated, encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    message = capsys.readouterr().err.strip()
    assert "stale" in message and "python -m core.config_docs" in message and "\n" not in message
    assert stale.read_text(encoding="utf-8") == regenerated  # --check writes nothing

    stale.write_text(render(), encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 0


def test_check_fails_when_the_file_is_missing(tmp_path, capsys):
    assert main(["--check", "--output", str(tmp_path / "absent.md")]) == 1
    assert "missing" in capsys.readouterr().err


def test_field_comments_reads_the_comments_above_and_on_a_field():
    source = '''
@dataclass
class Example:
    """Docstring."""

    # Two lines of comment
    # above the field.
    first: int = 1  # and one after it
    second: str = "a # not a comment"

    # A comment separated by a blank line belongs to no field.

    third: Optional[List[int]] = field(
        default_factory=list,  # a comment inside the field's own lines
    )
    fourth = "x"  # an assignment counts too

    def method(self):
        inner: int = 2  # a method's local is no field
        return inner
'''
    helps = field_comments(source)
    assert helps == {
        "first": "Two lines of comment above the field. and one after it.",
        "third": "a comment inside the field's own lines.",
        "fourth": "an assignment counts too.",
    }


def test_groups_list_every_yaml_file_of_conf():
    options = {f"{group}={o.name}" for group, found in config_docs.groups().items() for o in found}
    conf = config_docs.ROOT / "conf"
    expected = {
        f"{path.parent.relative_to(conf).as_posix()}={path.stem}"
        for path in conf.rglob("*.yaml") if path.parent != conf
    }
    assert expected <= options
    text = render()
    assert all(f"`{option}`" in text for option in expected)
