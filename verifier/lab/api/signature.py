"""Who is calling: request signatures (``$1$`` SHA1), consumer keys and their access rules,
and the OAuth2 client-credentials token endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from aiohttp import web

from verifier.lab.api import credentials as ckflow
from verifier.lab.api.errors import ApiFailure
from verifier.lab.api.matching import glob_match

MAX_SKEW_SECONDS = 180
TOKEN_LIFETIME = 3600


def _rule_matches(rule: dict[str, str], method: str, path: str) -> bool:
    """An access rule: the method, and a path where ``*`` matches any run (``/`` included)."""
    if rule.get("method") != method:
        return False
    return glob_match(str(rule.get("path", "")), path, many="*")


class SignatureChecks:
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`: authentication of each call."""

    data: dict[str, Any]
    max_skew: int

    def _oauth2_token(self, request: web.Request, text: str) -> web.Response:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(text).items()}
        cid = form.get("client_id")
        csecret = form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
                cid, _, csecret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                cid = csecret = None
        creds = self.data["credentials"]
        headers = {"Cache-Control": "no-store"}
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400, headers=headers)
        if not (
            cid
            and csecret
            and hmac.compare_digest(cid, creds["clientId"])
            and hmac.compare_digest(csecret, creds["clientSecret"])
        ):
            return web.json_response({"error": "invalid_client"}, status=401, headers=headers)
        token = secrets.token_urlsafe(32)
        self.data["tokens"][token] = int(time.time()) + TOKEN_LIFETIME
        self._save()
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "scope": "all"},
            headers=headers,
        )

    def _authenticate(self, request: web.Request, text: str, sub: str) -> str | None:
        """Check the call's credentials and rules; returns the consumer key (None for OAuth2)."""
        creds = self.data["credentials"]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:].strip()
            expiry = self.data["tokens"].get(token)
            if expiry is None or expiry < time.time():
                raise ApiFailure(401, "The access token is invalid or expired")
            return None
        ak = request.headers.get("X-Ovh-Application")
        if not ak:
            raise ApiFailure(401, "You must login first")
        if not hmac.compare_digest(ak, creds["applicationKey"]):
            raise ApiFailure(403, "This application key is invalid", "INVALID_KEY")
        ck = request.headers.get("X-Ovh-Consumer")
        ts = request.headers.get("X-Ovh-Timestamp")
        sig = request.headers.get("X-Ovh-Signature")
        if not ck or not ts or not sig:
            raise ApiFailure(401, "You must login first")
        consumer = creds["consumers"].get(ck)
        if consumer is None or consumer.get("applicationKey") != ak:
            raise ApiFailure(403, "This credential does not exist", "INVALID_CREDENTIAL")
        if not ckflow.is_valid(consumer):
            raise ApiFailure(403, "This credential is not valid", "INVALID_CREDENTIAL")
        try:
            stamp = int(ts)
        except ValueError:
            raise ApiFailure(400, "Invalid signature", "INVALID_SIGNATURE") from None
        if abs(int(time.time()) - stamp) > self.max_skew:
            raise ApiFailure(400, "Query out of time", "QUERY_TIME_OUT")
        # The URL exactly as the client built it: scheme, Host header, raw path and query.
        url = f"{request.scheme}://{request.host}{request.raw_path}"
        expected = "$1$" + hashlib.sha1(
            "+".join([creds["applicationSecret"], ck, request.method.upper(), url, text, ts]).encode()
        ).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise ApiFailure(400, "Invalid signature", "INVALID_SIGNATURE")
        if not any(_rule_matches(rule, request.method, sub) for rule in consumer.get("rules", [])):
            raise ApiFailure(403, "This call has not been granted", "NOT_GRANTED_CALL")
        return ck
