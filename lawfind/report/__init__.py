"""One self-contained HTML page per discovery: ``report.html``.

=================  ==========================================================================
module             concern
=================  ==========================================================================
``tables``         what discover writes for the report (``candidates.csv``, ``runs.csv``)
``folder``         a discovery's output folder, read back
``analysis``       the chosen law's optima, allocation and effects (``optima.json``)
``figures``        the report's own figures, and figures as ``data:`` URIs
``builder``        each section's numbers, rendered through ``templates/report.html.j2``
=================  ==========================================================================

The page loads nothing: figures are PNG ``data:`` URIs, equations MathML (sympy's presentation
printer), style and script inline, so it opens offline and can be mailed.
"""

from __future__ import annotations

from .analysis import analyse_discovery
from .builder import build_report, write_report
from .folder import DiscoveryFolder, read_folder
from .tables import candidates_table, runs_table, split_labels

__all__ = ["build_report", "write_report", "read_folder", "DiscoveryFolder", "analyse_discovery",
           "candidates_table", "runs_table", "split_labels"]
