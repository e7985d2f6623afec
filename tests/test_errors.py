"""lawfind's errors: ValueErrors with a did-you-mean, and one-line paths and names."""

from __future__ import annotations

import pytest

from lawfind.errors import (DataError, FitError, FormulaError, LawfindError, LawfindWarning, OptionError, check_choice,
                            did_you_mean, printable, show_path)


def test_hierarchy():
    for cls in (DataError, FormulaError, OptionError, FitError):
        assert issubclass(cls, LawfindError) and issubclass(cls, ValueError)
    assert issubclass(LawfindWarning, UserWarning)


def test_did_you_mean_and_check_choice():
    assert did_you_mean("Loss", ["loss", "N"]) == " (did you mean 'loss'?)"
    assert did_you_mean("chinchila", ["chinchilla2022", "kaplan2020"]) == " (did you mean 'chinchilla2022'?)"
    assert did_you_mean("zzz", ["loss"]) == ""
    assert check_choice("loss", "lsq", ["huber", "lsq"]) == "lsq"
    with pytest.raises(OptionError, match=r"unknown loss 'hubr' \(did you mean 'huber'\?\); choose one of: huber, lsq"):
        check_choice("loss", "hubr", ["huber", "lsq"])


def test_paths_and_names_on_one_line():
    assert show_path("runs/a\nb.csv") == r"runs/a\nb.csv"
    assert show_path(b"runs/x.csv") == "runs/x.csv" and show_path("é ü.csv") == "é ü.csv"
    long = show_path("x" * 300)
    assert len(long) < 100 and long.endswith("(300 characters)")
    assert printable("a\tb\x00") == r"a\tb\x00"
