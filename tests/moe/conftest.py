from __future__ import annotations

import inspect
import os

import pytest
import torch

# moe.model dispatches with torch.nn.functional.grouped_mm where this torch has it (pyproject allows
# torch >= 2.4, which may not); without it the experts take the loop
GROUPED_MM = hasattr(torch.nn.functional, "grouped_mm")
needs_grouped_mm = pytest.mark.skipif(
    not GROUPED_MM, reason=f"this torch ({torch.__version__}) has no torch.nn.functional.grouped_mm")


@pytest.fixture(scope="session")
def text_corpus(tmp_path_factory):
    """A small real-text corpus: the standard library's own docstrings (no download, any machine)."""
    import argparse, collections, functools, itertools, json as js, pathlib, re as r  # noqa: E401
    folder = tmp_path_factory.mktemp("corpus")
    docs = []
    for mod in (argparse, collections, functools, itertools, js, pathlib, r, inspect, os):
        for _, obj in inspect.getmembers(mod):
            doc = inspect.getdoc(obj)
            if doc:
                docs.append(doc)
    (folder / "stdlib.txt").write_text("\n\n".join(docs))
    return folder


def tiny_spec(path, corpus, **base) -> str:
    b = dict(N=2e5, Na=8e4, G=2, S=0.0, D=1.2e4, d_model=32, n_layers=1, n_heads=2, seq_len=32, batch_size=8,
             lr=3e-3, eval_tokens=2048)
    b.update(base)
    lines = ['name = "t"', f'corpus = "{corpus}"', "[base]"] + [f"{k} = {v}" for k, v in b.items()]
    lines += ["[[family]]", 'vary = "G"', "values = [1, 4]", "[seeds]", "values = [1]"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
