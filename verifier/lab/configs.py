"""Configuration files of the lab's daemons, rendered from the topology.

Pure functions: each returns the text of one file. The files are written by
:mod:`verifier.lab.control`.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from verifier.lab import topology as t
from verifier.lab.layout import Layout

# --- DNS -------------------------------------------------------------------------

ZONE_TTL = 5  # short, so that a fault on a record shows at once


def _soa(zone: str, serial: int) -> str:
    return (
        f"$ORIGIN {zone}.\n$TTL {ZONE_TTL}\n"
        f"@ IN SOA {t.NS_NAME}. hostmaster.lab.test. ( {serial} 3600 600 86400 {ZONE_TTL} )\n"
        f"@ IN NS {t.NS_NAME}.\n"
    )


def _txt(text: str) -> str:
    """A TXT record's data, split into strings of at most 255 characters."""
    parts = [text[i : i + 250] for i in range(0, len(text), 250)] or [""]
    return " ".join(f'"{p}"' for p in parts)


def _ptr_zone(zone: str, prefix: str, serial: int) -> str:
    lines = [_soa(zone, serial)]
    for name, ip in t.HOSTS.items():
        if name == t.IMAP_NAME:
            continue  # one PTR per address: the MX name for the MX address
        if ip.startswith(prefix):
            lines.append(f"{ip.rsplit('.', 1)[1]} IN PTR {name}.\n")
    return "".join(lines)


def zones(dkim_public_key_b64: str, serial: int | None = None) -> dict[str, str]:
    """Zone file name -> text, for every lab zone."""
    serial = serial or int(time.time())
    dkim = f"v=DKIM1; k=rsa; p={dkim_public_key_b64}"
    out = {
        "lab.test": _soa("lab.test", serial)
        + f"ns IN A {t.NS_IP}\nclient IN A {t.CLIENT_IP}\n",
        "platform.test": _soa("platform.test", serial)
        + f"mail IN A {t.PLATFORM_IP}\n"
        + f"mail IN TXT {_txt('v=spf1 a -all')}\n",
        "mydomain.test": _soa("mydomain.test", serial)
        + f"@ IN MX 10 {t.PLATFORM_NAME}.\n"
        + f"@ IN TXT {_txt(f'v=spf1 a:{t.PLATFORM_NAME} include:{t.RELAY_DOMAIN} -all')}\n"
        + f"_dmarc IN TXT {_txt('v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc@mydomain.test')}\n",
        "relay.test": _soa("relay.test", serial)
        + f"smtp IN A {t.RELAY_IP}\n"
        + f"out IN A {t.RELAY_EGRESS_IP}\n"
        + f"out IN TXT {_txt('v=spf1 a -all')}\n"
        + f"smtp IN TXT {_txt('v=spf1 a -all')}\n"
        + f"@ IN TXT {_txt(f'v=spf1 ip4:{t.RELAY_EGRESS_IP} -all')}\n"
        + f"@ IN MX 10 {t.RELAY_EGRESS_NAME}.\n"
        + f"bounce IN MX 10 {t.RELAY_EGRESS_NAME}.\n"
        + f"bounce IN TXT {_txt(f'v=spf1 ip4:{t.RELAY_EGRESS_IP} -all')}\n"
        + f"{t.DKIM_SELECTOR}._domainkey IN TXT {_txt(dkim)}\n"
        + f"_dmarc IN TXT {_txt('v=DMARC1; p=none')}\n",
        "guides.test": _soa("guides.test", serial)
        + f"@ IN MX 10 {t.MX_NAME}.\n"
        + f"mx IN A {t.MX_IP}\n"
        + f"imap IN A {t.MX_IP}\n"
        + f"mx IN TXT {_txt('v=spf1 a -all')}\n"
        + f"@ IN TXT {_txt('v=spf1 -all')}\n"
        + f"_dmarc IN TXT {_txt('v=DMARC1; p=reject')}\n",
        "100.51.198.in-addr.arpa": _ptr_zone("100.51.198.in-addr.arpa", "198.51.100.", serial),
        "113.0.203.in-addr.arpa": _ptr_zone("113.0.203.in-addr.arpa", "203.0.113.", serial),
    }
    assert set(out) == set(t.ZONES)
    return out


