"""The version is written once, in lawfind/version.py; lawfind.__version__ and pyproject.toml read it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import lawfind


def test_the_version_is_written_once_and_pyproject_reads_it():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lawfind.version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", lawfind.__version__)
