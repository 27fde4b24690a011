"""What the caller tells the analysis: the smarthost, the platform, trusted authserv-ids."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.analysis.hosts import DEFAULT_PLATFORM_PATTERNS


@dataclass(frozen=True, slots=True)
class Options:
    smarthosts: tuple[str, ...] = ()  # names, globs, IPs or networks of the connector's smarthost
    platform: tuple[str, ...] = DEFAULT_PLATFORM_PATTERNS
    trusted_authserv_ids: tuple[str, ...] = ()
    long_delay_seconds: float = 300.0
