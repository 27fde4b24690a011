"""The emulator's state on disk: one JSON file, written atomically, mode 0600.

The file holds the demo credentials and the connectors' passwords (the mail
lab needs them to relay), so the directory is created 0700 and the file 0600.
A write goes to a temporary file in the same directory, is flushed to disk,
then renamed over the old one: a crash leaves either the old or the new state.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
STATE_VERSION = 1

ORGANIZATION = "private-zz111111-1"
SERVICE = "private-zz111111-1"
HOSTNAME = "mail.platform.test"
DOMAIN = "mydomain.test"
ACCOUNTS = ("newsletter@mydomain.test", "contact@mydomain.test")


def default_state_dir() -> Path:
    """``$VERIFIER_LAB_DIR/api`` if set, else ``~/.local/state/verifier/lab/api``."""
    lab = os.environ.get("VERIFIER_LAB_DIR")
    if lab:
        return Path(lab) / "api"
    return Path.home() / ".local" / "state" / "verifier" / "lab" / "api"


def now_iso() -> str:
    """An API datetime: ISO 8601 with an offset, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_credentials() -> dict[str, Any]:
    """Random demo credentials in the shapes OVH uses (16/32/32 characters)."""
    ak = _token(16)
    ck = _token(32)
    ro_ck = _token(32)
    return {
        "applicationKey": ak,
        "applicationSecret": _token(32),
        "consumerKey": ck,
        "clientId": _token(16, string.hexdigits.lower()[:16]),
        "clientSecret": _token(32),
        "consumers": {
            ck: {"applicationKey": ak, "rules": [{"method": m, "path": "/*"} for m in ("GET", "POST", "PUT", "DELETE")]},
            ro_ck: {"applicationKey": ak, "rules": [{"method": "GET", "path": "/*"}]},
        },
        "readOnlyConsumerKey": ro_ck,
    }


def _spam(delete_virus: bool) -> dict[str, bool]:
    return {
        "checkDKIM": False,
        "checkSPF": False,
        "deleteSpam": False,
        "deleteVirus": delete_virus,
        "putInJunk": True,
        "tagSpam": True,
        "tagVirus": True,
    }


def new_account(
    address: str,
    *,
    account_id: int,
    display_name: str,
    license: str = "standard",
    send_connector_id: int | None = None,
    delete_virus: bool = True,
    state: str = "ok",
    task_pending_id: int = 0,
) -> dict[str, Any]:
    login, domain = address.split("@", 1)
    return {
        "primaryEmailAddress": address,
        "login": login,
        "domain": domain,
        "id": account_id,
        "accountLicense": license,
        "displayName": display_name,
        "firstName": None,
        "lastName": None,
        "initial": None,
        "city": None,
        "company": None,
        "description": None,
        "jobDepartment": None,
        "jobTitle": None,
        "office": None,
        "postalCode": None,
        "region": None,
        "streetAddress": None,
        "forwardingEmail": None,
        "mailSenderDisplay": None,
        "countryCode": None,
        "fax": None,
        "mobile": None,
        "phone": None,
        "deleteAtExpiration": None,
        "deleteOutlookAtExpiration": None,
        "hiddenFromGAL": False,
        "litigation": False,
        "litigationPeriod": None,
        "outlookLicense": False,
        "storeCopyOfEmail": False,
        "mailingFilter": ["vaderetro"],
        "quota": 50,
        "renewPeriod": None,
        "renewOutlookPeriod": None,
        "sbrDestination": None,
        "sendConnectorId": send_connector_id,
        "spamAndVirusConfiguration": _spam(delete_virus),
        "numberOfAliases": 0,
        "configured": True,
        "owaLimited": False,
        "spamDetected": False,
        "SAMAccountName": login,
        "exchangeGuid": str(uuid.uuid4()),
        "guid": str(uuid.uuid4()),
        "creationDate": now_iso(),
        "expirationDate": None,
        "expirationOutlookDate": None,
        "lastLogoffDate": None,
        "lastLogonDate": None,
        "lastUpdateDate": None,
        "passwordLastUpdate": None,
        "currentUsage": 0,
        "customIsolationId": None,
        "spamTicketNumber": None,
        "taskPendingId": task_pending_id,
        "state": state,
    }


