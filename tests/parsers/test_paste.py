"""Paste normalisation: what customers paste, read into header fields."""

from __future__ import annotations

from tests.parsers import samples as S
from verifier.parsers.paste import normalise, split_messages

SIMPLE = (
    "Return-Path: <a@sender.example>\n"
    "Received: from a.sender.example (a.sender.example [192.0.2.1])\n"
    "\tby mx.rcpt.example (Postfix) with ESMTP id 1A2B\n"
    "\tfor <b@rcpt.example>; Mon, 1 Jan 2024 10:00:00 +0000\n"
    "From: A <a@sender.example>\n"
    "Subject: hello\n"
)


def codes(block):
    return [d.code for d in block.defects]


def names(block):
    return [f.name for f in block.fields]


def test_plain_block_is_read_without_defects():
    b = normalise(SIMPLE)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert b.fields[1].value == (
        "from a.sender.example (a.sender.example [192.0.2.1]) by mx.rcpt.example (Postfix) "
        "with ESMTP id 1A2B for <b@rcpt.example>; Mon, 1 Jan 2024 10:00:00 +0000"
    )
    assert [f.index for f in b.fields] == [0, 1, 2, 3]
    assert [f.line for f in b.fields] == [1, 2, 5, 6]
    assert codes(b) == []
    assert b.has_body is False
    assert b.text == SIMPLE


def test_crlf_is_normal_and_bytes_accepted():
    b = normalise(SIMPLE.replace("\n", "\r\n").encode())
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert codes(b) == []
    assert "\r" not in b.text


def test_cr_only_and_mixed_line_ends():
    b = normalise(SIMPLE.replace("\n", "\r"))
    assert len(b.fields) == 4
    assert "input.line-endings" in codes(b)
    mixed = SIMPLE.replace("\n", "\r\n", 2)
    b = normalise(mixed)
    assert len(b.fields) == 4
    assert "input.line-endings" in codes(b)


def test_double_spaced_paste():
    # CRLF turned into two line ends by a copy: a blank line after every line.
    b = normalise(SIMPLE.replace("\n", "\n\n"))
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert "for <b@rcpt.example>" in b.fields[1].value
    assert "input.double-spaced" in codes(b)


def test_cr_cr_lf_is_one_line_end():
    b = normalise(SIMPLE.replace("\n", "\r\r\n"))
    assert len(b.fields) == 4


def test_nul_removed():
    b = normalise(SIMPLE.replace("hello", "hel\x00lo"))
    assert b.fields[3].value == "hello"
    assert "input.nul" in codes(b)


def test_not_utf8_falls_back_to_latin1_per_byte():
    data = SIMPLE.encode().replace(b"hello", b"caf\xe9 \xff")
    b = normalise(data)
    assert b.fields[3].value == "café ÿ"
    assert "input.not-utf8" in codes(b)
    # valid UTF-8 stays UTF-8
    b = normalise(SIMPLE.replace("hello", "café").encode())
    assert b.fields[3].value == "café"
    assert "input.not-utf8" not in codes(b)


def test_guide_sample_html_escaped():
    b = normalise(S.GUIDE_SAMPLE)
    assert "input.html-escaped" in codes(b)
    assert b.fields[0].name == "Return-Path"
    assert b.fields[0].value.startswith("<bounces-249164590-newsletter=")
    assert len(b.get_all("received")) == 6
    assert b.get("from").value == "<newsletter@mydomain.ovh>"
    assert "&lt;" not in b.text and "<pre" not in b.text and "</code>" not in b.text
    assert b.fields[-1].name == "From"
    # no entity is left anywhere
    assert all("&lt;" not in f.value and "&gt;" not in f.value for f in b.fields)


def test_numeric_entities_and_quot():
    b = normalise("Subject: a &quot;b&quot; &#60;c&#62; &#x41; &amp;&lt;\n")
    assert b.fields[0].value == 'a "b" <c> A &<'


