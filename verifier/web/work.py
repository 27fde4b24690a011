"""What one analysis request does, in a worker process: read, analyse, render.

Runs in the paste server's worker processes (``verifier.web.pool``), never in
its event loop. Takes and returns plain picklable values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Job:
    kind: str  # "page" | "json" | "text" | "api"
    data: bytes
    options: object  # verifier.analysis.engine.Options
    filename: str | None = None  # set when the input was an uploaded file
    form_text: str = ""  # the paste box's text, shown again in the form


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: str
    content_type: str
    filename: str | None = None  # Content-Disposition attachment name


def _first_message(name: str, data: bytes) -> tuple[str, bytes, int]:
    """An uploaded mbox gives its first message; a single message is itself."""
    if data.startswith(b"From ") and b"\nFrom " in data:
        from verifier.parsers.paste import split_messages

        parts = split_messages(data)
        if len(parts) > 1:
            return f"{name}#1", parts[0], len(parts)
    return name, data, 1


def run(job: Job) -> Outcome:
    from verifier.analysis.defects import unread_reason
    from verifier.analysis.engine import analyze_bytes
    from verifier.report.html import form_values_for, render_page
    from verifier.report.model import build
    from verifier.report.text import render_report

    name = None
    data = job.data
    note = None
    if job.filename is not None:
        name, data, count = _first_message(job.filename, data)
        if count > 1:
            note = f"{job.filename} is an mbox of {count} messages; the first is shown (the command line reports each)."
    a = analyze_bytes(data, job.options)
    form = form_values_for(job.options, job.form_text)
    reason = unread_reason(a.headers)
    if reason:
        what = f"{name}: {reason}" if name else reason[0].upper() + reason[1:]
        if job.kind == "page":
            return Outcome(400, render_page(None, form=form, error=what, error_title="Nothing to analyse:"), "text/html")
        if job.kind == "text":
            return Outcome(400, f"verifier: {what}\n", "text/plain")
        return Outcome(400, json.dumps({"input": name, "error": what} if name else {"error": what}), "application/json")
    if job.kind in ("json", "api"):
        obj = build(a, input_name=name, header_lines=False).to_json()
        body = json.dumps(obj, ensure_ascii=False, indent=2)
        return Outcome(200, body, "application/json", "verifier-report.json" if job.kind == "json" else None)
    if job.kind == "text":
        return Outcome(200, render_report(build(a, input_name=name, header_lines=False)), "text/plain", "verifier-report.txt")
    rep = build(a, input_name=name)
    return Outcome(200, render_page(rep, form=form, error=note, error_title="Note:"), "text/html")


def warm_up() -> None:
    """Import and compile what a request needs, so that the first one is not slower."""
    from verifier.analysis.engine import Options

    run(Job("page", b"Received: from a.example ([192.0.2.1]) by b.example; Tue, 28 Feb 2023 07:51:02 +0000\nFrom: a@b.example\n", Options()))


__all__ = ["Job", "Outcome", "run"]
