"""``python -m core.config_docs``: write docs/configuration.md from the config schema.

The reference is generated, never edited by hand: every field of the structured schema (the
dataclass stored as ``plugtune_schema`` in core/config.py and every dataclass it nests, wherever
it is defined) with its full key, type and default, and as help text the comment on the field's
line and the comment lines directly above it, read from the source with ``tokenize``. Then the
config groups, one table per folder of ``conf/`` (and of any ``conf/`` folder a built-in plugin
under ``plugins/`` ships), each option described by the first paragraph of its file's leading
comment.

``python -m core.config_docs --check`` writes nothing; it exits 1 with one line when the file
differs from what the schema and conf/ give now.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import io
import sys
import textwrap
import tokenize
import typing
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "configuration.md"
SCHEMA_NAME = "plugtune_schema"
COMMAND = "python -m core.config_docs"

SourceOf = Callable[[type], str]


# --- reading comments from source ------------------------------------------------------------

def field_comments(source: str) -> dict[str, str]:
    """The help text of each name assigned or annotated in a class body: the comment lines
    directly above it (no blank line between) followed by the comment on its own line(s).

    ``source`` is one class's source as ``inspect.getsource`` returns it (decorators included).
    Names at the class body's indentation count (``x: int = 1``, ``x = "a"``); deeper ones
    (inside methods) do not.
    """
    source = textwrap.dedent(source)
    lines = source.splitlines()
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    own_line_comments: dict[int, str] = {}  # row -> text of a comment alone on its line
    trailing_comments: dict[int, str] = {}  # row -> text of a comment after code
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            text = tok.string[1:].strip()
            if lines[tok.start[0] - 1][: tok.start[1]].strip():
                trailing_comments[tok.start[0]] = text
            else:
                own_line_comments[tok.start[0]] = text

    # Logical lines: (first significant token, second token, first row, last row).
    statements = []
    current: list[tokenize.TokenInfo] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    for tok in tokens:
        if tok.type == tokenize.NEWLINE or tok.type == tokenize.ENDMARKER:
            if current:
                statements.append((current[0], current[1] if len(current) > 1 else None,
                                   current[0].start[0], tok.start[0]))
            current = []
        elif tok.type not in skip:
            current.append(tok)

    body_column = None
    for index, (first, _, _, _) in enumerate(statements):
        if first.type == tokenize.NAME and first.string == "class":
            if index + 1 < len(statements):
                body_column = statements[index + 1][0].start[1]
            break
    if body_column is None:
        return {}

    helps: dict[str, str] = {}
    for first, second, start, end in statements:
        if first.start[1] != body_column or first.type != tokenize.NAME or second is None:
            continue
        if second.type != tokenize.OP or second.string not in (":", "="):
            continue
        above = []
        row = start - 1
        while row in own_line_comments and _indent(lines[row - 1]) == body_column:
            above.append(own_line_comments[row])
            row -= 1
        after = [trailing_comments[r] for r in range(start, end + 1) if r in trailing_comments]
        parts = [" ".join(reversed(above)), " ".join(after)]
        text = " ".join(_sentence(part) for part in parts if part.strip())
        if text:
            helps[first.string] = text
    return helps


def _sentence(text: str) -> str:
    """``text`` ending in a full stop, so a comment above a field and one after it read as two sentences."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# --- walking the schema ----------------------------------------------------------------------

@dataclasses.dataclass
class Entry:
    key: str
    type: str
    default: str
    help: str


@dataclasses.dataclass
class Section:
    prefix: str  # "" for the top level
    doc: str
    entries: list[Entry]


def schema_class() -> type:
    """The dataclass stored in Hydra's ConfigStore as ``plugtune_schema``."""
    import core.config  # noqa: F401  (stores the schema)
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    node = ConfigStore.instance().load(f"{SCHEMA_NAME}.yaml").node
    return OmegaConf.get_type(node)


def sections(root: type, source_of: SourceOf = inspect.getsource) -> list[Section]:
    """One section per dataclass of the schema, top level first, nested ones in field order."""
    out: list[Section] = []
    _walk(root, "", source_of, out)
    return out