def nsd_conf(lay: Layout) -> str:
    d = lay.nsd
    zones_part = "".join(f"zone:\n    name: \"{z}\"\n    zonefile: \"{z}.zone\"\n" for z in t.ZONES)
    return (
        "server:\n"
        f"    ip-address: {t.NS_IP}\n"
        "    port: 53\n"
        "    do-ip4: yes\n"
        "    do-ip6: no\n"
        "    server-count: 1\n"
        "    username: nsd\n"
        '    chroot: ""\n'
        '    database: ""\n'
        "    hide-version: yes\n"
        "    verbosity: 1\n"
        f'    zonesdir: "{d}"\n'
        f'    pidfile: "{d}/nsd.pid"\n'
        f'    logfile: "{lay.log}/nsd.log"\n'
        f'    zonelistfile: "{d}/zone.list"\n'
        f'    xfrdfile: "{d}/xfrd.state"\n'
        f'    xfrdir: "{d}/xfr"\n'
        "remote-control:\n"
        "    control-enable: no\n" + zones_part
    )


# --- Postfix ---------------------------------------------------------------------

MASTER_BASE = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _postfix_common(lay: Layout, name: str, hostname: str, ip: str, cert: str) -> str:
    d = lay.postfix(name)
    return textwrap.dedent(
        f"""\
        compatibility_level = 3.6
        queue_directory = {d}/queue
        data_directory = {d}/data
        mail_owner = postfix
        setgid_group = postdrop
        myhostname = {hostname}
        myorigin = $myhostname
        mydestination =
        local_transport = error:local delivery is disabled in the lab
        alias_maps =
        alias_database =
        local_recipient_maps =
        inet_interfaces = {ip}
        inet_protocols = ipv4
        smtp_bind_address = {ip}
        mynetworks = 127.0.0.0/8
        maillog_file = {lay.log}/postfix-{name}.log
        maillog_file_prefixes = {lay.root}
        syslog_name = postfix-{name}
        smtpd_banner = $myhostname ESMTP
        biff = no
        append_dot_mydomain = no
        readme_directory = no
        smtpd_tls_cert_file = {lay.tls}/{cert}.crt
        smtpd_tls_key_file = {lay.tls}/{cert}.key
        smtpd_tls_security_level = may
        smtpd_tls_received_header = yes
        smtpd_tls_loglevel = 1
        smtp_tls_CAfile = {lay.ca_file}
        smtp_tls_security_level = may
        smtp_tls_loglevel = 1
        smtp_connect_timeout = 5s
        minimal_backoff_time = 15s
        maximal_backoff_time = 60s
        queue_run_delay = 15s
        delay_warning_time = 0
        """
    )


def merge_main(text: str) -> str:
    """Keep one line per parameter (the last value wins, in the place of the first)."""
    order: list[str] = []
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key not in values:
            order.append(key)
        values[key] = value.strip()
    return "".join(f"{k} = {values[k]}\n" for k in order)


def postfix_platform(lay: Layout) -> tuple[str, str]:
    maps = lay.platform_maps
    main = _postfix_common(lay, "platform", t.PLATFORM_NAME, t.PLATFORM_IP, "platform") + textwrap.dedent(
        f"""\
        # Submission (587): STARTTLS, then SASL AUTH against the lab's Dovecot.
        smtpd_tls_security_level = encrypt
        smtpd_tls_auth_only = yes
        smtpd_sasl_auth_enable = yes
        smtpd_sasl_type = dovecot
        smtpd_sasl_path = {lay.dovecot_base}/auth-postfix
        smtpd_sasl_security_options = noanonymous
        smtpd_client_restrictions = permit_sasl_authenticated, reject
        smtpd_relay_restrictions = permit_sasl_authenticated, reject
        smtpd_recipient_restrictions = permit_sasl_authenticated, reject
        smtpd_sender_restrictions = reject_sender_login_mismatch
        smtpd_sender_login_maps = texthash:{maps}/sender_login
        # Outbound: direct by MX, except for the senders the OVH API attaches to a
        # send connector (maps written by verifier.lab.postfix_maps).
        sender_dependent_relayhost_maps = texthash:{maps}/sender_relay
        smtp_sasl_auth_enable = yes
        smtp_sender_dependent_authentication = yes
        smtp_sasl_password_maps = texthash:{maps}/sasl_passwd
        smtp_sasl_security_options = noanonymous
        smtp_sasl_tls_security_options = noanonymous
        smtp_tls_policy_maps = texthash:{maps}/tls_policy
        # A new session (and AUTH) for every message, so a changed route or password shows at once.
        smtp_connection_cache_on_demand = no
        """
    )
    master = f"{t.PLATFORM_IP}:{t.SUBMISSION_PORT} inet n - n - - smtpd\n" + MASTER_BASE
    return merge_main(main), master


