"""``alpaca`` data format: instruction-tuning rows (the alpaca Q&A, CSV-export,
tool-call and business Q&A tutorials).

Reads a JSON array, JSON Lines, or CSV with a header row (its delimiter, ``,`` ``;`` tab or ``|``,
sniffed from the header); one row per example::

    {"instruction": "退货要多久到账?",              # required, unless data.instruction is set
     "input": "",                                   # optional, "" when absent
     "output": "一般 3 到 5 个工作日。",             # the answer; optional (see below)
     "system": "你是电商客服。",                     # optional
     "history": [["上一个问题", "上一个回答"]]}       # optional, LLaMA-Factory style

Other column names: ``data.columns`` maps a field to the file's column, on the command line
``'data.columns={instruction: instruct}'`` or ``'data.columns={instruction: question, output: answer}'``.
A mapped column missing from a row is an error. Without a mapping, a missing ``instruction`` is
read from the first of ``instruct``, ``question``, ``prompt``, ``query`` that the row has, and a
missing ``output`` from ``response``, ``answer``, ``completion`` (logged once per file).

``data.instruction=TEXT`` gives every row without an instruction (no such column, null, or blank)
that one instruction, e.g. the CSV-export tutorial's fixed task in front of every CSV row: a CSV
``input,output`` reads as ``### Instruction: TEXT`` / ``### Input: <input>``. Rows with their own
instruction keep it.
To put a question column under one fixed instruction, map it to the input:
``'data.columns={input: question}' data.instruction='Answer the customer.'``.

A row without ``output`` (no such column, null, or an empty cell) has no reference answer: it is
a prompt, its messages end on the user turn. In an eval file its answer is generated and written
(``predictions.jsonl``, the report) and left unscored (the alpaca Q&A tutorial's hand-typed
questions); in a training file it trains nothing, so it is left out and counted (one log line,
``results.json``). An output of only spaces is still an error (a blank answer is a data mistake,
not a question).

``output`` may be a JSON object or list (the tool-call tutorial's calls); it is trained as
compact JSON with non-ASCII text kept (``{"tool_name":"INSTANT_MEETING"}``). Numbers become
strings. ``history`` may also be a CSV cell holding the list as JSON text.

Each row becomes the messages [system] + one user/assistant pair per history item + a user turn
(the instruction, then a blank line and the input when there is one) + the assistant's output.
``Example.fields`` keeps ``instruction``, ``input`` and ``output`` apart for the ``alpaca`` and
``plain`` prompt templates, which lay them out as ``### Instruction`` / ``### Input``.

``data.clean=true`` (the CSV-export tutorial's CSV exported from a database or Excel) cleans
every text cell: HTML tags removed (``<br>`` and ``</p>`` become line breaks), entities such as
``&nbsp;`` decoded, runs of spaces and tabs collapsed to one space, three or more line breaks
collapsed to two, ends stripped. Rows whose instruction or output is then empty are dropped and
counted as skipped rows. Without ``clean`` text is kept as written and an empty required field is
an error.

A bad row stops the read with ``file:line: reason``; ``data.on_error=skip`` skips and counts it
instead. With ``skip`` an unreadable JSON Lines line is skipped too, but broken JSON-array or
CSV syntax, non-UTF-8 bytes and a missing file still stop the read. A file that is one JSON object
spread over lines (pretty-printed, not an array) is named as such; a JSON ``null`` is reported as
``null``; a file in another encoding names it (``charset-normalizer``'s guess) and how to convert.

The row reading is ``core.datafiles.AlpacaRows`` (the ``toolcall`` format reads the same rows
with it), on top of ``core.datafiles.read_examples``, so every format treats ``data.clean`` and
``data.on_error`` alike.
"""

from __future__ import annotations

from pathlib import Path

from core import ReadResult, hookimpl
from core.datafiles import ALPACA_FIELDS, AlpacaRows, column_mapping, read_examples

FIELDS = ALPACA_FIELDS


class AlpacaFormat:
    reads_instruction = True  # data.instruction applies to its rows (core.data refuses it where none does)

    def read(self, path, data_cfg) -> ReadResult:
        path = Path(path)
        columns = column_mapping(data_cfg, FIELDS, "alpaca")
        rows = AlpacaRows(path, columns, clean=bool(getattr(data_cfg, "clean", False)),
                          instruction=getattr(data_cfg, "instruction", None))
        return read_examples(path, data_cfg, rows.example)


@hookimpl
def register_data_formats(register):
    register("alpaca", AlpacaFormat())
