"""Building the command line imports no API client: `analyze` does not pay for python-ovh."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_parser_does_not_import_ovh() -> None:
    program = (
        "import sys\n"
        "from verifier.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in ('ovh', 'requests', 'verifier.platform.api') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_platform_names_still_import_from_the_package() -> None:
    import verifier.platform as platform

    assert platform.ExchangeApi.__name__ == "ExchangeApi"
    assert platform.AUTH_MECHANISMS == ("basicAuth", "basicAuthRequireTLS", "none")
    assert set(platform.__all__) <= set(dir(platform))
