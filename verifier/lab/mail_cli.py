"""Placeholder: registers no lab command yet."""


def register(lsub) -> None:  # noqa: ARG001
    return None
