#!/usr/bin/env bash
# Set up verifier and analyse the provider's own sample header, pasted
# HTML-escaped exactly as the provider's guide shows it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --minimal
exec .venv/bin/verifier analyze --smarthost smtp-relay.example.com fixtures/headers/ovh-guide-sample.txt "$@"