def _walk(cls: type, prefix: str, source_of: SourceOf, out: list[Section]) -> None:
    helps = field_comments(source_of(cls))
    hints = _type_hints(cls)
    section = Section(prefix, _class_doc(cls), [])
    out.append(section)
    nested = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        hint = hints.get(f.name, f.type)
        inner = _dataclass_of(hint)
        if inner is not None:
            nested.append((inner, key))
            section.entries.append(Entry(key, "group", f"see [`{key}`](#{_slug(key)})", helps.get(f.name, "")))
            continue
        help_text = helps.get(f.name, "")
        enum_cls = _enum_of(hint)
        if enum_cls is not None:
            help_text = _join(help_text, _enum_help(enum_cls, source_of))
        section.entries.append(Entry(key, _type_name(hint), _default(f), help_text))
    for inner, key in nested:
        _walk(inner, key, source_of, out)


def _type_hints(cls: type) -> dict:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: fall back to its text
        return {}


def _class_doc(cls: type) -> str:
    doc = cls.__doc__ or ""
    if doc.startswith(f"{cls.__name__}("):  # the signature dataclasses write when there is no docstring
        return ""
    return " ".join(inspect.cleandoc(doc).split())


def _args_without_none(hint) -> list:
    return [a for a in typing.get_args(hint) if a is not type(None)]


def _dataclass_of(hint):
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    args = _args_without_none(hint)
    if typing.get_origin(hint) is typing.Union and len(args) == 1:
        return _dataclass_of(args[0])
    return None


def _enum_of(hint):
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    args = _args_without_none(hint)
    if typing.get_origin(hint) is typing.Union and len(args) == 1:
        return _enum_of(args[0])
    return None


def _type_name(hint) -> str:
    if isinstance(hint, str):
        return hint
    if hint is typing.Any:
        return "any"
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        args = typing.get_args(hint)
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin in (list, typing.List):
        (arg,) = typing.get_args(hint) or (typing.Any,)
        return f"list[{_type_name(arg)}]"
    if origin in (dict, typing.Dict):
        return "mapping"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "enum"
    return getattr(hint, "__name__", str(hint))


def _enum_help(enum_cls: type, source_of: SourceOf) -> str:
    helps = field_comments(source_of(enum_cls))
    parts = []
    for member in enum_cls:
        text = helps.get(member.name)
        parts.append(f"`{member.value}`" + (f": {text}" if text else ""))
    return "One of " + "; ".join(parts) + "."


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if value == "???":  # omegaconf.MISSING: set by a group file (task, model) or the command line
        return "required"
    return f"`{_yaml(value)}`"


