"""report.html in a real browser: headless Chromium loads it offline, with no failed or outside
request and no console error; every figure and every equation is drawn with a size, the equations
laid out as MathML (fractions stacked); a screenshot of the whole page is saved.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and ``websocket-client`` (the test
extra); skipped, with the reason, where either is missing. Set ``LAWFIND_SCREENSHOT=path.png`` to keep
the screenshot.
"""

from __future__ import annotations

import io
import json
import os
import shutil

import pytest

from .chromium import Chromium, find_chromium

CHECK = """JSON.stringify((() => {
  const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  return {
    images: [...document.images].map(i => ({natural: [i.naturalWidth, i.naturalHeight], box: box(i)})),
    maths: [...document.querySelectorAll("math")].map(m => ({box: box(m), display: getComputedStyle(m).display})),
    fractions: [...document.querySelectorAll("mfrac")].map(f => {
      const [top, bottom] = [...f.children].map(c => c.getBoundingClientRect());
      return top.bottom <= bottom.top + 1 && top.width > 0 && bottom.width > 0;
    }),
    sections: [...document.querySelectorAll("section")].map(s => [s.id, box(s)[1]]),
    size: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  };
})())"""


@pytest.fixture(scope="session")  # session-wide like ``discovered``, and asked for first: no discovery to skip
def chromium() -> str:
    exe = find_chromium()
    if exe is None:
        pytest.skip("no Chromium: install Debian's package (apt-get install -y chromium) to check the report in a browser")
    pytest.importorskip("websocket", reason="websocket-client is missing: pip install -e '.[test]'")
    return exe


@pytest.mark.slow
def test_the_report_renders_offline_in_chromium(chromium, discovered, tmp_path):
    page = discovered / "report.html"
    with Chromium(chromium, tmp_path / "profile") as browser:
        load = browser.load(page.resolve().as_uri(), CHECK)
    found = json.loads(load.result)
    # loaded with nothing from outside: the page itself and its own data: URIs, none failed
    assert [u for u in load.requests if not u.startswith("data:")] == [page.resolve().as_uri()]
    assert sum(u.startswith("data:image/png;base64,") for u in load.requests) == len(found["images"])
    assert load.failed == [] and load.console_errors == [] and load.exceptions == [] and load.log_errors == []
    # every figure decoded and drawn with a size
    assert len(found["images"]) == 6
    for img in found["images"]:
        assert min(img["natural"]) > 100 and min(img["box"]) > 100, img
    # every equation laid out as MathML, with a size, its fractions stacked
    html = page.read_text()
    assert len(found["maths"]) == html.count("<math ") > 10
    for m in found["maths"]:
        assert m["display"] in ("math", "inline math", "block math") and min(m["box"]) > 5, m  # MathML laid out
    assert found["fractions"] and all(found["fractions"])
    assert [s for s, h in found["sections"]] == ["data", "law", "front", "fit", "catalogue", "optima", "provenance"]
    assert all(h > 100 for s, h in found["sections"])
    # the screenshot is the whole page, and not blank
    from PIL import Image

    shot = Image.open(io.BytesIO(load.screenshot))
    assert [shot.width, shot.height] == found["size"] and shot.width > 1200 and shot.height > 3000
    assert len(shot.convert("L").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    (tmp_path / "report.png").write_bytes(load.screenshot)
    if os.environ.get("LAWFIND_SCREENSHOT"):
        shutil.copy(tmp_path / "report.png", os.environ["LAWFIND_SCREENSHOT"])
