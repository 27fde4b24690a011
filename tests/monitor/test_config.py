from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from verifier.errors import ConfigError
from verifier.monitor.config import config_from_dict, load_config, parse_listen

from .support import PROFILE, write_config


def _cfg(**monitor) -> dict:
    return {"monitor": monitor, "target": [{"name": "t", "probe": PROFILE}]}


def test_defaults_and_inline_target(tmp_path: Path) -> None:
    cfg = load_config(str(write_config(tmp_path)))
    t = cfg.targets[0]
    assert t.name == "lab" and t.profile.name == "lab" and t.source == "inline"
    assert cfg.listen_host == "127.0.0.1" and cfg.concurrency == 4
    assert cfg.alerting.failures == 3 and cfg.alerting.webhooks == ()
    assert config_from_dict(_cfg()).targets[0].interval == 300.0


def test_email_address_is_where_to_connect_and_host_what_tls_checks() -> None:
    cfg = config_from_dict({**_cfg(), "alerts": {"email": {
        "host": "smtp.example.net", "address": "192.0.2.25", "from": "a@example.net", "to": ["b@example.net"]}}})
    e = cfg.alerting.email
    assert e is not None and (e.host, e.address, e.port, e.tls) == ("smtp.example.net", "192.0.2.25", 587, "starttls")
    plain = config_from_dict({**_cfg(), "alerts": {"email": {"host": "h", "from": "a@b", "to": ["c@d"]}}})
    assert plain.alerting.email is not None and plain.alerting.email.address is None


def test_profile_by_path_is_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(tomli_w.dumps(PROFILE))
    (tmp_path / "m.toml").write_text(tomli_w.dumps({"target": [{"name": "a", "profile": "p.toml", "interval": 90}]}))
    cfg = load_config(str(tmp_path / "m.toml"))
    assert cfg.targets[0].source == str(tmp_path / "p.toml") and cfg.targets[0].interval == 90
    assert cfg.history == str(tmp_path / "verifier-monitor.sqlite")


@pytest.mark.parametrize("data, words", [
    ({"target": []}, "at least one"),
    (_cfg(listen="nowhere"), "HOST:PORT"),
    (_cfg(concurrency=0), "concurrency"),
    (_cfg(jitter=0.9), "jitter"),
    (_cfg(interval=-1), "positive"),
    ({"target": [{"name": "a", "probe": PROFILE}, {"name": "a", "probe": PROFILE}]}, "twice"),
    ({"target": [{"name": "a"}]}, "either 'profile'"),
    ({"target": [{"name": "a\"b", "probe": PROFILE}]}, "without quotes"),
    ({"target": [{"name": "a", "probe": PROFILE, "interval": 10}]}, "shorter than the probe's delivery timeout"),
    ({**_cfg(), "alerts": {"webhook": [{"url": "http://x", "token": "s3cret"}]}}, "literal token"),
    ({**_cfg(), "alerts": {"webhook": [{"url": "ftp://x"}]}}, "http://"),
    ({**_cfg(), "alerts": {"email": {"host": "h", "from": "a@b", "to": ["c@d"], "password": "x"}}}, "literal password"),
    ({**_cfg(), "alerts": {"email": {"host": "h", "from": "a@b", "to": ["c@d"], "tls": "implicit",
                                     "address": "192.0.2.1"}}}, "address works with tls = starttls or none"),
    ({**_cfg(), "alerts": {"failures": 0}}, "failures"),
    ({"target": [{"name": "a", "probe": {**PROFILE, "recipient": {**PROFILE["recipient"], "password": "x"}}}]}, "literal password"),
])
def test_bad_configs_say_why_in_one_sentence(data: dict, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert words in str(err.value)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "none.toml"))
    (tmp_path / "bad.toml").write_text("[monitor\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(tmp_path / "bad.toml"))


def test_parse_listen() -> None:
    assert parse_listen("[::1]:9477") == ("::1", 9477)
    with pytest.raises(ConfigError):
        parse_listen("127.0.0.1:99999")
