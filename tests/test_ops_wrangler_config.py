"""scripts/wrangler_config.py: the wrangler.toml edits and the readers of
wrangler's output that the operations scripts rely on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import wrangler_config as wc

TOML = """\
name = "organized-gateway"
account_id = ""  # filled in by bootstrap

[[kv_namespaces]]
binding = "OTHER_KV"
id = "keep-me"

[[kv_namespaces]]
id = "local-gateway-kv"   # placeholder
binding = "GATEWAY_KV"
preview_id = "preview-stays"

[[d1_databases]]
binding = "DB"
database_name = "organized-gateway-db"
database_id = "local-organized-gateway-db"

[vars]
account_id = ""
"""
KV_ID = "0123456789abcdef0123456789abcdef"
D1_ID = "01234567-89ab-cdef-0123-456789abcdef"
WHOAMI = """\
Getting User settings...
👋 You are logged in with an OAuth Token, associated with the email a@b.c!
┌───────────────┬──────────────────────────────────┐
│ Account Name  │ Account ID                       │
├───────────────┼──────────────────────────────────┤
│ Ops Team      │ 89abcdef0123456789abcdef01234567 │
├───────────────┼──────────────────────────────────┤
│ Side Projects │ fedcba9876543210fedcba9876543210 │
└───────────────┴──────────────────────────────────┘
"""


def test_set_block_value_edits_only_the_block_with_the_binding() -> None:
    edited = wc.set_block_value(
        TOML, "kv_namespaces", ("binding", "GATEWAY_KV"), "id", KV_ID
    )

    config = tomllib.loads(edited)
    assert [ns["id"] for ns in config["kv_namespaces"]] == ["keep-me", KV_ID]
    assert config["kv_namespaces"][1]["preview_id"] == "preview-stays"


def test_set_block_value_keeps_the_comment_on_the_line() -> None:
    edited = wc.set_block_value(
        TOML, "kv_namespaces", ("binding", "GATEWAY_KV"), "id", KV_ID
    )

    assert f'id = "{KV_ID}"   # placeholder\n' in edited
    assert len(edited.splitlines()) == len(TOML.splitlines())


def test_set_block_value_fails_for_a_missing_block() -> None:
    with pytest.raises(wc.ConfigError, match="NOPE"):
        wc.set_block_value(TOML, "kv_namespaces", ("binding", "NOPE"), "id", KV_ID)


def test_set_account_id_fills_only_the_top_level_key() -> None:
    edited = wc.set_account_id(TOML, KV_ID)

    config = tomllib.loads(edited)
    assert config["account_id"] == KV_ID
    assert config["vars"]["account_id"] == ""


def test_set_account_id_leaves_a_set_account_alone() -> None:
    text = TOML.replace('account_id = ""  #', 'account_id = "mine"  #', 1)

    assert wc.set_account_id(text, KV_ID) == text


def test_find_in_list_skips_text_before_the_json() -> None:
    output = 'warning: something\n[\n  {"id": "x", "title": "t"}\n]\n'

    assert wc.find_in_list(output, "title", "t", "id") == "x"
    assert wc.find_in_list(output, "title", "other", "id") is None


def test_account_ids_reads_the_whoami_table() -> None:
    assert wc.account_ids(WHOAMI) == [
        "89abcdef0123456789abcdef01234567",
        "fedcba9876543210fedcba9876543210",
    ]


def test_missing_secrets_names_what_secret_list_lacks() -> None:
    output = '[\n  {\n    "name": "AUTH_MODE",\n    "type": "secret_text"\n  }\n]'

    assert wc.missing_secrets(output, ["OPENCLAW_URL", "AUTH_MODE"]) == ["OPENCLAW_URL"]


@pytest.mark.parametrize(
    ("value", "kv", "d1"),
    [
        (KV_ID, True, False),
        (D1_ID, False, True),
        ("local-gateway-kv", False, False),
        ("", False, False),
        (KV_ID.upper(), False, False),
    ],
)
def test_id_shapes(value: str, kv: bool, d1: bool) -> None:
    assert (wc.is_kv_id(value), wc.is_d1_id(value)) == (kv, d1)


def test_results_table_lines_up_columns() -> None:
    output = '[{"results": [{"user_id": "ana", "n": 12}, {"user_id": "b", "n": 3}]}]'

    assert wc.results_table(output).splitlines() == [
        "user_id  n",
        "ana      12",
        "b        3",
    ]


def test_set_ids_command_is_a_no_op_the_second_time(tmp_path: Path) -> None:
    toml = tmp_path / "wrangler.toml"
    toml.write_text(TOML)
    args = ["--config", str(toml), "set-ids", "--kv-id", KV_ID, "--d1-id", D1_ID]
    assert wc.main(args) == 0
    written, mtime = toml.read_text(), toml.stat().st_mtime_ns

    assert wc.main(args) == 0

    assert toml.read_text() == written
    assert toml.stat().st_mtime_ns == mtime


def test_set_ids_command_refuses_ids_that_are_not_real(tmp_path: Path) -> None:
    toml = tmp_path / "wrangler.toml"
    toml.write_text(TOML)

    status = wc.main(["--config", str(toml), "set-ids", "--kv-id", "x", "--d1-id", "y"])

    assert status == 2
    assert toml.read_text() == TOML
