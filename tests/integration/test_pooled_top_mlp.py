"""The seq-cls top block's MLP runs on the pooled tokens only, with the full model's results."""

import pytest

from core.speedups.pooled_top_mlp import install
from plugins.seq_cls import load_classifier

LABELS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def pad():
    from core.testing import embedded_tokenizer

    return embedded_tokenizer().pad_token_id


def classifier(model_dir, pad_token_id, lora: bool):
    import torch

    torch.manual_seed(0)
    model = load_classifier(str(model_dir), LABELS, pad_token_id, "float32")
    torch.nn.init.normal_(model.score.weight, std=0.5)  # a large head: differences would show
    if lora:
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(1)
        config = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "gate_proj"],
                            init_lora_weights=False)  # random B: the adapter changes the outputs
        model = get_peft_model(model, config)
    return model


def right_padded_batch(pad_token_id):
    import torch

    lengths = [7, 3, 5, 1]
    ids = torch.full((len(lengths), max(lengths)), pad_token_id)
    mask = torch.zeros_like(ids)
    generator = torch.Generator().manual_seed(2)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(100, 1000, (length,), generator=generator)
        mask[row, :length] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([0, 2, 1, 2])}, lengths


@pytest.mark.parametrize("lora", [False, True], ids=["plain", "lora"])
def test_pooled_top_mlp_gives_the_full_models_logits_loss_and_gradients(tiny_model, pad, lora):
    full, pooled = classifier(tiny_model, pad, lora), classifier(tiny_model, pad, lora)
    assert install(pooled)
    assert not install(pooled)  # once only
    batch, lengths = right_padded_batch(pad)
    seen_rows = []
    top_mlp = pooled.get_base_model().model.layers[-1].mlp if lora else pooled.model.layers[-1].mlp
    top_mlp.down_proj.register_forward_hook(lambda module, args, out: seen_rows.append(args[0].shape[:2]))

    full_out, pooled_out = full(**batch), pooled(**batch)
    assert seen_rows == [(len(lengths), 1)]  # one token a row reached the MLP
    assert pooled_out.logits.detach().numpy() == pytest.approx(full_out.logits.detach().numpy(), abs=1e-5)
    assert float(pooled_out.loss.detach()) == pytest.approx(float(full_out.loss.detach()), rel=1e-5)
    full_out.loss.backward()
    pooled_out.loss.backward()
    grads = {n: p.grad for n, p in full.named_parameters() if p.requires_grad}
    checked = 0
    for name, param in pooled.named_parameters():
        if param.requires_grad and grads[name] is not None and float(grads[name].abs().max()) > 0:
            assert param.grad.numpy() == pytest.approx(grads[name].numpy(), rel=1e-4, abs=1e-6), name
            checked += 1
    assert checked >= (6 if lora else 10)  # the score layer and adapters (or every weight) got equal gradients


def test_install_changes_the_top_block_only_and_once(tiny_model, pad):
    model = load_classifier(str(tiny_model), LABELS, pad, "float32")
    assert install(model)
    assert model.model.layers[-1].mlp._pooled_rows is not None
    assert getattr(model.model.layers[0].mlp, "_pooled_rows", None) is None
    assert not install(model)


def test_without_input_ids_the_mlp_runs_on_every_token(tiny_model, pad):
    full, pooled = classifier(tiny_model, pad, False), classifier(tiny_model, pad, False)
    install(pooled)
    batch, _ = right_padded_batch(pad)
    # No input_ids (one row, so no padding to find): the classifier reads the last position.
    embeds = full.get_input_embeddings()(batch["input_ids"][:1, :7])
    expected = full(inputs_embeds=embeds).logits
    assert pooled(inputs_embeds=embeds).logits.detach().numpy() == pytest.approx(expected.detach().numpy(), abs=1e-5)


def test_a_block_input_that_is_not_the_batchs_tokens_runs_in_full(tiny_model, pad):
    import torch

    model = load_classifier(str(tiny_model), LABELS, pad, "float32")
    install(model)
    mlp = model.model.layers[-1].mlp
    hidden = torch.randn(2, 6, model.config.hidden_size)
    rows = mlp._pooled_rows
    rows.positions, rows.shape = torch.tensor([1, 2]), (2, 4)  # e.g. 2 virtual tokens put in front
    expected = type(mlp).forward(mlp, hidden)  # the model's own MLP, unpatched
    assert mlp(hidden).detach().numpy() == pytest.approx(expected.detach().numpy(), abs=1e-5)
    rows.shape = (2, 6)  # the batch's own tokens: only the pooled rows are computed
    pooled = mlp(hidden).detach()
    assert float(pooled[0, 0].abs().max()) == 0 and pooled[0, 1].numpy() == pytest.approx(expected[0, 1].detach().numpy(), abs=1e-5)


@pytest.mark.parametrize("settings, expected", [
    (["train.speedups.compile=false"], True),
    (["train.speedups.compile=true"], False),  # one compiled graph for every block needs plain MLPs
    (["train.speedups.pooled_top_mlp=false"], False),  # switched off by name
])
def test_the_intent_head_installs_it_unless_switched_off_or_compiling(tiny_model, tiny_data, tmp_path, settings, expected):
    from core.testing import tiny_overrides
    from core.kinds import RunContext
    from core.testing import compose_config
    from plugins.seq_cls import SeqClsHead

    cfg = compose_config(["task=intent", *tiny_overrides(tiny_model, *tiny_data), *settings])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model), labels=list(cfg.task.labels))
    model = SeqClsHead().load_base(ctx)
    installed = getattr(model.model.layers[-1].mlp, "_pooled_rows", None) is not None
    assert installed is expected
