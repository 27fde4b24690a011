"""Every header fixture in fixtures/headers/ against its hand-written expectation.

Each fixture ``X.txt`` / ``X.eml`` has an ``X.expected.json`` beside it, written
by reading the header, not by running the tool. It holds a subset of the
``verifier analyze --json`` output plus control keys:

* ``args``: extra command-line arguments (``["--smarthost", "smtp.relay.example"]``);
* ``findings_codes``: codes that must appear among the output's findings;
* ``absent_findings_codes``: codes that must not appear;
* ``finding_messages``: ``{code: [message, ...]}``, the exact sentences of every finding
  with that code, in order (the sentences name hosts, addresses and durations read from
  the header, so they are checked as the rest of the output is).

Subset rule: every key of an expected object must be present in the actual
object with an equal value (recursively); expected lists are compared element
by element with the same rule and must have the same length. An mbox fixture
gives JSON Lines; its expectation is a list with one object per message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from verifier.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "headers"
SUFFIX = ".expected.json"
CONTROL_KEYS = ("args", "findings_codes", "absent_findings_codes", "finding_messages")
MIN_FIXTURES = 31

# Expectations the analysis currently gets wrong. Each keeps the reading of the
# header that the fixture documents; the reason names what the tool does instead.
KNOWN_FAILURES: dict[str, str] = {}


def fixture_files() -> list[Path]:
    """Every fixture message file (lab captures included), sorted by name."""
    return sorted(
        p
        for p in FIXTURES.iterdir()
        if p.is_file() and not p.name.endswith(".json") and not p.name.startswith(".") and p.suffix in (".txt", ".eml")
    )


def expectation_for(fixture: Path) -> Path:
    return fixture.with_name(fixture.stem + SUFFIX)


def expectation_files() -> list[Path]:
    return sorted(FIXTURES.glob("*" + SUFFIX))


def fixture_for(expectation: Path) -> Path:
    stem = expectation.name[: -len(SUFFIX)]
    for ext in (".txt", ".eml"):
        candidate = expectation.with_name(stem + ext)
        if candidate.exists():
            return candidate
    raise AssertionError(f"{expectation.name}: no fixture {stem}.txt or {stem}.eml beside it")


# --------------------------------------------------------------------------- subset comparison


def _fmt(value) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


def subset_diffs(expected, actual, path: str = "$") -> list[str]:
    """Where ``actual`` does not contain ``expected`` (empty list: it does)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_fmt(actual)}"]
        out: list[str] = []
        for key, value in expected.items():
            sub = f"{path}.{key}"
            if key not in actual:
                out.append(f"{sub}: missing (expected {_fmt(value)})")
                continue
            out.extend(subset_diffs(value, actual[key], sub))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {_fmt(actual)}"]
        out = []
        if len(expected) != len(actual):
            out.append(f"{path}: expected {len(expected)} element(s), got {len(actual)}: {_fmt(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            out.extend(subset_diffs(e, a, f"{path}[{i}]"))
        return out
    if isinstance(expected, bool) or expected is None or isinstance(actual, bool) or actual is None:
        same = type(expected) is type(actual) and expected == actual
        return [] if same else [f"{path}: expected {_fmt(expected)}, got {_fmt(actual)}"]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if math.isclose(expected, actual, rel_tol=0, abs_tol=1e-6):
            return []
        return [f"{path}: expected {_fmt(expected)}, got {_fmt(actual)}"]
    if expected != actual:
        return [f"{path}: expected {_fmt(expected)}, got {_fmt(actual)}"]
    return []


def finding_diffs(control: dict, actual: dict, path: str = "$") -> list[str]:
    codes = [f.get("code") for f in actual.get("findings") or []]
    out = []
    for code in control.get("findings_codes", []):
        if code not in codes:
            out.append(f"{path}.findings: expected a finding {code!r}; got {codes}")
    for code in control.get("absent_findings_codes", []):
        if code in codes:
            out.append(f"{path}.findings: finding {code!r} must not appear; got {codes}")
    for code, messages in control.get("finding_messages", {}).items():
        got = [f.get("message") for f in actual.get("findings") or [] if f.get("code") == code]
        if got != messages:
            out.append(f"{path}.findings[{code}]: expected the sentences {_fmt(messages)}, got {_fmt(got)}")
    return out


def run_analyze(capsys, fixture: Path, args: list[str]) -> list[dict]:
    capsys.readouterr()  # drop anything printed before
    main(["analyze", "--json", *args, str(fixture)])
    out = capsys.readouterr().out
    assert out.strip(), f"{fixture.name}: verifier analyze --json printed nothing"
    try:
        return [json.loads(out)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in out.splitlines() if line.strip()]


# --------------------------------------------------------------------------- tests


def _params():
    out = []
    for exp in expectation_files():
        stem = exp.name[: -len(SUFFIX)]
        marks = []
        if stem in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[stem]))
        out.append(pytest.param(exp, id=stem, marks=marks))
    return out


