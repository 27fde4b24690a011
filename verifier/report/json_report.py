"""The JSON form of an analysis: the contract scripts and the probe rely on.

Absent values are ``null``, never empty strings. Keys documented in
README.md ("JSON output") are stable; new keys may be added.
"""

from __future__ import annotations

from datetime import datetime

from verifier.analysis.engine import Analysis
from verifier.analysis.hosts import org_domain
from verifier.model import TagList


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else "") + "Z"


def _nz(v):
    return v if v not in ("", None) else None


def _sig(t: TagList) -> dict:
    return {
        "d": _nz(t.d),
        "s": _nz(t.s),
        "a": _nz(t.a),
        "h": list(t.h),
        "i": _nz(t.i),
        "header_index": t.header_index,
    }


def to_json(a: Analysis, *, input_name: str | None = None) -> dict:
    h = a.headers
    hops = []
    for hop in a.hops:
        r = hop.received
        hops.append(
            {
                "index": hop.index,
                "header_index": r.header_index,
                "from_host": _nz(r.from_host),
                "from_rdns": _nz(r.from_rdns),
                "from_ip": _nz(r.from_ip),
                "ip_valid": r.ip_valid,
                "by_host": _nz(r.by_host),
                "with": _nz(r.with_),
                "tls": r.tls,
                "tls_detail": _nz(r.tls_detail),
                "authenticated": r.authenticated,
                "id": _nz(r.id),
                "for": _nz(r.for_),
                "envelope_from": _nz(r.envelope_from),
                "timestamp": _iso(r.date.utc if r.date else None),
                "date_raw": _nz(r.date.raw if r.date else None),
                "delay_seconds": hop.delay_seconds,
                "zone": hop.zone,
                "raw": r.raw,
            }
        )
    spf = [
        {
            "source": s.source,
            "result": s.result,
            "client_ip": _nz(s.client_ip),
            "domain": _nz(s.domain),
            "identity": _nz(s.identity),
            "authserv_id": _nz(s.authserv_id),
            "trusted": a.trusted(s.header_index),
            "header_index": s.header_index,
        }
        for s in a.spf
    ]
    dkim, dmarc, arc = [], [], []
    for ar, r in a.method_results("dkim"):
        d = r.properties.get("header.d")
        if not d and "@" in (r.properties.get("header.i") or ""):
            d = r.properties["header.i"].rsplit("@", 1)[1]
        dkim.append(
            {
                "result": r.result,
                "domain": _nz(d.lower() if d else None),
                "selector": _nz(r.properties.get("header.s")),
                "authserv_id": _nz(ar.authserv_id),
                "trusted": a.trusted(ar.header_index),
                "header_index": ar.header_index,
            }
        )
    for ar, r in a.method_results("dmarc"):
        dmarc.append(
            {
                "result": r.result,
                "header_from": _nz(r.properties.get("header.from")),
                "policy": _nz(r.properties.get("policy.dmarc")),
                "authserv_id": _nz(ar.authserv_id),
                "trusted": a.trusted(ar.header_index),
                "header_index": ar.header_index,
            }
        )
    for ar, r in a.method_results("arc"):
        arc.append({"result": r.result, "authserv_id": _nz(ar.authserv_id), "trusted": a.trusted(ar.header_index), "header_index": ar.header_index})
    b = a.border
    border = None
    if b is not None:
        border = {
            "index": b.index,
            "header_index": b.header_index,
            "receiver": _nz(b.receiver),
            "sender_host": _nz(b.sender_rdns or b.sender_host),
            "sender_helo": _nz(b.sender_host),
            "sender_ip": _nz(b.sender_ip),
            "sender_zone": b.sender_zone,
            "evidence": list(b.evidence),
        }
    al = a.alignment
    alignment = None
    if al is not None:
        alignment = {
            "from_domain": al.from_domain,
            "from_org_domain": org_domain(al.from_domain),
            "spf_domains": list(al.spf_domains),
            "dkim_domains": list(al.dkim_domains),
            "spf_aligned": al.spf_aligned,
            "dkim_aligned": al.dkim_aligned,
            "based_on": al.based_on,
        }
    out = {}
    if input_name is not None:
        out["input"] = input_name
    out.update(
        {
            "verdict": a.verdict,
            "hops": hops,
            "border": border,
            "return_path": _nz(h.return_path.address if h.return_path else None),
            "from": _nz(h.from_.address if h.from_ else None),
            "message_id": _nz(h.message_id),
            "subject": _nz(h.subject),
            "date": _iso(h.date.utc if h.date else None),
            "spf": spf,
            "dkim": dkim,
            "dmarc": dmarc,
            "arc": arc,
            "dkim_signatures": [_sig(t) for t in h.dkim_signatures],
            "arc_sets": sorted({int(t.i) for t in h.arc_seals if t.i and t.i.strip().isdigit()}),
            "authserv_ids": list(a.authserv_ids),
            "alignment": alignment,
            "total_seconds": a.total_seconds,
            "findings": [f.to_json() for f in a.findings],
            "defects": [
                {"code": d.code, "message": d.message, "header_index": d.header_index}
                for d in a.defects
            ],
            "options": {
                "smarthosts": list(a.options.smarthosts),
                "platform": list(a.options.platform),
                "trusted_authserv_ids": list(a.options.trusted_authserv_ids),
            },
        }
    )
    return out
