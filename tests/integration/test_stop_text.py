"""Answers end where the template's answers end: at literal text such as ``</s>`` too (tiny model)."""

from types import SimpleNamespace

from core import lookup
from core.generation import generate


def test_generation_stops_at_a_stop_string_and_cuts_it(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompt = [tokenizer("hello world, tell me")["input_ids"]]
    (full,) = generate(model, tokenizer, prompt, 12)
    words = full.split()
    assert len(words) >= 3, full  # the random model rambles: enough text to stop inside
    stop = words[2]
    (cut,) = generate(model, tokenizer, prompt, 12, stop_strings=[stop])
    assert cut == full.split(stop, 1)[0].strip()
    assert stop not in cut


def test_templates_say_which_literal_text_ends_an_answer():
    tokenizer = SimpleNamespace(eos_token="<|im_end|>", all_special_tokens=["<|im_end|>"])
    task = SimpleNamespace(get=lambda key, default=None: None)
    assert lookup("prompt_template", "instruction_response").stop_text(tokenizer, task) == "</s>"
    assert lookup("prompt_template", "alpaca").stop_text(tokenizer, task) is None  # the eos token itself
    assert lookup("prompt_template", "plain").stop_text(tokenizer, task) is None
