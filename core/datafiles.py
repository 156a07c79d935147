"""Helpers data-format plugins share: path checks and row readers whose errors say ``file:line``.

Part of the public plugin API (``core.PUBLIC_MODULES``).

Files: ``iter_records`` reads the three layouts users export (a JSON array, JSON Lines, CSV with
a header) and yields ``(line, row)`` pairs, so every later validation error can point at the row;
``check_data_file`` and ``read_text`` are its first steps.

Rows: a format describes one row at a time and ``read_examples`` turns the whole file into a
``core.ReadResult``, applying ``data.on_error`` and ``data.clean`` alike for every format:

- ``RowProblem(reason)``: raise it for a bad row; it becomes ``file:line: reason`` (or a skipped
  row with ``data.on_error=skip``);
- ``column_mapping(data_cfg, fields, format_name)``: ``data.columns`` checked against the
  format's fields;
- ``text_value`` and ``clean_text``: a cell as text, cleaned as ``data.clean=true`` asks;
  ``json_cell``: a list or object given as JSON text (a CSV cell) decoded;
- the row layouts the built-in formats read, for formats that read them too:
  ``AlpacaRows`` (instruction / input / output rows, ``ALPACA_FIELDS``), ``row_messages`` and
  ``row_tools`` (OpenAI chat rows, ``MESSAGES_FIELDS``), ``load_tools_file`` and ``tool_names``
  (``data.tools_file``).

A minimal format built from them::

    from core import Example, hookimpl
    from core.datafiles import RowProblem, read_examples, text_value

    class QuestionAnswerFormat:
        def read(self, path, data_cfg):
            def build(line, row):
                question = text_value("question", row.get("question"), required=True, clean=False,
                                      present="question" in row)
                answer = text_value("answer", row.get("answer"), required=True, clean=False,
                                    present="answer" in row)
                return Example(messages=[{"role": "user", "content": question},
                                         {"role": "assistant", "content": answer}], source=f"{path}:{line}")
            return read_examples(path, data_cfg, build)
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterator

from core.errors import DataError, PlugtuneError
from core.types import Example, ReadResult, SkippedRow

log = logging.getLogger("plugtune")


def compact_json(value: Any) -> str:
    """``value`` as JSON text the way a structured ``output`` is trained: no spaces, characters
    kept as they are (not ``\\u`` escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_data_file(path) -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty file, else raise DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, "file not found (set data.train_path / data.eval_path)")
    if not path.is_file():
        raise DataError(path, None, "not a file")
    if path.stat().st_size == 0:
        raise DataError(path, None, "no rows (the file is empty)")
    return path


def read_text(path: Path | str) -> str:
    """The file as text; bytes that are not UTF-8 are an error naming their line and the encoding
    the file seems to be in (``detect_encoding``), with the way to convert it."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); {_convert_hint(path, raw)}"
        ) from None
    return text.removeprefix("\ufeff")  # Excel writes a byte-order mark


def detect_encoding(raw: bytes) -> str | None:
    """The encoding charset-normalizer finds for ``raw`` (e.g. ``GB18030``, ``UTF-16``,
    ``CP1252``), or None when it finds none or UTF-8. A guess: short texts may be mistaken."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency, but the error must not depend on it
        return None
    sample = raw[: 1 << 20]
    if len(sample) < len(raw) and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]  # never cut a character in two
    best = from_bytes(sample).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    return re.sub(r"^ISO8859-", "ISO-8859-", best.encoding.upper().replace("_", "-"))


def _convert_hint(path, raw: bytes) -> str:
    path = Path(path)
    excel = " or save it from Excel as 'CSV UTF-8'" if path.suffix.lower() == ".csv" else ""
    encoding = detect_encoding(raw)
    if encoding is None:
        return f"save the file as UTF-8{excel}"
    target = path.with_name(f"{path.stem}.utf8{path.suffix}").name
    return (f"it looks like {encoding} (charset-normalizer's guess): convert it to UTF-8, e.g. "
            f"iconv -f {encoding} -t UTF-8 {path.name} > {target}{excel}")


