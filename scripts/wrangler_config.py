"""Read and edit the gateway's wrangler.toml, and read wrangler's JSON output.

The operations scripts (bootstrap, deploy, provision_key, watch) call this module as a
small command line tool so that TOML and JSON are handled by parsers, not by
sed. Edits are line-based and touch one line each: the `id = "..."` line of the
`[[kv_namespaces]]` block with a given binding, the `database_id = "..."` line
of the `[[d1_databases]]` block with a given database name, and a top-level
`account_id = ""`. Comments, order and spacing elsewhere stay as they were.

Limits: a value must sit on the same line as its key, in a `[[table]]` block
written out in full (no inline tables); the gateway's wrangler.toml is written
that way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

KV_ID = re.compile(r"[0-9a-f]{32}")
D1_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEADER = re.compile(r"\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?")
_ACCOUNT_ROW = re.compile(r"^│.*│\s*([0-9a-f]{32})\s*│\s*$")


class ConfigError(Exception):
    """wrangler.toml does not have the shape the scripts expect."""


def is_kv_id(value: str | None) -> bool:
    """Tell whether a value looks like a real KV namespace id."""
    return bool(value) and KV_ID.fullmatch(value) is not None


def is_d1_id(value: str | None) -> bool:
    """Tell whether a value looks like a real D1 database id (a UUID)."""
    return bool(value) and D1_ID.fullmatch(value) is not None


def kv_namespace(config: dict, binding: str) -> dict:
    """Return the `[[kv_namespaces]]` entry with the given binding."""
    for entry in config.get("kv_namespaces", []):
        if entry.get("binding") == binding:
            return entry
    raise ConfigError(f"no [[kv_namespaces]] block with binding = {binding!r}")


def d1_database(config: dict, name: str) -> dict:
    """Return the `[[d1_databases]]` entry with the given database name."""
    for entry in config.get("d1_databases", []):
        if entry.get("database_name") == name:
            return entry
    raise ConfigError(f"no [[d1_databases]] block with database_name = {name!r}")


def set_block_value(
    text: str, table: str, selector: tuple[str, str], key: str, value: str
) -> str:
    """Return `text` with `key = "value"` set in the one matching block.

    `selector` is a (key, value) pair that names the block, for example
    ("binding", "GATEWAY_KV") inside `[[kv_namespaces]]`.
    """
    lines = text.splitlines(keepends=True)
    block = _find_block(lines, table, selector)
    setting = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)([\"'])[^\"']*\2(.*)$", re.S)
    for index in block:
        match = setting.match(lines[index])
        if match:
            lines[index] = f'{match.group(1)}"{value}"{match.group(3)}'
            return "".join(lines)
    raise ConfigError(f"the [[{table}]] block for {selector[1]!r} has no {key} line")


def set_account_id(text: str, account_id: str) -> str:
    """Return `text` with an empty top-level `account_id` filled in."""
    lines = text.splitlines(keepends=True)
    setting = re.compile(r"^(\s*account_id\s*=\s*)\"\"(.*)$", re.S)
    for index, line in enumerate(lines):
        if _HEADER.fullmatch(line.rstrip("\n")):
            break
        match = setting.match(line)
        if match:
            lines[index] = f'{match.group(1)}"{account_id}"{match.group(2)}'
            break
    return "".join(lines)


def _find_block(lines: list[str], table: str, selector: tuple[str, str]) -> range:
    wanted = re.compile(rf"^\s*{re.escape(selector[0])}\s*=\s*([\"']){selector[1]}\1")
    start = None
    for index, line in enumerate([*lines, "[end]\n"]):
        header = _HEADER.fullmatch(line.rstrip("\n"))
        if header and start is not None:
            block = range(start, index)
            if any(wanted.match(lines[i]) for i in block):
                return block
            start = None
        if header and header.group(1) == table and line.lstrip().startswith("[["):
            start = index + 1
    raise ConfigError(f"no [[{table}]] block with {selector[0]} = {selector[1]!r}")


def find_in_list(output: str, field: str, wanted: str, id_field: str) -> str | None:
    """Return the id of the entry whose `field` equals `wanted` in a JSON list.

    `output` is what `wrangler kv namespace list` or `wrangler d1 list --json`
    printed; anything before the JSON array is ignored.
    """
    start = output.find("[")
    if start < 0:
        raise ConfigError("wrangler printed no JSON list")
    entries, _ = json.JSONDecoder().raw_decode(output[start:])
    for entry in entries:
        if entry.get(field) == wanted:
            return str(entry[id_field])
    return None


def account_ids(whoami_output: str) -> list[str]:
    """Return the account ids in the table `wrangler whoami` prints."""
    found = []
    for line in whoami_output.splitlines():
        match = _ACCOUNT_ROW.match(line.strip())
        if match:
            found.append(match.group(1))
    return found


def missing_secrets(output: str, required: list[str]) -> list[str]:
    """Return the required secret names absent from `wrangler secret list`."""
    start = output.find("[")
    if start < 0:
        raise ConfigError("wrangler printed no JSON list")
    entries, _ = json.JSONDecoder().raw_decode(output[start:])
    present = {entry.get("name") for entry in entries}
    return [name for name in required if name not in present]


def results_table(output: str) -> str:
    """Render the rows of `wrangler d1 execute --json` output as text columns."""
    start = output.find("[")
    if start < 0:
        raise ConfigError("wrangler printed no JSON list")
    batches, _ = json.JSONDecoder().raw_decode(output[start:])
    rows = [row for batch in batches for row in batch.get("results", [])]
    if not rows:
        return "(no rows)"
    head = list(rows[0])
    cells = [head] + [["" if r[k] is None else str(r[k]) for k in head] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in cells
    )


def write_if_changed(path: Path, text: str) -> bool:
    """Replace the file atomically when its text differs; tell whether it did."""
    if path.read_text() == text:
        return False
    tomllib.loads(text)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".wrangler.toml.")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.chmod(temp, path.stat().st_mode & 0o777)
    os.replace(temp, path)
    return True


def _command_get(args: argparse.Namespace, config: dict) -> int:
    values = {
        "name": lambda: config.get("name", ""),
        "account_id": lambda: config.get("account_id", ""),
        "kv-id": lambda: kv_namespace(config, args.binding).get("id", ""),
        "d1-id": lambda: d1_database(config, args.database).get("database_id", ""),
    }
    print(values[args.field]())
    return 0


def _command_check_ids(args: argparse.Namespace, config: dict) -> int:
    problems = []
    kv_id = kv_namespace(config, args.binding).get("id", "")
    if not is_kv_id(kv_id):
        problems.append(f'KV {args.binding} id = "{kv_id}" is not a namespace id')
    d1_id = d1_database(config, args.database).get("database_id", "")
    if not is_d1_id(d1_id):
        problems.append(f'D1 {args.database} database_id = "{d1_id}" is not a UUID')
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _command_set_ids(args: argparse.Namespace, config: dict) -> int:
    if not is_kv_id(args.kv_id) or not is_d1_id(args.d1_id):
        raise ConfigError("refusing to write ids that do not look real")
    path = Path(args.config)
    text = path.read_text()
    text = set_block_value(
        text, "kv_namespaces", ("binding", args.binding), "id", args.kv_id
    )
    text = set_block_value(
        text,
        "d1_databases",
        ("database_name", args.database),
        "database_id",
        args.d1_id,
    )
    if args.account_id:
        text = set_account_id(text, args.account_id)
    changed = write_if_changed(path, text)
    print(f"{path}: {'updated' if changed else 'already up to date'}", file=sys.stderr)
    return 0


def _command_find(args: argparse.Namespace, config: dict) -> int:
    fields = {"kv": ("title", "id"), "d1": ("name", "uuid")}
    field, id_field = fields[args.kind]
    found = find_in_list(sys.stdin.read(), field, args.wanted, id_field)
    if found is None:
        return 1
    print(found)
    return 0


def _command_accounts(args: argparse.Namespace, config: dict) -> int:
    for account_id in account_ids(sys.stdin.read()):
        print(account_id)
    return 0


def _command_missing_secrets(args: argparse.Namespace, config: dict) -> int:
    for name in missing_secrets(sys.stdin.read(), args.names):
        print(name)
    return 0


def _command_table(args: argparse.Namespace, config: dict) -> int:
    print(results_table(sys.stdin.read()))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="wrangler.toml")
    parser.add_argument("--binding", default="GATEWAY_KV")
    parser.add_argument("--database", default="organized-gateway-db")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("get", help="print one setting")
    get.add_argument("field", choices=["name", "account_id", "kv-id", "d1-id"])
    get.set_defaults(run=_command_get)
    check = commands.add_parser("check-ids", help="fail on placeholder ids")
    check.set_defaults(run=_command_check_ids)
    set_ids = commands.add_parser("set-ids", help="write real ids")
    set_ids.add_argument("--kv-id", required=True)
    set_ids.add_argument("--d1-id", required=True)
    set_ids.add_argument("--account-id", default="")
    set_ids.set_defaults(run=_command_set_ids)
    find = commands.add_parser("find", help="find an id in wrangler's list")
    find.add_argument("kind", choices=["kv", "d1"])
    find.add_argument("wanted")
    find.set_defaults(run=_command_find)
    accounts = commands.add_parser("accounts", help="account ids from whoami")
    accounts.set_defaults(run=_command_accounts)
    secrets = commands.add_parser("missing-secrets", help="secrets not set")
    secrets.add_argument("names", nargs="+")
    secrets.set_defaults(run=_command_missing_secrets)
    rows = commands.add_parser("table", help="d1 execute --json as columns")
    rows.set_defaults(run=_command_table)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors print one line and return 2."""
    args = _parser().parse_args(argv)
    try:
        config = tomllib.loads(Path(args.config).read_text())
        return args.run(args, config)
    except (ConfigError, OSError, ValueError) as exc:
        print(f"wrangler_config: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
