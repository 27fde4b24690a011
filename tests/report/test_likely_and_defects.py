"""The likely route and the per-header defects, as the engine will give them: rendered when present."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from verifier.analysis.engine import Options, analyze_bytes
from verifier.report.html import render as render_html
from verifier.report.json_report import to_json
from verifier.report.model import build
from verifier.report.text import render as render_text

SAMPLE = (Path(__file__).resolve().parents[2] / "fixtures" / "headers" / "ovh-guide-sample.txt").read_bytes()


@dataclass(frozen=True)
class Likely:
    route: str
    confidence: str
    hop_index: int | None
    header_index: int | None
    reason: str


@dataclass(frozen=True)
class Defect:
    code: str
    message: str
    header_index: int | None
    header_name: str | None


class WithLikely:
    """An analysis with the two attributes the engine adds (``likely``, ``defects``)."""

    def __init__(self, a, likely, defects) -> None:
        self._a, self.likely, self.defects = a, likely, defects

    def __getattr__(self, name):
        return getattr(self._a, name)


def _analysis():
    a = analyze_bytes(SAMPLE, Options())  # no --smarthost: the strict verdict is inconclusive
    likely = Likely("via-connector", "unconfirmed", 5, 10, "A hop below the border was written by <b>smtp-relay</b>.")
    defects = (Defect("received.odd", "Odd \x1b[31mclause.", 10, "Received"),)
    return a, WithLikely(a, likely, defects)


class WithoutLikely:
    """An analysis as it was before the engine gave ``likely`` and ``defects``."""

    def __init__(self, a) -> None:
        self._a = a

    def __getattr__(self, name):
        if name in ("likely", "defects"):
            raise AttributeError(name)
        return getattr(self._a, name)


def test_without_the_attributes_the_json_has_no_likely_key():
    a, _ = _analysis()
    obj = to_json(WithoutLikely(a))
    assert "likely" not in obj
    h = a.headers
    assert obj["defects"] == [{"code": d.code, "message": d.message, "header_index": d.header_index} for d in (*h.block.defects, *h.defects)]


def test_likely_goes_in_the_json_after_the_verdict():
    _, w = _analysis()
    obj = to_json(w)
    keys = list(obj)
    assert keys[keys.index("verdict") + 1] == "likely"
    assert obj["likely"] == {"route": "via-connector", "confidence": "unconfirmed", "hop_index": 5, "header_index": 10, "reason": "A hop below the border was written by <b>smtp-relay</b>."}
    assert obj["defects"] == [{"code": "received.odd", "message": "Odd \x1b[31mclause.", "header_index": 10}]
    json.dumps(obj)


def test_likely_is_shown_before_the_strict_verdict_in_text_and_html():
    _, w = _analysis()
    text = render_text(w)
    lines = text.splitlines()
    assert lines[0].startswith("Likely route: VIA-CONNECTOR (unconfirmed)")
    assert lines[1].startswith("Strict verdict: INCONCLUSIVE")
    assert "received.odd: Odd \\x1b[31mclause. [Received]" in text
    html = render_html(w)
    assert html.index('id="likely"') < html.index('id="verdict"')
    assert "Strict verdict" in html
    assert "&lt;b&gt;smtp-relay&lt;/b&gt;" in html and "<b>smtp-relay</b>" not in html
    assert "received.odd" in html


def test_model_is_built_once_per_report():
    _, w = _analysis()
    rep = build(w)
    assert rep.likely is not None and rep.has_likely
    assert render_text(rep) == render_text(w)
