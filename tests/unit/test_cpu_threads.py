"""The default CPU threads follow OMP_NUM_THREADS, so processes sharing a machine (parallel test
workers, sweep jobs) can be given a core each instead of each taking every core."""

import os

import pytest
import torch
from omegaconf import OmegaConf

from core.cpu_threads import default_cpu_threads
from core.pipeline import configure_threads


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_omp_num_threads_sets_the_runs_torch_threads(monkeypatch, torch_threads):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    configure_threads(OmegaConf.create({"train": {"threads": None}}))
    assert torch.get_num_threads() == 1
    configure_threads(OmegaConf.create({"train": {"threads": 2}}))  # train.threads wins
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("value", ["", "0", "two", "-1"])
def test_without_a_usable_omp_num_threads_every_usable_core_is_used(monkeypatch, value):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert default_cpu_threads() == len(os.sched_getaffinity(0))
