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

# Names are loaded on first use (PEP 562), so that importing a light module such as
# ``verifier.platform.models`` (the command line does, to build its parser) does not
# import python-ovh and requests.
_EXPORTS = {
    "AttachResult": "api",
    "ExchangeApi": "api",
    "list_organizations": "api",
    "list_services": "api",
    "pick_service": "api",
    "ClientSettings": "client",
    "Endpoint": "client",
    "make_client": "client",
    "map_exception": "client",
    "resolve_endpoint": "client",
    "AUTH_MECHANISMS": "models",
    "Account": "models",
    "Domain": "models",
    "ExchangeService": "models",
    "SendConnector": "models",
    "SpamAndVirusConfiguration": "models",
    "Task": "models",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'verifier.platform' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"verifier.platform.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


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
