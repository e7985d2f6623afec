"""Token data: common random numbers (the batch order depends on the data seed only), a fixed
validation set, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moe.data import Batches, load_corpus, validation_batches


def _stream(tokens, data_seed: int, n: int = 5, batch_size: int = 4, seq_len: int = 16) -> list[torch.Tensor]:
    b = Batches(tokens, batch_size, seq_len, data_seed)
    return [b.next()[0] for _ in range(n)]


def test_batch_order_depends_on_the_data_seed_only():
    tokens = np.arange(10_000, dtype=np.uint16) % 256
    torch.manual_seed(0)
    a = _stream(tokens, data_seed=0)
    torch.manual_seed(123)  # another initialisation seed: the same batches
    _ = torch.randn(1000)
    b = _stream(tokens, data_seed=0)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c = _stream(tokens, data_seed=1)
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    # a longer run sees the shorter run's batches first (D varies, the order does not)
    assert all(torch.equal(x, y) for x, y in zip(a, _stream(tokens, data_seed=0, n=9)))


def test_targets_are_the_next_tokens_and_validation_is_fixed():
    tokens = np.arange(5_000, dtype=np.uint16) % 251
    x, y = Batches(tokens, 2, 8, 0).next()
    assert torch.equal((x[:, 1:]), y[:, :-1]) and torch.equal((x + 1) % 251, y)
    v1, v2 = validation_batches(tokens, 8, 512), validation_batches(tokens, 8, 512)
    assert sum(vx.numel() for vx, _ in v1) == 512 and all(torch.equal(a[0], b[0]) for a, b in zip(v1, v2))


def test_corpus_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .txt files"):
        load_corpus(tmp_path)
    with pytest.raises(ValueError, match="fewer than a sequence"):
        Batches(np.zeros(10, dtype=np.uint16), 2, 16, 0)
    (tmp_path / "a.txt").write_text("hello world " * 100)
    with pytest.raises(ValueError, match="unknown tokenizer 'words'"):
        load_corpus(tmp_path, tokenizer="words")


def test_default_corpus_is_real_text_from_a_package():
    from moe.data import default_corpus_dir

    try:
        default_corpus_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    corpus = load_corpus()
    assert corpus.vocab_size == 256 and len(corpus.train) > 5_000_000
    assert b"Romeo" in corpus.train[:].astype("uint8").tobytes()
    again = load_corpus()
    assert (again.val == corpus.val).all()  # the validation set is fixed