def _yaml(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _yaml(value.value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        if value == "" or "\n" in value or value.strip() != value:
            return repr(value).replace("'", '"')
        return value
    return str(value)


def _join(*texts: str) -> str:
    return " ".join(t for t in texts if t)


def _slug(text: str) -> str:
    """The anchor GitHub gives a heading (lower case, punctuation but - and _ dropped)."""
    return "".join(c for c in text.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


# --- config groups ---------------------------------------------------------------------------

@dataclasses.dataclass
class Option:
    name: str
    path: Path
    help: str
    selects: list[str]


def config_dirs(root: Path = ROOT) -> list[Path]:
    """conf/ and every conf/ folder the built-in plugins under plugins/ ship."""
    dirs = [root / "conf"]
    plugins = root / "plugins"
    if plugins.is_dir():
        dirs += sorted(p for p in plugins.rglob("conf") if p.is_dir())
    return [d for d in dirs if d.is_dir()]


def groups(root: Path = ROOT) -> dict[str, list[Option]]:
    """Each config group (a folder of YAML files, e.g. ``model`` or ``hydra/launcher``) and its options."""
    found: dict[str, list[Option]] = {}
    for conf in config_dirs(root):
        for path in sorted(conf.rglob("*.yaml")):
            if path.parent == conf:
                continue  # the primary config (config.yaml), not a group option
            group = path.parent.relative_to(conf).as_posix()
            text = path.read_text(encoding="utf-8")
            found.setdefault(group, []).append(Option(path.stem, path, _leading_comment(text), _selects(text)))
    return {group: sorted(options, key=lambda o: o.name) for group, options in sorted(found.items())}


def group_defaults(root: Path = ROOT) -> dict[str, str | None]:
    """The option conf/config.yaml's defaults list picks for each group (``None``: none)."""
    import yaml

    primary = root / "conf" / "config.yaml"
    if not primary.is_file():
        return {}
    defaults = (yaml.safe_load(primary.read_text(encoding="utf-8")) or {}).get("defaults", [])
    picked: dict[str, str | None] = {}
    for item in defaults:
        if isinstance(item, dict):
            for group, option in item.items():
                picked[group.removeprefix("override ").strip().lstrip("/")] = option
    return picked


def _leading_comment(text: str) -> str:
    """The first paragraph of the comment block a YAML file starts with (``# @package`` left out)."""
    paragraph: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        body = stripped[1:].strip()
        if body.startswith("@package"):
            continue
        if not body:
            if paragraph:
                break
            continue
        paragraph.append(body)
    text = " ".join(paragraph)
    return text[:-1] + "." if text.endswith(":") else text


def _selects(text: str) -> list[str]:
    """``group=option`` for each ``override /group: option`` in a file's defaults list."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return []
    chosen = []
    for item in data.get("defaults", []) if isinstance(data, dict) else []:
        if isinstance(item, dict):
            for group, option in item.items():
                if group.startswith("override /") and option is not None:
                    chosen.append(f"{group.removeprefix('override /')}={option}")
    return chosen


# --- the document ----------------------------------------------------------------------------

def render(source_of: SourceOf = inspect.getsource, root: Path = ROOT) -> str:
    """docs/configuration.md as the schema and conf/ give it now."""
    out = [
        "<!-- Generated by `python -m core.config_docs` from the config schema and conf/; do not edit. -->",
        "",
        "# Configuration reference",
        "",
        "Every key can be set on the command line as `key=value` (`train.lr=1e-3`, `'task.labels=[a,b]'`),",
        "and a config group is chosen as `group=option` (`model=qwen2.5-0.5b`). A typo'd key or a",
        "wrong type is rejected before anything runs. The defaults below are the schema's; the files",
        "of the chosen groups set many of them (the task selects its own `peft=` and `train=`",
        "presets), and `python -m core task=qa --cfg job` prints every value a run will use.",
        "`python -m core --help` lists the groups and the config of the default run (`task=intent`);",
        "`python -m core task=toolcall --help` shows that task's values.",
        "",
        "The tools that work on a finished run (`core.serve`, `core.export`, `core.predict`, `core.chat`,",
        "`core.export_check`) take their own `key=value` arguments, not these keys:",
        "`python -m core.serve --help` prints a tool's usage, and [shipping.md](shipping.md) explains them.",
        "",
        "This page is generated from the schema's source comments (`python -m core.config_docs`).",
        "",
        "## Keys",
        "",
    ]
    for section in sections(schema_class(), source_of):
        title = f"`{section.prefix}`" if section.prefix else "Top level"
        out += [f"### {title}", ""]
        if section.doc:
            out += [section.doc, ""]
        out += ["| key | type | default | what it does |", "|---|---|---|---|"]
        for e in section.entries:
            out.append(f"| `{e.key}` | {_cell(e.type)} | {_cell(e.default)} | {_cell(e.help)} |")
        out.append("")

    defaults = group_defaults(root)
    out += [
        "## Config groups",
        "",
        "Options are the YAML files of each folder; plugins can add options of their own",
        "(`python -m core --help` lists every option installed), and Hydra's launcher and sweeper",
        "plugins add theirs (e.g. `hydra/launcher=submitit_local`).",
        "",
    ]
    docs_dir = root / "docs"
    for group, options in groups(root).items():
        out += [f"### Options of `{group}`", ""]
        if group in defaults:
            picked = defaults[group]
            out += [f"Default: `{picked}`." if picked else "Default: none.", ""]
        out += ["| option | file | what it is |", "|---|---|---|"]
        for o in options:
            link = f"[{o.path.relative_to(root).as_posix()}]({Path(_relative(o.path, docs_dir)).as_posix()})"
            what = o.help
            if o.selects:
                what = _join(what, "Selects " + ", ".join(f"`{s}`" for s in o.selects) + ".")
            out.append(f"| `{group}={o.name}` | {link} | {_cell(what)} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Write docs/configuration.md from the config schema.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale; write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            what = "is missing" if current is None else "is stale"
            print(f"{_display(args.output)} {what}: run `{COMMAND}` and commit the result", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {_display(args.output)}")
    return 0


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
