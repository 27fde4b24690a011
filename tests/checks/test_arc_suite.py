"""The ARC validation suite (ValiMail arc_test_suite, draft -18) through StaticResolver.

Measured agreement on cv: 168 of 171 tests. The 3 others are the tests whose
``cv`` is empty in the YAML (``cv: |`` followed by a blank line; see the corpus
README). In all three a seal says cv=fail (instance 1 of a one-set chain;
instance 2; instance 1 under a second set), and dkimpy returns no status
(None, "the chain is terminated"). A chain with a failed seal has failed (RFC
8617 §5.2), which is what we report and what the tests' names (cv_fail_...)
say. Nothing else disagrees: the draft -18
rules these tests exercise are the ones RFC 8617 kept.
"""

from __future__ import annotations

import pytest

from verifier.checks.dkim import verify_arc
from verifier.checks.dns import StaticResolver

from .support import PEER_GOLDEN, need_shared, run

SUITE = PEER_GOLDEN / "arc-test-suite" / "arc-draft-validation-tests.yml"
EMPTY_CV = {"cv_fail_i1_as_cv_fail", "cv_fail_i2_as2_fail", "cv_fail_i2_as1_fail"}


_SCENARIOS: list = []


def _load():
    yaml = pytest.importorskip("yaml", reason="PyYAML (the test extra) is needed to read the ARC suite.")
    if not _SCENARIOS:
        _SCENARIOS.extend(yaml.safe_load_all(SUITE.read_text()))
    return _SCENARIOS


def _cases():
    if not SUITE.exists():
        return [pytest.param(None, None, None, id="shared-corpus-absent")]
    try:
        scenarios = _load()
    except pytest.skip.Exception:
        return [pytest.param(None, None, None, id="pyyaml-absent")]
    out = []
    for sc in scenarios:
        for name, test in sc["tests"].items():
            out.append(pytest.param(sc.get("txt-records") or {}, name, test, id=f"{sc['description']}:{name}"))
    return out


_SEEN: dict[int, object] = {}


def _verify(records: dict, test: dict):
    key = id(test)
    if key in _SEEN:
        return _SEEN[key]
    resolver = StaticResolver({k: {"TXT": [v]} for k, v in records.items()})
    _SEEN[key] = got = run(verify_arc(test["message"].encode(), resolver, headers_only=False))
    return got


@pytest.mark.corpus
@pytest.mark.parametrize(("records", "name", "test"), _cases())
def test_arc_validation(records, name, test):
    need_shared(SUITE)
    _load()
    got = _verify(records, test)
    expected = str(test["cv"]).strip().lower()
    if name in EMPTY_CV:
        assert expected == ""
        assert got.cv == "fail" and "reported failure" in got.reason
        return
    assert got.cv == expected, f"{name}: {test.get('description')}: got {got.cv} ({got.reason})"
    assert got.reason.endswith(".")


@pytest.mark.corpus
def test_arc_agreement_figures():
    need_shared(SUITE)
    scenarios = _load()
    total = agree = 0
    disagree = []
    for sc in scenarios:
        for name, test in sc["tests"].items():
            total += 1
            got = _verify(sc.get("txt-records") or {}, test)
            if got.cv == str(test["cv"]).strip().lower():
                agree += 1
            else:
                disagree.append(name)
    assert total == 171
    assert agree == 168
    assert set(disagree) == EMPTY_CV