def iter_records(path, skipped: list[SkippedRow] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` for each row of a ``.json`` array, ``.jsonl`` or ``.csv`` file.

    The layout follows the suffix; a ``.json`` file that does not start with ``[`` is read as
    JSON Lines (many exports name JSONL files ``.json``), and a file of another suffix that
    starts with a ``[`` spanning lines is read as a JSON array. Rows must be JSON objects; a
    file holding one JSON object spread over several lines (pretty-printed) is an error saying
    so, not an ``invalid JSON`` at line 1. A CSV file's delimiter (``,`` ``;`` tab or ``|``) is
    sniffed from its header. When ``skipped`` is a list, an unreadable JSON Lines line is
    recorded there and reading goes on (each line stands alone; a broken array or CSV cannot be
    resynchronised, so it still raises).
    """
    path = check_data_file(path)
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_records(path, text)
    elif text.lstrip().startswith("[") and (suffix == ".json" or not _first_line_is_json(text)):
        yield from _json_array_records(path, text)
    else:
        yield from _jsonl_records(path, text, skipped)


def _first_line_is_json(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _loads(path: Path, line: int, raw: str) -> Any:
    """One JSON value; every way ``json`` refuses text is an ``invalid JSON`` DataError."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(path, line, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise DataError(path, line, "invalid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise DataError(path, line, f"invalid JSON ({_value_error(exc)})") from None


def _value_error(exc: ValueError) -> str:
    if "digits" in str(exc):  # Python's limit on integer conversion (sys.get_int_max_str_digits)
        return "a number with more than 4300 digits"
    return str(exc)


def _object(path: Path, line: int, row: Any, raw: str = "") -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DataError(path, line, f"expected a JSON object, got {type(row).__name__}")
    if _SURROGATE_ESCAPE.search(raw):  # only escapes can make one; checked when there are any
        try:
            json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DataError(
                path, line, f"invalid JSON (a lone UTF-16 surrogate \\u{ord(exc.object[exc.start]):04x} in a string: "
                "not a character; the exporter split an emoji or other character in two)"
            ) from None
    return row


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _jsonl_records(path: Path, text: str, skipped: list[SkippedRow] | None):
    offset = 0
    seen_rows = False
    # Lines end at "\n" only: str.splitlines() would also split at U+2028, \x1c, ..., which JSON
    # strings may hold as they are, and line numbers would no longer match an editor's.
    for number, raw in enumerate(text.split("\n"), start=1):
        start, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            continue
        try:
            try:
                row = _loads(path, number, raw)
            except DataError:
                # Rows spread over lines cannot be resynchronised: the whole file's problem, never skipped.
                _spread_object(path, text, start, number, first=not seen_rows)
                raise
            row = _object(path, number, row, raw)
        except _SpreadRows:
            raise
        except DataError as problem:
            if skipped is None:
                raise
            skipped.append(SkippedRow(f"{path}:{number}", problem.reason))
            continue
        seen_rows = True
        yield number, row


class _SpreadRows(DataError):
    """JSON objects spread over several lines where JSON Lines were expected."""


def _spread_object(path: Path, text: str, start: int, line: int, first: bool) -> None:
    """A line that is not JSON by itself may open a JSON object spread over several lines (a
    pretty-printed file): raise a DataError saying so, or return when it does not."""
    position = _skip_space(text, start)
    if not text.startswith("{", position):
        return
    try:
        value, end = json.JSONDecoder().raw_decode(text, position)
    except (ValueError, RecursionError):
        return
    last = text.count("\n", 0, end) + 1
    if last == line:
        return
    if first and not text[end:].strip():
        hint = ""
        rows = [key for key, item in value.items()
                if isinstance(item, list) and item and all(isinstance(r, dict) for r in item)]
        if len(rows) == 1:
            count = len(value[rows[0]])
            hint = f" (its {rows[0]!r} key holds {count} {'row' if count == 1 else 'rows'}: save that list as the file)"
        raise _SpreadRows(
            path, line,
            f"a JSON object (lines {line}-{last}), expected an array of rows or JSON Lines; wrap the rows "
            f"in [...] or put one per line{hint}",
        )
    raise _SpreadRows(
        path, line,
        f"a JSON object spread over lines {line}-{last}; JSON Lines needs each row on one line "
        "(write them with jq -c or json.dumps without indent), or wrap all rows in [...] separated by commas",
    )


def _json_array_records(path: Path, text: str):
    """Decode the array one element at a time so each row keeps its line number."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text):
            raise DataError(path, text.count("\n") + 1, "invalid JSON (the array is not closed with ])")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        start = position
        try:
            row, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise DataError(path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise DataError(path, line, "invalid JSON (nested too deeply)") from None
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            raise DataError(path, line, f"invalid JSON ({_value_error(exc)})") from None
        yield line, _object(path, line, row, text[start:position])
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] != "]":
            line = text.count("\n", 0, position) + 1
            raise DataError(path, line, "invalid JSON (expected , or ] between array items)")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


CSV_DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def csv_delimiter(header: str) -> str:
    """The delimiter of a CSV file whose first line is ``header``: one of ``CSV_DELIMITERS``
    as ``csv.Sniffer`` finds it (Excel in many locales writes ``;``, databases tabs), else ``,``."""
    try:
        return csv.Sniffer().sniff(header[:65536], delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _csv_records(path: Path, text: str):
    header = text.split("\n", 1)[0]
    delimiter = csv_delimiter(header)
    if delimiter != ",":
        log.info("%s: reading it as %s-delimited CSV (sniffed from the header)", path, _DELIMITER_NAMES[delimiter])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 2  # line 1 is the header
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over csv.field_size_limit(): mostly a quote never closed
            raise DataError(
                path, start, f"invalid CSV ({exc}); is a \" quote opened here or above never closed?"
            ) from None
        if None in row:  # more cells than header columns
            columns = len(reader.fieldnames)
            raise DataError(
                path, start,
                f"{len(row) - 1 + len(row[None])} cells, but the header has {columns} "
                f"{'column' if columns == 1 else 'columns'} ({_DELIMITER_NAMES[delimiter]}-delimited: "
                f"{', '.join(map(repr, reader.fieldnames))}); quote cells that contain the delimiter",
            )
        # A short row lacks its last cells: those columns are missing from it, not null.
        yield start, {key: value for key, value in row.items() if value is not None}
        start = reader.line_num + 1


# --- rows: what every format shares -----------------------------------------------------------


class RowProblem(Exception):
    """What is wrong with one row, raised by a format's row builder inside ``read_examples``.

    ``reason`` becomes ``file:line: reason``; ``emptied`` marks a text that ``data.clean`` left
    empty (such rows are skipped and counted, never an error).
    """

    def __init__(self, reason: str, emptied: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.emptied = emptied


_BREAK = re.compile(r"<br\s*/?>|</p\s*>", re.IGNORECASE)
# A tag starts with a letter (or /letter), so text such as "a < b > c" is not taken for one.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but line breaks (tabs, &nbsp;, ...)


def clean_text(text: str) -> str:
    """Text from an HTML-ish export cell as plain text (``data.clean=true``).

    HTML tags removed (``<br>`` and ``</p>`` become line breaks), entities such as ``&nbsp;``
    decoded, runs of spaces and tabs collapsed to one space, three or more line breaks collapsed
    to two, ends stripped.
    """
    text = _BREAK.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Tags go before entities are decoded, so an escaped "&lt;b&gt;" stays as literal text.
    text = html.unescape(_TAG.sub("", text))
    text = _SPACES.sub(" ", text)
    text = re.sub(r" ?\n ?", "\n", text)  # no stray spaces at line ends or starts
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def skips_errors(data_cfg) -> bool:
    """Whether ``data.on_error`` is ``skip`` (an OnError enum from the schema, or a plain string)."""
    value = getattr(data_cfg, "on_error", "error")
    return str(getattr(value, "value", value)) == "skip"


def column_mapping(data_cfg, fields: tuple[str, ...], format_name: str) -> dict[str, str]:
    """``data.columns`` as a dict ``{field: column}``; a field the format does not have is a
    typo, so a PlugtuneError naming the format's ``fields``."""
    raw = getattr(data_cfg, "columns", None) or {}
    if not isinstance(raw, Mapping):
        raise PlugtuneError(f"data.columns: expected a mapping like {{instruction: instruct}}, got {raw!r}")
    columns = dict(raw)
    for field in columns:
        if field not in fields:
            raise PlugtuneError(
                f"data.columns: the {format_name} format has no field {field!r}; its fields are {', '.join(fields)}"
            )
    return columns


def read_examples(path, data_cfg, build: Callable[[int, dict], Example]) -> ReadResult:
    """Read ``path`` with ``iter_records`` and call ``build(line, row)`` for every row.

    A ``RowProblem`` from ``build`` is a ``DataError`` at that line, or a skipped row with
    ``data.on_error=skip`` or when ``data.clean`` emptied the row; a file left without rows is a
    DataError. Returns the examples and the skipped rows (counted in the report).
    """
    path = Path(path)
    skip = skips_errors(data_cfg)
    examples: list[Example] = []
    skipped: list[SkippedRow] = []
    for line, row in iter_records(path, skipped if skip else None):
        try:
            examples.append(build(line, row))
        except RowProblem as problem:
            if not (skip or problem.emptied):
                raise DataError(path, line, problem.reason) from None
            skipped.append(SkippedRow(f"{path}:{line}", problem.reason))
    if not examples:
        if skipped:
            first = skipped[0]
            raise DataError(
                path, None, f"no rows left: all {len(skipped)} were skipped (first: {first.source}: {first.reason})"
            )
        raise DataError(path, None, "no rows (the file is empty)")
    return ReadResult(examples, skipped)


def text_value(name: str, value: Any, *, required: bool, clean: bool, present: bool = False) -> str:
    """A cell as a string: numbers converted, cleaned if ``clean``, non-empty when ``required``
    (else a ``RowProblem`` naming field ``name``). ``present=True`` says the row has the
    column, so a None value is a JSON ``null`` and reported as such (else as ``missing``)."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    else:
        raise RowProblem(f"field {name!r}: expected a string, got {type(value).__name__}")
    if clean:
        text = clean_text(text)
    if required and not text.strip():
        if clean:
            raise RowProblem(f"empty {name!r} after cleaning", emptied=True)
        got = ("null" if present else "missing") if value is None else repr(text)
        raise RowProblem(f"field {name!r}: expected a non-empty string, got {got}")
    return text


def json_cell(field: str, value: Any) -> Any:
    """A list given as JSON text (a CSV cell) decoded; anything else as it is."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            raise RowProblem(f"field {field!r}: expected a list, got text that is not JSON") from None
        if _SURROGATE_ESCAPE.search(value):
            try:
                json.dumps(decoded, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise RowProblem(f"field {field!r}: JSON text with a lone UTF-16 surrogate (not a character)") from None
        return decoded
    return value


# --- the alpaca row layout (the alpaca and toolcall formats) ------------------------------------

ALPACA_FIELDS = ("instruction", "input", "output", "system", "history")
# Column names other tutorials and exports use, tried in order when no mapping is given.
ALPACA_ALIASES = {
    "instruction": ("instruct", "question", "prompt", "query"),
    "output": ("response", "answer", "completion"),
}


class AlpacaRows:
    """Builds examples from instruction-tuning rows of one file (the ``alpaca`` format's layout).

    ``columns`` is ``data.columns`` for the alpaca fields, ``clean`` is ``data.clean``,
    ``instruction`` is ``data.instruction``: the instruction of rows that have none (a missing,
    null or blank instruction), e.g. one fixed task put in front of every CSV row. Pass
    ``example`` to ``read_examples`` as the row builder; ``column`` says which of a row's keys
    holds a field (an alias column is logged once per file).

    A row without an answer (no output column, or a null or empty output) is a prompt: its
    messages end on the user turn, for prediction only (eval files; ``core.data`` leaves such
    rows out of training and counts them).
    """

    def __init__(self, path, columns: dict[str, str], clean: bool, instruction: str | None = None):
        self.path = Path(path)
        self.columns = columns
        self.clean = clean
        self.instruction = instruction if instruction and str(instruction).strip() else None
        self._announced: set[tuple[str, str]] = set()  # alias columns already logged for this file

    def column(self, row: dict, field: str) -> str | None:
        """The row's key that holds ``field``, or None when it has none."""
        if field in self.columns:
            column = self.columns[field]
            if column not in row:
                raise RowProblem(
                    f"field {field!r}: column {column!r} (data.columns.{field}) is not in the row; "
                    f"its columns are {', '.join(map(str, row))}"
                )
            return column
        if field in row:
            return field
        for alias in ALPACA_ALIASES.get(field, ()):
            if alias in row:
                if (field, alias) not in self._announced:
                    self._announced.add((field, alias))
                    log.info("%s: column %r is the %s (a common name for it; data.columns={%s: COLUMN} picks "
                             "another column)", self.path, alias, field, field)
                return alias
        return None

    def example(self, line: int, row: dict) -> Example:
        """The row as an Example: messages [system] + history pairs + the user turn (instruction,
        then a blank line and the input) + the output when the row has one; ``fields`` keeps
        instruction, input and output apart for instruction templates. An object or list
        ``output`` becomes compact JSON."""
        clean = self.clean
        instruction = self._instruction(row)
        output_column = self.column(row, "output")
        output = row[output_column] if output_column is not None else None
        if output is None or output == "":
            output = None  # no reference answer: a prompt to answer
        else:
            structured = isinstance(output, (dict, list))
            if structured:  # a tool call given as a JSON object; data, so never "cleaned"
                output = compact_json(output)
            output = text_value("output", output, required=True, clean=clean and not structured, present=True)
        optional = {}
        for field in ("input", "system", "history"):
            column = self.column(row, field)
            optional[field] = row[column] if column is not None else None
        input_text = text_value("input", optional["input"], required=False, clean=clean)
        if not input_text.strip():
            input_text = ""  # templates add an Input section only for a real input
        system = text_value("system", optional["system"], required=False, clean=clean)

        messages = [{"role": "system", "content": system}] if system.strip() else []
        for user, assistant in _history(optional["history"], clean):
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        prompt = f"{instruction}\n\n{input_text}" if input_text else instruction
        messages.append({"role": "user", "content": prompt})
        fields = {"instruction": instruction, "input": input_text}
        if output is not None:
            messages.append({"role": "assistant", "content": output})
            fields["output"] = output
        return Example(messages=messages, source=f"{self.path}:{line}", fields=fields)

    def _instruction(self, row: dict) -> str:
        """The row's instruction; ``data.instruction`` for a row without one (missing, null, blank)."""
        column = self.column(row, "instruction")
        value = row[column] if column is not None else None
        if self.instruction is not None and (value is None or (isinstance(value, str) and not value.strip())):
            return self.instruction
        if column is None:
            tried = ", ".join(("instruction", *ALPACA_ALIASES["instruction"]))
            raise RowProblem(
                f"field 'instruction': expected a non-empty string, got missing (no column {tried}; "
                f"data.instruction=TEXT gives every row without one the same instruction, or set "
                f"data.columns.instruction); the row has {_columns(row)}"
            )
        return text_value("instruction", value, required=True, clean=self.clean, present=True)


def _columns(row: dict) -> str:
    """A row's columns for an error message: 'columns a, b' or 'no columns'."""
    names = [str(key) for key in row]
    shown = ", ".join(repr(name) for name in names[:8]) + (", ..." if len(names) > 8 else "")
    return f"columns {shown}" if names else "no columns"


def _history(value: Any, clean: bool) -> list[tuple[str, str]]:
    """Earlier turns as (user, assistant) pairs."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):  # a CSV cell holds the list as JSON text
        try:
            value = json_cell("history", value)
        except RowProblem as problem:
            if "surrogate" in problem.reason:
                raise
            raise RowProblem(
                "field 'history': expected a list of [user, assistant] pairs, got text that is not JSON"
            ) from None
    if not isinstance(value, list):
        raise RowProblem(f"field 'history': expected a list of [user, assistant] pairs, got {type(value).__name__}")
    pairs = []
    for index, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            got = f"{len(pair)} items" if isinstance(pair, (list, tuple)) else type(pair).__name__
            raise RowProblem(f"field 'history': item {index}: expected a [user, assistant] pair, got {got}")
        pairs.append(tuple(
            text_value(f"history[{index}][{side}]", text, required=True, clean=clean, present=True)
            for side, text in enumerate(pair)
        ))
    return pairs


# --- the chat-messages row layout (the messages and toolcall formats) ----------------------------

MESSAGES_FIELDS = ("messages", "conversation", "tools")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
# Keys kept from a message besides role and content, per role.
KEPT_MESSAGE_KEYS = {"assistant": ("tool_calls",), "tool": ("name", "tool_call_id")}


def row_messages(row: dict, keys: dict[str, str], clean: bool) -> list[dict[str, Any]]:
    """The row's turns, from its ``messages`` (OpenAI chat) or ``conversation`` (``{system,
    input, output}`` turns) column, checked for role order; texts cleaned when ``clean``.

    ``keys`` maps ``messages`` and ``conversation`` to the row's column names (``data.columns``).
    """
    if keys["messages"] in row:
        messages = _messages(json_cell("messages", row[keys["messages"]]), clean)
    elif keys["conversation"] in row:
        messages = _conversation(json_cell("conversation", row[keys["conversation"]]), clean)
    else:
        raise RowProblem(
            f"expected a {keys['messages']!r} list (OpenAI chat) or a {keys['conversation']!r} list; "
            f"the row has {', '.join(map(repr, row)) or 'no fields'}"
        )
    _check_order(messages)
    return messages


def row_tools(value: Any) -> list[dict[str, Any]] | None:
    """A row's ``tools`` cell: a list of JSON schemas (objects), JSON text of one, or None when
    empty or absent."""
    if value is None or value == "" or value == []:  # "" is an empty CSV cell
        return None
    value = json_cell("tools", value)
    if not isinstance(value, list) or not all(isinstance(tool, dict) for tool in value):
        got = type(value).__name__ if not isinstance(value, list) else "a list with non-object items"
        raise RowProblem(f"field 'tools': expected a list of JSON schemas (objects), got {got}")
    return value


def _non_empty_list(field: str, value: Any, items: str) -> list:
    if not isinstance(value, list) or not value:
        got = "an empty list" if value == [] else type(value).__name__
        raise RowProblem(f"field {field!r}: expected a non-empty list of {items}, got {got}")
    return value


def _text(where: str, name: str, value: Any, clean: bool, may_be_empty: bool = False, present: bool = False) -> str:
    if value is None and not may_be_empty:
        raise RowProblem(f"{where}: {name} is {'null' if present else 'missing'}")
    if value is not None and not isinstance(value, str):
        raise RowProblem(f"{where}: {name} must be a string, got {type(value).__name__}")
    text = clean_text(value or "") if clean else value or ""
    if not text.strip() and not may_be_empty:
        raise RowProblem(f"{where}: empty {name}" + (" after cleaning" if clean else ""), emptied=clean)
    return text


def _messages(value: Any, clean: bool) -> list[dict[str, Any]]:
    _non_empty_list("messages", value, "messages")
    messages = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise RowProblem(f"{where}: expected an object with role and content, got {type(message).__name__}")
        role = message.get("role")
        if role is None:
            raise RowProblem(f"{where}: role is missing")
        if role not in MESSAGE_ROLES:
            raise RowProblem(f"{where}: role {role!r} is not one of {', '.join(MESSAGE_ROLES)}")
        tool_calls = message.get("tool_calls") if role == "assistant" else None
        if tool_calls is not None and not isinstance(tool_calls, list):
            raise RowProblem(f"{where}: tool_calls must be a list, got {type(tool_calls).__name__}")
        # A turn that only calls tools has nothing to say; "" keeps chat templates happy.
        content = _text(where, "content", message.get("content"), clean, may_be_empty=bool(tool_calls),
                        present="content" in message)
        kept = {"role": role, "content": content}
        kept.update({key: message[key] for key in KEPT_MESSAGE_KEYS.get(role, ()) if message.get(key) is not None})
        messages.append(kept)
    return messages


def _conversation(value: Any, clean: bool) -> list[dict[str, Any]]:
    _non_empty_list("conversation", value, "{input, output} turns")
    messages = []
    for index, turn in enumerate(value):
        where = f"conversation[{index}]"
        if not isinstance(turn, dict):
            raise RowProblem(f"{where}: expected an object with input and output, got {type(turn).__name__}")
        system = turn.get("system")
        if index == 0:
            system = _text(where, "system", system, clean, may_be_empty=True, present=True)
            if system.strip():
                messages.append({"role": "system", "content": system})
        elif system not in (None, "") and system != value[0].get("system"):
            raise RowProblem(f"{where}: 'system' is only allowed in the first turn")
        messages.append({"role": "user", "content": _text(where, "input", turn.get("input"), clean, present="input" in turn)})
        if index == len(value) - 1 and turn.get("output") in (None, ""):
            break  # the last turn without an output: a prompt to answer (no reference answer)
        messages.append({"role": "assistant",
                         "content": _text(where, "output", turn.get("output"), clean, present="output" in turn)})
    return messages


# Which roles may follow each state; an assistant that calls tools must get the tools' results.
_NEXT = {
    "start": ("user",),
    "system": ("user",),
    "user": ("assistant",),
    "assistant": ("user",),
    "assistant with tool_calls": ("tool",),
    "tool": ("tool", "assistant"),
}


def _check_order(messages: list[dict[str, Any]]) -> None:
    """Roles in a valid order. A conversation ends with an assistant turn, or with one or more
    user turns: a prompt to answer, with no reference answer (eval rows; training leaves them out)."""
    prompt_end = len(messages)
    while prompt_end and messages[prompt_end - 1]["role"] == "user":
        prompt_end -= 1
    state = "start"
    for index, message in enumerate(messages):
        role = message["role"]
        if role == "system" and index:
            raise RowProblem(f"messages[{index}]: a system turn may only come first")
        # User turns in a row are allowed only at the end (e.g. a fixed line, then the request).
        if role != "system" and role not in _NEXT[state] and not (role == "user" and index > prompt_end):
            after = "at the start" if state == "start" else f"after {state}"
            raise RowProblem(f"messages[{index}]: expected {' or '.join(_NEXT[state])} {after}, got {role}")
        state = "assistant with tool_calls" if message.get("tool_calls") else role
    if messages[-1]["role"] not in ("assistant", "user"):
        raise RowProblem(
            f"messages: the last turn is {messages[-1]['role']}; a conversation must end with assistant "
            "(or with user: a prompt to answer)"
        )


# --- tool schemas (data.tools_file) --------------------------------------------------------------


def load_tools_file(value) -> list[dict[str, Any]] | None:
    """The OpenAI tool schemas in ``data.tools_file`` (None when unset); a missing or unreadable
    file, or one that is not a non-empty list of schemas with a name, is a PlugtuneError."""
    if value in (None, ""):
        return None
    path = Path(str(value))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read it ({exc})"
        raise PlugtuneError(f"data.tools_file={path}: {reason}") from None
    try:
        tools = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlugtuneError(
            f"data.tools_file={path}: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(tools, list) or not tools:
        got = "an empty list" if tools == [] else type(tools).__name__
        raise PlugtuneError(f"data.tools_file={path}: expected a non-empty JSON list of tool schemas, got {got}")
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not _schema_name(tool):
            raise PlugtuneError(
                f"data.tools_file={path}: item {index}: expected a tool schema with function.name "
                f'(like {{"type": "function", "function": {{"name": ...}}}})'
            )
    return tools


def _schema_name(tool: dict) -> str | None:
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    return name if isinstance(name, str) and name else None


def tool_names(tools: list[dict[str, Any]]) -> list[str]:
    """The tool names in a list of schemas (``{"function": {"name"}}`` or flat ``{"name"}``), in order."""
    return [name for name in map(_schema_name, tools) if name]
