"""The consumer-key flow over HTTP: ``POST /auth/credential``, the validation page,
``GET /auth/currentCredential`` (rules and state in :mod:`verifier.lab.api.credentials`)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from verifier.lab.api import credentials as ckflow
from verifier.lab.api.errors import ApiFailure
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.base import HandlerBase

log = logging.getLogger("verifier.lab.api")


class CredentialHandlers(HandlerBase):
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    def _credential_request(self, request: web.Request, text: str) -> dict[str, Any]:
        """``POST /auth/credential``: unsigned, only a valid application key."""
        creds = self.data["credentials"]
        ak = request.headers.get("X-Ovh-Application") or ""
        if not ak or not hmac.compare_digest(ak, creds["applicationKey"]):
            raise ApiFailure(403, "This application key is invalid", "INVALID_KEY")
        body = self._parse_json(text) if text else None
        try:
            rules, redirection = ckflow.check_request(body)
        except ckflow.CredentialRequestError as exc:
            raise _bad(str(exc)) from None
        ck, token = ckflow.new_request(creds, ak, rules, redirection)
        self._save()
        log.info("consumer key requested with %d rule(s); pending validation", len(rules))
        return {
            "consumerKey": ck,
            "state": ckflow.PENDING,
            "validationUrl": f"{request.scheme}://{request.host}/auth/?credentialToken={token}",
        }

    def _validation_page(self, request: web.Request, text: str) -> web.Response:
        """The validation URL: GET shows the rules, POST validates (``decision=refuse`` refuses)."""
        from urllib.parse import parse_qs

        token = request.query.get("credentialToken", "")
        found = ckflow.find_by_token(self.data["credentials"], token)
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; form-action 'self'",
                   "X-Frame-Options": "DENY"}
        if found is None:
            return web.Response(status=404, text="Unknown or already answered credential request.\n",
                                content_type="text/plain", headers=headers)
        _ck, consumer = found
        if request.method == "GET":
            return web.Response(text=ckflow.validation_page(consumer, token), content_type="text/html",
                                headers=headers)
        if request.method != "POST":
            raise ApiFailure(405, f"Method {request.method} not allowed here")
        decision = (parse_qs(text).get("decision") or ["validate"])[0]
        ckflow.decide(consumer, accept=decision != "refuse")
        self._save()
        log.info("consumer key %s", consumer["state"])
        return web.Response(text=f"Credential {consumer['state']}.\n", content_type="text/plain", headers=headers)

    def _current_credential(self, consumer_key: str | None) -> dict[str, Any]:
        if consumer_key is None:
            raise _not_found("OAuth2 access tokens have no consumer key to describe")
        creds = self.data["credentials"]
        out = ckflow.describe(creds, creds["consumers"][consumer_key])
        self._save()
        return out
