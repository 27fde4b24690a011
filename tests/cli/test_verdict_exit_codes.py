"""The one map from verdicts to exit codes, and the order several outcomes are ranked in."""

from __future__ import annotations

import pytest

from verifier.errors import ExitCode, exit_code_for_verdict, most_serious


@pytest.mark.parametrize(
    ("verdict", "expected", "code"),
    [
        ("via-connector", "via-connector", ExitCode.OK),
        ("bypassed", "bypassed", ExitCode.OK),  # the control leg
        ("bypassed", "via-connector", ExitCode.BYPASSED),
        ("via-connector", "bypassed", ExitCode.BYPASSED),  # control leaked through the connector
        ("inconclusive", "via-connector", ExitCode.INCONCLUSIVE),
        ("not-delivered", "via-connector", ExitCode.NOT_DELIVERED),
        # analyze without --smarthost: nothing expected, only the platform's route is news
        ("bypassed", None, ExitCode.BYPASSED),
        ("inconclusive", None, ExitCode.OK),
        ("via-connector", None, ExitCode.OK),
    ],
)
def test_verdict_against_expectation(verdict, expected, code):
    assert exit_code_for_verdict(verdict, expected) == code


def test_most_serious_order():
    assert most_serious([]) == ExitCode.OK
    assert most_serious([ExitCode.OK, ExitCode.INCONCLUSIVE]) == ExitCode.INCONCLUSIVE
    assert most_serious([ExitCode.INCONCLUSIVE, ExitCode.NETWORK]) == ExitCode.NETWORK
    assert most_serious([ExitCode.NETWORK, ExitCode.BYPASSED]) == ExitCode.BYPASSED
    assert most_serious([ExitCode.BYPASSED, ExitCode.NOT_DELIVERED]) == ExitCode.NOT_DELIVERED
    assert most_serious([ExitCode.NOT_DELIVERED, ExitCode.INPUT, ExitCode.BYPASSED]) == ExitCode.INPUT
    assert most_serious([ExitCode.BYPASSED, ExitCode.INCONCLUSIVE, ExitCode.OK]) == ExitCode.BYPASSED
