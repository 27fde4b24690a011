"""The enum members the analysis compares against, as module constants.

Reading a member through its class (``Zone.PLATFORM``) goes through the enum
metaclass and costs about 150 ns on CPython 3.11, twenty times a module global;
the analysis reads them per hop and per finding, so its hot code reads these
instead. Each is the member itself (``ZONE_PLATFORM is Zone.PLATFORM``).
"""

from __future__ import annotations

from verifier.model import Confidence, Severity, Verdict, Zone

ZONE_PLATFORM = Zone.PLATFORM
ZONE_SMARTHOST = Zone.SMARTHOST
ZONE_RECIPIENT = Zone.RECIPIENT
ZONE_UNKNOWN = Zone.UNKNOWN

VERDICT_VIA_CONNECTOR = Verdict.VIA_CONNECTOR
VERDICT_BYPASSED = Verdict.BYPASSED
VERDICT_INCONCLUSIVE = Verdict.INCONCLUSIVE
VERDICT_NOT_DELIVERED = Verdict.NOT_DELIVERED

SEVERITY_INFO = Severity.INFO
SEVERITY_WARNING = Severity.WARNING
SEVERITY_ERROR = Severity.ERROR

CONFIRMED = Confidence.CONFIRMED
UNCONFIRMED = Confidence.UNCONFIRMED