def postfix_relay(lay: Layout) -> tuple[str, str]:
    main = _postfix_common(lay, "relay", t.RELAY_NAME, t.RELAY_IP, "relay") + textwrap.dedent(
        f"""\
        # Mail leaves from the egress address, under the egress name.
        smtp_bind_address = {t.RELAY_EGRESS_IP}
        smtp_helo_name = {t.RELAY_EGRESS_NAME}
        # AUTH only over STARTTLS.
        smtpd_tls_security_level = encrypt
        smtpd_tls_auth_only = yes
        smtpd_sasl_auth_enable = yes
        smtpd_sasl_type = dovecot
        smtpd_sasl_path = {lay.dovecot_base}/auth-postfix
        smtpd_sasl_security_options = noanonymous
        smtpd_client_restrictions = permit_sasl_authenticated, reject
        smtpd_relay_restrictions = permit_sasl_authenticated, reject
        smtpd_recipient_restrictions = permit_sasl_authenticated, reject
        # The envelope sender becomes an address of the relay's bounce domain.
        canonical_classes = envelope_sender
        sender_canonical_maps = regexp:{lay.postfix('relay')}/bounce_rewrite
        # DKIM signing, d={t.RELAY_DOMAIN}.
        smtpd_milters = inet:127.0.0.1:{t.DKIM_SIGN_PORT}
        non_smtpd_milters =
        milter_default_action = tempfail
        """
    )
    master = f"{t.RELAY_IP}:{t.RELAY_PORT} inet n - n - - smtpd\n" + MASTER_BASE
    return merge_main(main), master


def relay_bounce_rewrite() -> str:
    # Canonical mapping is applied again to its own result: leave rewritten addresses alone.
    domain = t.RELAY_BOUNCE_DOMAIN.replace(".", r"\.")
    return (
        f"if !/@{domain}$/\n"
        f"/^([^@]+)@([^@]+)$/ bounce+${{1}}=${{2}}@{t.RELAY_BOUNCE_DOMAIN}\n"
        "endif\n"
    )


def postfix_mx(lay: Layout) -> tuple[str, str]:
    d = lay.postfix("mx")
    main = _postfix_common(lay, "mx", t.MX_NAME, t.MX_IP, "mx") + textwrap.dedent(
        f"""\
        virtual_mailbox_domains = {t.RECIPIENT_DOMAIN}
        virtual_mailbox_maps = texthash:{d}/vmailbox
        virtual_transport = lmtp:unix:{lay.dovecot_base}/lmtp
        smtpd_helo_required = yes
        smtpd_relay_restrictions = reject_unauth_destination
        smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:private/policyd-spf
        policyd-spf_time_limit = 3600
        smtpd_milters = inet:127.0.0.1:{t.DKIM_VERIFY_PORT}
        non_smtpd_milters =
        milter_default_action = tempfail
        header_checks = regexp:{d}/header_checks
        """
    )
    master = (
        f"{t.MX_IP}:25 inet n - n - - smtpd\n"
        + MASTER_BASE
        + f"policyd-spf unix - n n - 0 spawn user=nobody argv=/usr/bin/policyd-spf {d}/policyd-spf.conf\n"
    )
    return merge_main(main), master


def mx_header_checks() -> str:
    trigger = t.SPAM_TRIGGER.replace("[", r"\[").replace("]", r"\]")
    return f"/^Subject:.*{trigger}/ PREPEND X-Spam-Flag: YES\n"


def policyd_spf_conf() -> str:
    return textwrap.dedent(
        """\
        debugLevel = 1
        TestOnly = 1
        HELO_reject = Fail
        Mail_From_reject = Fail
        PermError_reject = False
        TempError_Defer = False
        skip_addresses = 127.0.0.0/8
        Header_Type = SPF
        """
    )


# --- OpenDKIM --------------------------------------------------------------------


