"""The lab's fixed topology: names, documentation-range addresses, ports.

Every address is one of the lab namespace's own addresses (or the main-namespace
end of the veth pair, which stands in for the customer's machine). None of them is
in 192.0.2.0/24, which some hosts (and CI runners) use for their real network.
"""

from __future__ import annotations

NETNS = "verifier-lab"
VETH_MAIN = "vlab-main"  # in the main namespace
VETH_LAB = "vlab-lab"  # in the lab namespace

# The customer's machine: the main-namespace end of the veth pair.
CLIENT_IP = "198.51.100.100"
CLIENT_NAME = "client.lab.test"

NS_IP = "203.0.113.53"
NS_NAME = "ns.lab.test"

PLATFORM_IP = "198.51.100.10"
PLATFORM_NAME = "mail.platform.test"
SUBMISSION_PORT = 587

RELAY_IP = "198.51.100.20"  # where the platform connects (the connector's smartHost)
RELAY_NAME = "smtp.relay.test"
RELAY_EGRESS_IP = "198.51.100.21"  # where the relay's mail leaves from
RELAY_EGRESS_NAME = "out.relay.test"
RELAY_DOMAIN = "relay.test"
RELAY_BOUNCE_DOMAIN = "bounce.relay.test"
RELAY_PORT = 587
RELAY_USER = "platform-mydomain@relay.test"
DKIM_SELECTOR = "lab"

MX_IP = "203.0.113.25"
MX_NAME = "mx.guides.test"
IMAP_NAME = "imap.guides.test"
RECIPIENT_DOMAIN = "guides.test"
RECIPIENT = "john.smith@guides.test"
IMAP_PORT = 143
IMAPS_PORT = 993

SENDER_DOMAIN = "mydomain.test"
ATTACHED_SENDER = "newsletter@mydomain.test"
CONTROL_SENDER = "contact@mydomain.test"
PLATFORM_ACCOUNTS = (ATTACHED_SENDER, CONTROL_SENDER)

ORGANIZATION = "private-zz111111-1"
SERVICE = "private-zz111111-1"

# Addresses carried by the lab namespace's loopback.
LAB_ADDRESSES = (NS_IP, PLATFORM_IP, RELAY_IP, RELAY_EGRESS_IP, MX_IP)

# Milters, on the lab namespace's own 127.0.0.1.
DKIM_SIGN_PORT = 8891
DKIM_VERIFY_PORT = 8892

# A message whose Subject carries this tag is marked as spam by the MX.
SPAM_TRIGGER = "[LAB-SPAM]"

ZONES = (
    "lab.test",
    "platform.test",
    "mydomain.test",
    "relay.test",
    "guides.test",
    "100.51.198.in-addr.arpa",
    "113.0.203.in-addr.arpa",
)

HOSTS = {
    NS_NAME: NS_IP,
    CLIENT_NAME: CLIENT_IP,
    PLATFORM_NAME: PLATFORM_IP,
    RELAY_NAME: RELAY_IP,
    RELAY_EGRESS_NAME: RELAY_EGRESS_IP,
    MX_NAME: MX_IP,
    IMAP_NAME: MX_IP,
}
