"""Where the lab keeps its files.

``$VERIFIER_LAB_DIR`` if set, else ``/var/lib/verifier-lab``::

    lab.json          what is running (PIDs, ports, faults)
    secrets/  0700    passwords (one 0600 file each), DKIM keys, OVH demo secrets
    tls/              the lab CA and the servers' certificates (keys 0600)
    api/      0700    the OVH API emulator's state
    run/              generated configuration, queues, mailboxes, logs (rebuilt by `up`)

The daemons run as their own users (postfix, opendkim, nsd, dovecot, mail), so the
directories on the way to ``run/`` must be searchable by everyone (mode 0755).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/var/lib/verifier-lab")
NETNS_ETC = Path("/etc/netns")


def lab_dir() -> Path:
    """The lab's state directory: ``$VERIFIER_LAB_DIR`` or ``/var/lib/verifier-lab``."""
    value = os.environ.get("VERIFIER_LAB_DIR")
    return Path(value).absolute() if value else DEFAULT_DIR


@dataclass(frozen=True)
class Layout:
    root: Path

    @classmethod
    def current(cls) -> Layout:
        return cls(lab_dir())

    @property
    def state_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls / "ca.crt"

    @property
    def api(self) -> Path:
        return self.root / "api"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.run / "log"

    def postfix(self, name: str) -> Path:
        return self.run / f"postfix-{name}"

    @property
    def platform_maps(self) -> Path:
        return self.postfix("platform") / "maps"

    @property
    def dovecot(self) -> Path:
        return self.run / "dovecot"

    @property
    def dovecot_base(self) -> Path:
        # Short: Dovecot and Postfix connect to unix sockets in here (108-byte limit).
        return self.run / "dv"

    @property
    def nsd(self) -> Path:
        return self.run / "nsd"

    @property
    def opendkim(self) -> Path:
        return self.run / "opendkim"

    @property
    def mail(self) -> Path:
        return self.run / "mail"

    def password_file(self, user: str) -> Path:
        return self.secrets / f"{user}.password"

    @property
    def netns_etc(self) -> Path:
        from verifier.lab.topology import NETNS

        return NETNS_ETC / NETNS