def test_amp_alone_is_not_unescaped():
    # A real header may hold "&amp;" in a URL; without other signs it is left alone.
    b = normalise("List-Unsubscribe: <https://a.example/u?x=1&amp;y=2>\n")
    assert b.fields[0].value == "<https://a.example/u?x=1&amp;y=2>"
    assert "input.html-escaped" not in codes(b)


def test_message_id_that_looks_like_a_tag_is_kept():
    b = normalise("<pre>Message-ID: <code@a.example>\nSubject: x\n</pre>")
    assert b.get("message-id").value == "<code@a.example>"


def test_leading_junk_caption_and_blank_lines():
    b = normalise("\n\nInternet headers:\n\n" + SIMPLE)
    assert names(b)[0] == "Return-Path"
    assert "input.leading-junk" in codes(b)


def test_leading_blank_lines_only_are_not_junk():
    b = normalise("\n\n" + SIMPLE)
    assert names(b)[0] == "Return-Path"
    assert "input.leading-junk" not in codes(b)


def test_mbox_from_line_skipped():
    b = normalise("From a@sender.example Mon Jan  1 10:00:00 2024\n" + SIMPLE)
    assert names(b)[0] == "Return-Path"
    assert "input.leading-junk" in codes(b)


def test_uniformly_indented_block():
    indented = "".join("    " + line + "\n" for line in SIMPLE.splitlines())
    b = normalise(indented)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert b.fields[1].value.endswith("+0000")
    assert "input.indented" in codes(b)


def test_quoted_block():
    quoted = "".join("> " + line + "\n" for line in SIMPLE.splitlines())
    b = normalise(quoted)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert "input.indented" in codes(b)


def test_lost_indentation():
    lost = (
        "Received: from a.sender.example (a.sender.example [192.0.2.1])\n"
        "by mx.rcpt.example (Postfix) with ESMTP id 1A2B\n"
        "for <b@rcpt.example>; Mon, 1 Jan 2024\n"
        "10:00:00 +0000\n"
        "Subject: x\n"
    )
    b = normalise(lost)
    assert names(b) == ["Received", "Subject"]
    assert b.fields[0].value.endswith("Mon, 1 Jan 2024 10:00:00 +0000")
    assert "input.misfolded" in codes(b)


def test_lost_indentation_ipv6_line_is_not_a_field():
    lost = "Received: from a.example\n2001:db8::1 by b.example with ESMTP; Mon, 1 Jan 2024 10:00:00 +0000\nSubject: x\n"
    b = normalise(lost)
    assert names(b) == ["Received", "Subject"]


def test_outlook_name_tab_newline_value_layout():
    outlook = (
        "Received:\t\nfrom a.sender.example (192.0.2.1) by b.example with Microsoft SMTP Server id 15.1.1.1;"
        " Mon, 1 Jan 2024 10:00:00 +0000\n"
        "Subject:\t\nhello\n"
    )
    b = normalise(outlook)
    assert names(b) == ["Received", "Subject"]
    assert b.fields[0].value.startswith("from a.sender.example")
    assert b.fields[1].value == "hello"
    assert "input.misfolded" in codes(b)


def test_stops_at_body():
    eml = SIMPLE + "\nHello,\nFrom: not a header\n"
    b = normalise(eml)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert b.has_body is True


def test_no_header_at_all():
    b = normalise("just some text\nwithout any header\n")
    assert b.fields == ()
    assert "input.no-header" in codes(b)
    assert normalise(b"").fields == ()


def test_empty_value_and_bom():
    b = normalise("\ufeffX-Empty:\nSubject: s\n")
    assert b.fields[0].value == ""
    assert "input.bom" in codes(b)


def test_split_messages_mbox():
    one = b"From a@x Mon Jan  1 10:00:00 2024\nSubject: one\n\nbody\n\n"
    two = b"From b@x Mon Jan  1 11:00:00 2024\nSubject: two\n\nbody From here\nFrom the start of a line\n"
    parts = split_messages(one + two)
    assert parts == [one, two]
    assert normalise(parts[1]).get("subject").value == "two"