def opendkim_sign(lay: Layout, key_file: Path) -> dict[str, str]:
    d = lay.opendkim
    return {
        "sign.conf": textwrap.dedent(
            f"""\
            Mode s
            Socket inet:{t.DKIM_SIGN_PORT}@127.0.0.1
            UserID opendkim:opendkim
            PidFile {d}/sign.pid
            Syslog yes
            SyslogSuccess yes
            LogWhy yes
            SoftwareHeader no
            Canonicalization relaxed/relaxed
            SignatureAlgorithm rsa-sha256
            OversignHeaders From
            KeyTable file:{d}/keytable
            SigningTable refile:{d}/signingtable
            InternalHosts 127.0.0.1, {t.PLATFORM_IP}/32
            RequireSafeKeys false
            """
        ),
        "keytable": f"{t.DKIM_SELECTOR}._domainkey.{t.RELAY_DOMAIN} "
        f"{t.RELAY_DOMAIN}:{t.DKIM_SELECTOR}:{key_file}\n",
        "signingtable": f"* {t.DKIM_SELECTOR}._domainkey.{t.RELAY_DOMAIN}\n",
    }


def opendkim_verify(lay: Layout) -> dict[str, str]:
    d = lay.opendkim
    return {
        "verify.conf": textwrap.dedent(
            f"""\
            Mode v
            Socket inet:{t.DKIM_VERIFY_PORT}@127.0.0.1
            UserID opendkim:opendkim
            PidFile {d}/verify.pid
            Syslog yes
            LogWhy yes
            SoftwareHeader no
            AuthservID {t.MX_NAME}
            AlwaysAddARHeader yes
            InternalHosts 127.0.0.1
            ResolverConfiguration {d}/unbound.conf
            """
        ),
        # Debian's OpenDKIM resolves through libunbound, which answers NXDOMAIN for
        # test. and the TEST-NET reverse zones unless told otherwise.
        "unbound.conf": textwrap.dedent(
            f"""\
            server:
                do-ip6: no
                do-not-query-localhost: no
                module-config: "iterator"
                cache-max-ttl: 0
                cache-max-negative-ttl: 0
                local-zone: "test." nodefault
                local-zone: "100.51.198.in-addr.arpa." nodefault
                local-zone: "113.0.203.in-addr.arpa." nodefault
            forward-zone:
                name: "."
                forward-addr: {t.NS_IP}
            """
        ),
    }


# --- Dovecot ---------------------------------------------------------------------


def dovecot_conf(lay: Layout) -> str:
    dv = lay.dovecot
    return textwrap.dedent(
        f"""\
        instance_name = verifier-lab
        base_dir = {lay.dovecot_base}
        state_dir = {dv}/state
        log_path = {lay.log}/dovecot.log
        protocols = imap lmtp
        listen = {t.MX_IP}
        hostname = {t.MX_NAME}
        ssl = yes
        ssl_cert = <{lay.tls}/mx.crt
        ssl_key = <{lay.tls}/mx.key
        ssl_dh = </usr/share/dovecot/dh.pem
        ssl_min_protocol = TLSv1.2
        disable_plaintext_auth = yes
        auth_mechanisms = plain login
        first_valid_uid = 8
        mail_uid = mail
        mail_gid = mail
        mail_location = maildir:~/Maildir
        namespace inbox {{
          inbox = yes
          separator = /
          mailbox Junk {{
            special_use = \\Junk
            auto = subscribe
          }}
        }}
        passdb {{
          driver = passwd-file
          args = scheme=SSHA512 {dv}/passwd.%{{lip}}
        }}
        userdb {{
          driver = passwd-file
          args = {dv}/users
          default_fields = uid=mail gid=mail home={lay.mail}/%d/%n
        }}
        service auth {{
          unix_listener auth-postfix {{
            user = postfix
            group = postfix
            mode = 0660
          }}
        }}
        service lmtp {{
          unix_listener lmtp {{
            user = postfix
            group = postfix
            mode = 0660
          }}
        }}
        service imap-login {{
          inet_listener imap {{
            port = {t.IMAP_PORT}
          }}
          inet_listener imaps {{
            port = {t.IMAPS_PORT}
            ssl = yes
          }}
        }}
        protocol lmtp {{
          postmaster_address = postmaster@{t.RECIPIENT_DOMAIN}
          mail_plugins = $mail_plugins sieve
        }}
        plugin {{
          sieve_before = {dv}/sieve/spam.sieve
        }}
        !include_try {dv}/faults.conf
        """
    )


def spam_sieve() -> str:
    return textwrap.dedent(
        """\
        require ["fileinto", "mailbox"];
        if header :is "X-Spam-Flag" "YES" {
          fileinto :create "Junk";
          stop;
        }
        """
    )


# Post-login capabilities without IDLE (the "imap-no-idle" fault).
NO_IDLE_CAPABILITY = "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UIDPLUS CHILDREN\n"