@pytest.mark.parametrize("expectation", _params())
def test_fixture_matches_expectation(expectation: Path, capsys) -> None:
    fixture = fixture_for(expectation)
    spec = json.loads(expectation.read_text(encoding="utf-8"))
    messages = spec if isinstance(spec, list) else [spec]
    args = list((messages[0] if messages else {}).get("args", []))
    actual = run_analyze(capsys, fixture, args)

    diffs: list[str] = []
    if len(actual) != len(messages):
        diffs.append(f"$: expected {len(messages)} message(s), got {len(actual)}")
    for i, (exp, act) in enumerate(zip(messages, actual, strict=False)):
        path = f"$[{i}]" if isinstance(spec, list) else "$"
        body = {k: v for k, v in exp.items() if k not in CONTROL_KEYS}
        diffs.extend(subset_diffs(body, act, path))
        diffs.extend(finding_diffs(exp, act, path))
    assert not diffs, f"{fixture.name} differs from {expectation.name}:\n  " + "\n  ".join(diffs)


def test_enough_fixtures_with_expectations() -> None:
    paired = [f for f in fixture_files() if expectation_for(f).exists()]
    assert len(paired) >= MIN_FIXTURES, f"only {len(paired)} fixtures have an expectation; at least {MIN_FIXTURES} are required"


def test_every_fixture_has_an_expectation() -> None:
    missing = [f.name for f in fixture_files() if not expectation_for(f).exists()]
    assert not missing, f"fixtures without an {SUFFIX} file: {missing}"


def test_every_expectation_has_a_fixture() -> None:
    for exp in expectation_files():
        fixture_for(exp)


def test_expectations_are_well_formed() -> None:
    """Every expectation gives hops (with by_host, from_ip, timestamp), border and verdict."""
    problems = []
    for exp in expectation_files():
        spec = json.loads(exp.read_text(encoding="utf-8"))
        for i, msg in enumerate(spec if isinstance(spec, list) else [spec]):
            where = f"{exp.name}[{i}]"
            for key in ("hops", "border", "verdict"):
                if key not in msg:
                    problems.append(f"{where}: no {key!r}")
            for j, hop in enumerate(msg.get("hops", [])):
                for key in ("by_host", "from_ip", "timestamp"):
                    if key not in hop:
                        problems.append(f"{where}.hops[{j}]: no {key!r}")
                if hop.get("index", j) != j:
                    problems.append(f"{where}.hops[{j}]: index {hop.get('index')}")
    assert not problems, "\n".join(problems)


def test_subset_comparison_names_the_path() -> None:
    actual = {"hops": [{"by_host": "a", "zone": "recipient"}, {"by_host": "b", "zone": "platform"}], "verdict": "bypassed"}
    assert subset_diffs({"hops": [{"by_host": "a"}, {"zone": "platform"}]}, actual) == []
    assert subset_diffs({"hops": [{"by_host": "a"}, {"zone": "smarthost"}]}, actual) == [
        '$.hops[1].zone: expected "smarthost", got "platform"'
    ]
    assert subset_diffs({"hops": [{}]}, actual)[0].startswith("$.hops: expected 1 element(s), got 2")
    assert subset_diffs({"border": None}, actual) == ["$.border: missing (expected null)"]
    assert subset_diffs({"x": 0}, {"x": False}) == ["$.x: expected 0, got false"]
    assert subset_diffs({"x": 1}, {"x": 1.0}) == []