def test_split_messages_single():
    assert split_messages(SIMPLE.encode()) == [SIMPLE.encode()]
    assert split_messages(b"") == [b""]
    single = b"From a@x Mon Jan  1 10:00:00 2024\nSubject: one\n\nbody\n"
    assert split_messages(single) == [single]


def test_whitespace_only_line_inside_a_fold():
    text = "To: a@x.example,\n\t b@x.example,\n\t\n\tc@x.example\nSubject: s\n\nbody\n"
    b = normalise(text)
    assert names(b) == ["To", "Subject"]
    assert b.fields[0].value == "a@x.example, b@x.example, c@x.example"
    assert "\n\n" not in b.text
    assert b.has_body is True


def test_gmail_show_original_summary_skipped():
    page = (
        "Original Message\n"
        "Message ID\t<abc@mail.example>\n"
        "Created at:\tMon, Jan 1, 2024 at 10:00 AM (Delivered after 1 second)\n"
        "From:\tA <a@sender.example>\n"
        "To:\tb@rcpt.example\n"
        "Subject:\thello\n"
        "SPF:\tPASS with IP 192.0.2.1 Learn more\n"
        "Download Original\tCopy to clipboard\t\n" + SIMPLE
    )
    b = normalise(page)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert "input.leading-junk" in codes(b)


def test_no_break_space_indentation():
    text = SIMPLE.replace("\n\t", "\n\u00a0\u00a0\u00a0")
    b = normalise(text)
    assert names(b) == ["Return-Path", "Received", "From", "Subject"]
    assert b.fields[1].value.endswith("Mon, 1 Jan 2024 10:00:00 +0000")
    assert "input.misfolded" not in codes(b)


def test_entities_in_the_body_do_not_unescape_the_headers():
    headers = "List-Unsubscribe: <https://a.example/u?x=1&amp;y=2>\nSubject: s\n"
    body = "<p>" + "x" * 5000 + " &lt;b&gt; </p>\n"
    b = normalise(headers + "\n" + body)
    assert b.get("list-unsubscribe").value == "<https://a.example/u?x=1&amp;y=2>"
    assert "input.html-escaped" not in codes(b)
    assert b.has_body


def test_html_line_breaks_end_lines():
    one_line = (
        "<div>Return-Path: &lt;a@sender.example&gt;<br>Received: from a.sender.example "
        "(a.sender.example [192.0.2.1])<br>&nbsp;&nbsp;&nbsp; by mx.rcpt.example with ESMTP; "
        "Mon, 1 Jan 2024 10:00:00 +0000<br/>Subject: hi</div>"
    )
    b = normalise(one_line)
    assert names(b) == ["Return-Path", "Received", "Subject"]
    assert b.fields[1].value.endswith(
        "by mx.rcpt.example with ESMTP; Mon, 1 Jan 2024 10:00:00 +0000"
    )
    with_newlines = "<p>Return-Path: &lt;a@sender.example&gt;<br>\nSubject: hi<br>\n</p>"
    b = normalise(with_newlines)
    assert names(b) == ["Return-Path", "Subject"]
    assert b.fields[0].value == "<a@sender.example>"


def test_split_messages_crlf_mbox():
    one = b"From a@x Mon Jan  1 10:00:00 2024\r\nSubject: one\r\n\r\nbody\r\n\r\n"
    two = b"From b@x Mon Jan  1 11:00:00 2024\r\nSubject: two\r\n\r\nbody\r\n"
    assert split_messages(one + two) == [one, two]


def test_utf16_file_with_bom():
    for enc in ("utf-16-le", "utf-16-be"):
        bom = b"\xff\xfe" if enc.endswith("le") else b"\xfe\xff"
        b = normalise(bom + SIMPLE.encode(enc))
        assert names(b) == ["Return-Path", "Received", "From", "Subject"]
        assert "input.utf16" in codes(b)
