"""`verifier analyze` and `verifier findings` through the real CLI entry point."""

from __future__ import annotations

import json
import os
import re

import pytest

from verifier.cli import main

from .test_engine import OVH_BYPASSED, VIA_SMARTHOST

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def files(tmp_path):
    via = tmp_path / "via.txt"
    via.write_bytes(VIA_SMARTHOST)
    byp = tmp_path / "bypassed.txt"
    byp.write_bytes(OVH_BYPASSED)
    return via, byp


def test_text_report_names_verdict_border_and_findings(files, capsys):
    via, _ = files
    rc = main(["analyze", "--smarthost", "smtp.relay.test", str(via)])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("Verdict: VIA-CONNECTOR")
    assert "mx.guides.test (Received #0) received it from out.relay.test [198.51.100.20]: smarthost" in out
    assert "dmarc.not-aligned" in out


def test_exit_codes_bypassed_and_inconclusive(files, capsys):
    via, byp = files
    assert main(["analyze", "--smarthost", "smtp.relay.example", str(byp)]) == 4
    # a smarthost that matches nothing: route unproven
    assert main(["analyze", "--smarthost", "nothing.invalid", "--platform", "none.invalid", str(via)]) == 5
    # nothing expected: 0 even though inconclusive
    assert main(["analyze", "--platform", "none.invalid", str(via)]) == 0
    capsys.readouterr()


def test_json_lines_for_a_folder_with_an_unreadable_file(files, tmp_path, capsys):
    (tmp_path / "empty.txt").write_bytes(b"\n\n")
    rc = main(["analyze", "--json", "--smarthost", "smtp.relay.test", str(tmp_path)])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rc == 3  # unreadable input wins over bypassed
    by_name = {os.path.basename(o["input"]): o for o in lines}
    assert set(by_name) == {"via.txt", "bypassed.txt", "empty.txt"}
    assert by_name["via.txt"]["verdict"] == "via-connector"
    assert by_name["bypassed.txt"]["verdict"] == "bypassed"
    assert "no email header found" in by_name["empty.txt"]["error"]


def test_json_contract_keys_and_nulls(files, capsys):
    via, _ = files
    main(["analyze", "--json", "--smarthost", "smtp.relay.test", str(via)])
    obj = json.loads(capsys.readouterr().out)
    for key in ("hops", "return_path", "spf", "dkim", "dmarc", "dkim_signatures", "authserv_ids", "border", "verdict", "findings"):
        assert key in obj
    hop = obj["hops"][0]
    for key in ("index", "from_host", "from_rdns", "from_ip", "by_host", "with", "tls", "id", "for", "timestamp", "delay_seconds", "zone"):
        assert key in hop
    assert hop["timestamp"] == "2026-11-27T20:00:03Z"
    assert hop["for"] == "john@guides.test"

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        else:
            assert v != "", "absent values must be null, not empty strings"

    walk(obj)
    assert set(obj["border"]) >= {"index", "receiver", "sender_host", "sender_ip"}
    assert obj["dkim_signatures"][0] == {**obj["dkim_signatures"][0], "d": "relay.test", "s": "lab", "a": "rsa-sha256"}


def test_missing_file_is_one_sentence_and_exit_3(tmp_path, capsys):
    rc = main(["analyze", str(tmp_path / "nope.txt")])
    err = capsys.readouterr().err
    assert rc == 3
    assert err.strip().count("\n") == 0 and "no such file" in err


def test_bad_option_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "--long-delay", "abc", "x"])
    assert exc.value.code == 2
    assert main(["analyze", "--long-delay", "-1", "x"]) == 2
    capsys.readouterr()


def test_readme_findings_table_matches_the_catalogue(capsys):
    from verifier.analysis.findings import markdown_table

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    m = re.search(r"<!-- findings-table:start -->\n(.*?)\n<!-- findings-table:end -->", readme, re.S)
    assert m, "README.md lost its findings table markers"
    assert m.group(1) == markdown_table(), "README.md's findings table differs from verifier findings --markdown"
    assert main(["findings", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == markdown_table()
