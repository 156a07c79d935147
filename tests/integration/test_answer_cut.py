"""An answer cut by ``generation.max_new_tokens`` never ends in a broken character, and says it
was cut (the real tokenizer; the tiny model for generation)."""

from core.generation import decode_whole_characters, generate
from core.testing import embedded_tokenizer


def test_a_character_split_between_byte_tokens_is_dropped_whole():
    tokenizer = embedded_tokenizer()
    text = "每页0.15元，共计"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    # every prefix of the ids: the raw decode of some ends inside a character (byte-level BPE)
    broken = [k for k in range(1, len(ids) + 1) if tokenizer.decode(ids[:k]).endswith("\ufffd")]
    assert broken, "the tokenizer spends one token per character here: nothing to test"
    for k in range(1, len(ids) + 1):
        whole = decode_whole_characters(tokenizer, ids[:k])
        assert "\ufffd" not in whole and text.startswith(whole), (k, whole)
    assert decode_whole_characters(tokenizer, ids) == text


def test_answers_say_whether_the_token_limit_cut_them(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompt = [tokenizer("每页多少钱？")["input_ids"]]
    (long,) = generate(model, tokenizer, prompt, 12)
    assert long.cut_at_limit is True  # the random model rambles past 12 tokens (random bytes, too)
    stop = long.split()[0] if long.split() else long[:1]
    (stopped,) = generate(model, tokenizer, prompt, 12, stop_strings=[stop])
    assert stopped.cut_at_limit is False
