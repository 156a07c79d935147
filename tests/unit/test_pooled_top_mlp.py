"""The pooled top MLP's building blocks: which positions are pooled, and MLPs it cannot pool."""

from core.speedups.pooled_top_mlp import pooled_positions


def test_pooled_positions_follow_the_rightmost_real_token():
    import torch

    ids = torch.tensor([[5, 6, 7, 0, 0], [5, 0, 0, 0, 0], [0, 0, 5, 6, 7], [5, 6, 7, 8, 9]])
    assert pooled_positions(ids, 0).tolist() == [2, 0, 4, 4]
    assert pooled_positions(ids, None).tolist() == [4, 4, 4, 4]


def test_an_mlp_that_returns_more_than_a_tensor_runs_in_full_from_then_on():
    import torch

    from core.speedups.pooled_top_mlp import _pooled_forward, _PooledRows

    calls = []

    def moe_like(hidden):  # e.g. (hidden states, router logits)
        calls.append(tuple(hidden.shape[:2]))
        return hidden * 2, None

    rows = _PooledRows(pad_token_id=0)
    forward = _pooled_forward(rows, moe_like)
    hidden = torch.randn(2, 5, 4)
    for _ in range(2):
        rows.positions, rows.shape = torch.tensor([4, 1]), (2, 5)
        out, _ = forward(None, hidden)
        assert torch.equal(out, hidden * 2)
    assert calls == [(2, 1), (2, 5), (2, 5)]  # the pooled try once, then the full MLP only
