"""report.html: one self-contained page with every section, built from a discovery's folder."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from lawfind.errors import DataError
from lawfind.files import file_sha256
from lawfind.report import build_report, read_folder, write_report

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def without_build_time(html: str) -> str:
    """The page without the one row that says when it was built."""
    return re.sub(r"<tr><th>report built</th><td>.*?</td></tr>", "", html, count=1, flags=re.S)


class _Page(HTMLParser):
    """Every element's tag and attributes, the text of <style> and <script>, and the <math> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)

    def handle_endtag(self, tag):
        self._in = None


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.mark.slow
def test_the_page_loads_nothing_from_elsewhere(discovered):
    html = (discovered / "report.html").read_text()
    page = _page(html)
    urls = [(tag, k, v) for tag, attrs in page.tags for k, v in attrs.items()
            if k in ("src", "href", "data", "poster", "srcset", "action", "xlink:href")]
    images = [v for tag, k, v in urls if tag == "img"]
    assert len(images) == 6  # data, front, predicted against observed, residuals, partial dependence, iso-loss
    assert all(v.startswith("data:image/png;base64,") for v in images)
    assert [v for tag, k, v in urls if tag != "img"] == [f"#{s}" for s in
                                                        ("data", "law", "front", "fit", "catalogue", "optima", "provenance")]
    assert not [t for t, a in page.tags if t in ("link", "iframe", "object", "embed", "base")]
    assert not [a for t, a in page.tags if t == "script" and "src" in a]
    assert not re.search(r"url\(|@import", " ".join(page.inline))
    # no address outside the page, other than MathML's namespace (a name, never fetched)
    assert set(re.findall(r"(?:https?|ftp)://[^\s\"'<>)]+", html)) == {MATHML_NS}
    for uri in images:
        png = base64.b64decode(uri.partition(",")[2])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") > 200
    assert len(html.encode()) < 3 * 2 ** 20


@pytest.mark.slow
def test_every_section_says_what_the_folder_holds(discovered):
    html = (discovered / "report.html").read_text()
    record = json.loads((discovered / "best.json").read_text())
    page = _page(html)
    assert [a.get("id") for t, a in page.tags if t == "section"] == ["data", "law", "front", "fit", "catalogue",
                                                                     "optima", "provenance"]
    maths = [a for t, a in page.tags if t == "math"]
    eq_rows = len(open(discovered / "equations.csv").readlines()) - 1
    n_params = len(record["parameters"])
    # headline, form, fitted law, each constant's symbol, each front row, G* and S*, Na_opt and D_opt
    assert len(maths) == 3 + n_params + eq_rows + 2 + 2
    assert all(a["xmlns"] == MATHML_NS for a in maths)
    assert "<code>" not in html.split('id="front"')[1].split("</table>")[0].split("<tbody>")[1].replace(
        "<code>grammar</code>", "").replace("<code>catalog:", "")  # every law of the front is typeset
    for name, entry in record["parameters"].items():  # the constants with their intervals
        lo, hi = entry["interval95"]
        assert f"[{lo:.4g}, {hi:.4g}]" in html, name
    assert f'readonly rows="3">{escape(record["latex"])}</textarea>' in html  # the LaTeX to copy
    prov = record["provenance"]
    assert prov["data_sha256"] == file_sha256(discovered.parent / "runs.csv") and prov["data_sha256"] in html
    assert prov["command"].startswith("lawfind discover ") and "--bootstrap 20" in prov["command"]
    assert "--bootstrap 20" in html and f"<td>{prov['seed']}</td>" in html
    assert "Na/N*" in html and "no interior optimum" in html
    assert "★ chosen: lawfind_moe5" in html  # the catalogue's comparison marks the chosen law
    assert html.count('<tr class="chosen">') == 2  # and so does the front


@pytest.mark.slow
def test_a_folder_without_optima_gets_them_derived(discovered, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(discovered, folder)
    (folder / "optima.json").unlink()
    html = build_report(folder)
    assert not (folder / "optima.json").exists()  # building a page writes nothing
    assert "G*" in html and "exp(-g1/(2*g2))" not in html  # the closed form is typeset, not printed
    path = write_report(folder, tmp_path / "page.html")
    page, built = without_build_time(path.read_text()), without_build_time(html)
    if page != built and ("(numeric)" in page) != ("(numeric)" in built):
        # the allocation's closed form is searched under a time limit (REPORT_TIMEOUT); today's chosen law
        # (an N**0.07 term beside Na) sits near it, so one derivation may find it and the other not
        pytest.skip("sympy's closed form of the allocation timed out in one of the two derivations")
    assert path == tmp_path / "page.html" and page == built
    assert json.loads((folder / "optima.json").read_text())["optima"][0]["variable"] == "G"


@pytest.mark.slow
def test_the_fits_notes_are_on_the_page(discovered, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(discovered, folder)
    record = json.loads((folder / "best.json").read_text())
    note = "bootstrap refits on a bound of alpha (40%): those intervals stop at the bound"
    record["fit"]["warnings"] = [note]
    (folder / "best.json").write_text(json.dumps(record))
    assert f"Fit: {escape(note)}." in build_report(folder)
    own = json.loads((discovered / "best.json").read_text())["fit"]["warnings"]
    assert build_report(discovered).count('<p class="note">Fit: ') == len(own)  # one line per note, no more


@pytest.mark.slow
def test_a_folder_that_is_not_a_discovery_is_refused_with_the_fix(discovered, tmp_path):
    with pytest.raises(DataError, match="no folder .*give the --out folder of 'lawfind discover'"):
        read_folder(tmp_path / "nowhere")
    folder = tmp_path / "old"
    shutil.copytree(discovered, folder)
    (folder / "runs.csv").unlink()
    with pytest.raises(DataError, match="has no runs.csv: .*run 'lawfind discover FILE --out"):
        read_folder(folder)
    shutil.copy(discovered / "runs.csv", folder / "runs.csv")
    (folder / "candidates.csv").write_text("source,n_params\ncatalog:x,3\n")
    with pytest.raises(DataError, match=r"lacks the columns \['extrap_rmse_log', 'test_rmse_log', 'admissible', "
                                        r"'reason'\]"):
        read_folder(folder)
