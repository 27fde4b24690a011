"""Placeholder: registers no command yet."""


def register(sub) -> None:  # noqa: ARG001
    return None