def new_domain(name: str, hostname: str) -> dict[str, Any]:
    return {
        "name": name,
        "state": "ok",
        "taskPendingId": 0,
        "type": "authoritative",
        "main": True,
        "mxRelay": None,
        "domainValidated": True,
        "isAliasDomain": False,
        "mxIsValid": True,
        "srvIsValid": True,
        "spfIsValid": True,
        "domainAliases": [],
        "expectedMX": [hostname],
        "mxRecord": [hostname],
        "srvRecord": None,
        "spfRecord": [f"v=spf1 a:{hostname} include:relay.test -all"],
        "expectedSPF": f"v=spf1 a:{hostname} ~all",
        "expectedAutodiscoverSRV": f"_autodiscover._tcp.{name} IN SRV 0 0 443 {hostname}",
        "cnameToCheck": None,
        "organization2010": None,
        "dkimDiagnostics": {"state": "toConfigure"},
        "sbrDefault": None,
        "sendConnectorIdDefault": None,
    }


def seed_state() -> dict[str, Any]:
    """A fresh state: the demo organisation, service, domain and the lab's two accounts."""
    service = {
        "displayName": "Private Exchange (lab)",
        "domain": DOMAIN,
        "hostname": HOSTNAME,
        "offer": "dedicated",
        "state": "ok",
        "taskPendingId": 0,
        "lastUpdateDate": None,
        "sslExpirationDate": None,
        "webUrl": f"https://{HOSTNAME}/owa",
        "adfsChangePassword": False,
        "complexityEnabled": True,
        "lockoutDuration": 30,
        "lockoutObservationWindow": 30,
        "lockoutThreshold": None,
        "maxPasswordAge": None,
        "minPasswordAge": None,
        "minPasswordLength": None,
        "passwordHistoryCount": None,
        "maxReceiveSize": 100,
        "maxSendSize": 100,
        "spamAndVirusConfiguration": _spam(True),
        "iam": {
            "id": str(uuid.uuid4()),
            "urn": f"urn:v1:eu:resource:emailExchange:{ORGANIZATION}/{SERVICE}",
            "displayName": SERVICE,
        },
    }
    accounts = {
        # newsletter@ starts with deleteVirus off, as many real accounts do: attaching it
        # is what the guide warns about.
        ACCOUNTS[0]: new_account(ACCOUNTS[0], account_id=1001, display_name="Newsletter", delete_virus=False),
        ACCOUNTS[1]: new_account(ACCOUNTS[1], account_id=1002, display_name="Contact", delete_virus=True),
    }
    return {
        "version": STATE_VERSION,
        "credentials": new_credentials(),
        "tokens": {},
        "counters": {"connector": 1, "task": 113924189, "account": 1003, "query": 1},
        "organizations": {
            ORGANIZATION: {
                "services": {
                    SERVICE: {
                        "service": service,
                        "connectors": {},
                        "accounts": accounts,
                        "domains": {DOMAIN: new_domain(DOMAIN, HOSTNAME)},
                        "tasks": {},
                    }
                }
            }
        },
    }


class StateStore:
    """Loads and saves the state file in ``state_dir``."""

    def __init__(self, state_dir: Path | str) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / STATE_FILE

    def __repr__(self) -> str:
        return f"StateStore({str(self.dir)!r})"

    def load_or_seed(self) -> tuple[dict[str, Any], bool]:
        """The saved state, or a fresh seeded one (saved at once). Second item: True if seeded."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.chmod(self.dir, 0o700)
        except OSError:
            pass
        if self.path.exists():
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                raise ValueError(f"{self.path} is not a state file of this emulator version")
            os.chmod(self.path, 0o600)
            return data, False
        data = seed_state()
        self.save(data)
        return data, True

    def save(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=1, sort_keys=True)
        tmp = self.dir / f".{STATE_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
