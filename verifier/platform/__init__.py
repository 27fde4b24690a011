"""The OVH Exchange API as verifier uses it: send connectors, accounts, domains, tasks.

A typed, synchronous layer over python-ovh (``ovh``). Async callers wrap calls in
``asyncio.to_thread``. Errors are :mod:`verifier.errors` classes with one sentence.

    from verifier.platform import ClientSettings, make_client, pick_service, ExchangeApi
    client, endpoint = make_client(ClientSettings(endpoint="ovh-eu"))
    org, svc = pick_service(client, None, None)
    api = ExchangeApi(client, org, svc)
    task = api.create_connector(display_name="relay", smart_host="smtp.example.com", port=587)
    api.wait_task(task)
"""

from verifier.platform.api import (
    AttachResult,
    ExchangeApi,
    list_organizations,
    list_services,
    pick_service,
)
from verifier.platform.client import (
    ClientSettings,
    Endpoint,
    make_client,
    map_exception,
    resolve_endpoint,
)
from verifier.platform.models import (
    AUTH_MECHANISMS,
    Account,
    Domain,
    ExchangeService,
    SendConnector,
    SpamAndVirusConfiguration,
    Task,
)

__all__ = [
    "AUTH_MECHANISMS",
    "Account",
    "AttachResult",
    "ClientSettings",
    "Domain",
    "Endpoint",
    "ExchangeApi",
    "ExchangeService",
    "SendConnector",
    "SpamAndVirusConfiguration",
    "Task",
    "list_organizations",
    "list_services",
    "make_client",
    "map_exception",
    "pick_service",
    "resolve_endpoint",
]
