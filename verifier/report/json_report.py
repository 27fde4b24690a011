"""The JSON form of an analysis: the contract scripts and the probe rely on.

Absent values are ``null``, never empty strings. Keys documented in
README.md ("JSON output") are stable; new keys may be added. The values come
from the report model (``verifier.report.model``), which the text and HTML
reports render too.
"""

from __future__ import annotations

from verifier.analysis.engine import Analysis
from verifier.report.model import Report, build


def to_json(a: Analysis | Report, *, input_name: str | None = None) -> dict:
    if isinstance(a, Report):
        return a.to_json()
    return build(a, input_name=input_name, header_lines=False).to_json()
