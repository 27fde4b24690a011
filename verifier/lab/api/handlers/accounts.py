"""``.../account``: list with ``like`` filters, get, create, update, and the account's tasks."""

from __future__ import annotations

from typing import Any

from verifier.lab.api import schema
from verifier.lab.api.errors import bad as _bad
from verifier.lab.api.errors import conflict as _conflict
from verifier.lab.api.errors import not_found as _not_found
from verifier.lab.api.handlers.base import HandlerBase
from verifier.lab.api.matching import glob_match
from verifier.lab.api.state import now_iso


class AccountHandlers(HandlerBase):
    """Mixin of :class:`~verifier.lab.api.server.ApiEmulator`."""

    def _account(self, svc: dict[str, Any], address: str) -> dict[str, Any]:
        acc = svc["accounts"].get(address) or svc["accounts"].get(address.lower())
        if acc is None:
            raise _not_found(f"The requested object (primaryEmailAddress = {address}) does not exist")
        return acc

    def _accounts(self, method: str, key: tuple[str, str], svc: dict[str, Any], tail: list[str], query: Any, body: Any) -> Any:
        if not tail:
            if method == "GET":
                return self._filter_accounts(svc, query)
            self._allow(method, "POST")
            return self._create_account(key, svc, body)
        acc = self._account(svc, tail[0])
        if len(tail) > 1 and tail[1] == "tasks" and len(tail) <= 3:
            self._allow(method, "GET")
            mine = {
                str(t["id"]): t
                for t in svc["tasks"].values()
                if t.get("_account") == acc["primaryEmailAddress"]
            }
            if len(tail) == 2:
                return sorted(int(i) for i in mine)
            tid = self._long("id", tail[2])
            if str(tid) not in mine:
                raise _not_found(f"The requested object (id = {tid}) does not exist")
            return self._public(mine[str(tid)])
        if len(tail) > 1:
            raise _not_found("Got an invalid (or empty) URL")
        if method == "GET":
            return self._public(acc)
        self._allow(method, "PUT")
        return self._update_account(svc, acc, body)

    @staticmethod
    def _like(pattern: str, value: str) -> bool:
        """SQL LIKE, as the API's filters: ``%`` any run, ``_`` one character, any case."""
        return glob_match(pattern, value or "", many="%", one="_", fold=True)

    def _filter_accounts(self, svc: dict[str, Any], query: Any) -> list[str]:
        out = []
        for address, acc in sorted(svc["accounts"].items()):
            if "primaryEmailAddress" in query and not self._like(query["primaryEmailAddress"], address):
                continue
            if "company" in query and not self._like(query["company"], acc.get("company") or ""):
                continue
            if "id" in query and not self._like(query["id"], str(acc.get("id"))):
                continue
            if "accountLicense" in query:
                if query["accountLicense"] not in schema.ENUMS["OvhLicenceEnum"]:
                    raise _bad(f"[accountLicense] Given data ({query['accountLicense']}) does not belong to the OvhLicenceEnum enumeration")
                if acc.get("accountLicense") != query["accountLicense"]:
                    continue
            out.append(address)
        return out

    def _update_account(self, svc: dict[str, Any], acc: dict[str, Any], body: Any) -> None:
        body = self._validate(body, schema.ACCOUNT, current=self._public(acc))
        if acc.get("state") != "ok":
            raise _conflict(f"This account is in state {acc.get('state')} and cannot be changed")
        if acc.get("taskPendingId"):
            raise _conflict(f"A task ({acc['taskPendingId']}) is already pending on this account")
        if "sendConnectorId" in body:
            self._check_connector_ref(svc, "sendConnectorId", body["sendConnectorId"])
            spam = body.get("spamAndVirusConfiguration") or acc["spamAndVirusConfiguration"]
            if not spam.get("deleteVirus"):
                raise _bad(
                    "[spamAndVirusConfiguration.deleteVirus] Must be true to change the send connector of an account"
                )
        self._apply_writable(acc, body, schema.ACCOUNT)
        if "sendConnectorId" in body and not body["sendConnectorId"]:
            acc["sendConnectorId"] = 0
        acc["lastUpdateDate"] = now_iso()
        self._save()
        self._notify_routes()
        return None

    def _create_account(self, key: tuple[str, str], svc: dict[str, Any], body: Any) -> dict[str, Any]:
        from verifier.lab.api.state import new_account

        body = self._validate(body, schema.ACCOUNT_CREATE)
        domain = svc["domains"].get(body["domain"])
        if domain is None:
            raise _bad(f"[domain] Domain {body['domain']} is not on this service")
        address = f"{body['login']}@{body['domain']}".lower()
        if address in svc["accounts"]:
            raise _conflict(f"Account {address} already exists")
        cid = body.get("sendConnectorId")
        if cid is None:
            cid = domain.get("sendConnectorIdDefault") or None
        self._check_connector_ref(svc, "sendConnectorId", cid)
        spam = body.get("spamAndVirusConfiguration")
        task = self._new_task(svc, "addAccount", {"kind": "account", "address": address})
        acc = new_account(
            address,
            account_id=self._next("account"),
            display_name=body.get("displayName") or body["login"],
            license=body["license"],
            send_connector_id=cid,
            state="creating",
            task_pending_id=task["id"],
        )
        if spam:
            acc["spamAndVirusConfiguration"] = dict(spam)
        for name in ("firstName", "lastName", "company", "hiddenFromGAL", "outlookLicense", "litigation", "litigationPeriod", "sbrDestination"):
            if body.get(name) is not None:
                acc[name] = body[name]
        svc["accounts"][address] = acc
        self._save()
        self._schedule(key, task["id"])
        return self._public(task)
