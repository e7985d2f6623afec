"""What the commands share: option types that check ranges at parse time, output paths checked first."""

from __future__ import annotations

import argparse
import sys
import warnings

import pytest

from lawfind.cli.common import (HOLDOUT, at_least, choice, fraction, names, output_file, output_folder, positive,
                                resolve_law)
from lawfind.errors import FormulaError, LawfindWarning, OptionError


@pytest.mark.parametrize("convert,text,value", [
    (positive(), "1e-3", 1e-3), (positive(int), "3", 3), (at_least(0), "0", 0), (at_least(2), "5", 5),
    (fraction, "0.25", 0.25),
])
def test_option_types_accept_values_in_range(convert, text, value):
    assert convert(text) == value and type(convert(text)) is type(value)


@pytest.mark.parametrize("convert,text,message", [
    (positive(), "-1", "must be > 0, got -1"), (positive(), "0", "must be > 0"), (positive(), "nan", "must be > 0"),
    (positive(), "inf", "must be > 0"), (positive(), "x", "'x' is not a number"), (at_least(1), "0", "must be >= 1"),
    (at_least(1), "1.5", "'1.5' is not an integer"), (fraction, "1", "must be in (0, 1)"),
    (fraction, "0", "must be in (0, 1)"), (names, "Q,1x", "'1x' is not a name"),
    (choice("loss", ["huber", "lsq"]), "hubr", "did you mean 'huber'"),
    (HOLDOUT, "top:N:1.5", r"must lie in (0, 1)"), (HOLDOUT, "N=>1", "cannot read the holdout"),
])
def test_option_types_refuse_in_one_line(convert, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        convert(text)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_holdout_type_keeps_the_text():
    assert HOLDOUT("top:N:0.2") == "top:N:0.2" and names(" Q, E0 ") == ("Q", "E0")


def test_output_file_makes_its_folder_and_leaves_no_file(tmp_path):
    out = output_file(str(tmp_path / "a" / "b" / "fit.json"))
    assert out.parent.is_dir() and not out.exists()
    (tmp_path / "kept.json").write_text("old")
    assert output_file(str(tmp_path / "kept.json")).read_text() == "old"  # checked, not emptied
    assert output_file(None) is None


@pytest.mark.parametrize("make,path,message", [
    (lambda t: (t / "d").mkdir(), "d", "is a folder: give a file name"),
    (lambda t: (t / "f").write_text("x"), "f/fit.json", "lies under '{t}/f', which is a file"),
    (lambda t: (t / "f").write_text("x"), "f/sub/fit.json", "lies under '{t}/f', which is a file"),
    (lambda t: None, "x" * 300 + ".json", "File name too long; shorten the name"),
])
def test_output_file_refused(tmp_path, make, path, message):
    make(tmp_path)
    with pytest.raises(OptionError) as exc:
        output_file(str(tmp_path / path), "--out")
    assert message.format(t=tmp_path) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_unwritable_locations_are_refused_even_for_root():
    with pytest.raises(OptionError, match="cannot write --out '/proc/lawfind/fit.json'"):
        output_file("/proc/lawfind/fit.json")
    with pytest.raises(OptionError, match="cannot write --plots '/proc/lawfind'"):
        output_folder("/proc/lawfind", "--plots")


def test_output_folder(tmp_path):
    assert output_folder(str(tmp_path / "x" / "y")).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match="is a file, not a folder"):
        output_folder(str(tmp_path / "file"))
    with pytest.raises(OptionError, match="lies under .* which is a file"):
        output_folder(str(tmp_path / "file" / "out"))


def test_resolve_law_catalogue_formula_and_params():
    assert resolve_law("Chinchilla2022").name == "chinchilla2022"
    with pytest.raises(OptionError, match="did you mean 'chinchilla2022'"):
        resolve_law("chinchila2022")
    with pytest.raises(OptionError, match="'chinchilla2022' is a catalogue law"):
        resolve_law("chinchilla2022", params=("Q",))
    with pytest.warns(LawfindWarning, match="Q is not a column"):
        law = resolve_law("E0 + A/N**alpha + B/Q**beta", init="A=1:100")
    assert "Q" in law.param_names and dict((p.name, p.init) for p in law.params)["A"] == (1.0, 100.0)
    with pytest.raises(FormulaError, match="not parameters"):
        resolve_law("E0 + A/N**alpha", params=("Z",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # --params Q silences the note
        assert "Q" in resolve_law("E0 + A/N**alpha + B/Q**beta", params=("Q",)).param_names
