"""A custom template file (task.template_file) that is refused stops the CLI with one line, exit 2
(issue 25): a Jinja syntax error, what the sandbox refuses, attribute walking in a format string."""

import pytest

from core.testing import generation_overrides, run_cli, write_chat_data


@pytest.mark.parametrize("template,expected", [
    ("chat_template: |\n  {% for m in messages %}\n  {{ m.content.__class__.__mro__ }}\n  {% endfor %}\n",
     ":3: chat_template line 2: refused by the sandbox: access to attribute '__class__' of 'str' object is unsafe."),
    ("chat_template: |\n  {% for m in messages %}\n  {{ m.content }\n  {% endfor %}\n",
     ":3: chat_template line 2: Jinja syntax error: unexpected '}'"),
    ('prompt: "{instruction.__class__}"\n', ": prompt: placeholder {instruction.__class__} walks into an attribute or index"),
])
def test_a_refused_template_file_is_one_line_exit_2(tiny_model, tmp_path, template, expected):
    (tmp_path / "data").mkdir()
    train, eval_ = write_chat_data(tmp_path / "data")
    path = tmp_path / "my_template.yaml"
    path.write_text(template, encoding="utf-8")
    result = run_cli("core", "task=chat", "mode=inspect", *generation_overrides(tiny_model, train, eval_),
                     "task.prompt_template=file", f"task.template_file={path}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: task.template_file: {path}{expected}"), result.stderr[-3000:]
