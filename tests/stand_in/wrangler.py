#!/usr/bin/env python3
"""A stand-in for wrangler 3.68.0's account commands, for offline tests.

It prints what the pinned wrangler prints (read from its source,
wrangler-dist/cli.js: JSON lists with the same indentation, the same banner,
create messages and whoami table) and keeps a fake account in a JSON file.

Environment:
- STANDIN_STATE: JSON file with the account: {"logged_in", "accounts",
  "kv": [{"id", "title"}], "d1": [{"uuid", "name"}], "secrets": [names],
  "migrations_applied": [files], "kv_values": {key: value}}.
- STANDIN_CALLS: file that gets one JSON line per call: {"argv": [...]}.
- STANDIN_DEPLOY_URL: the workers.dev URL `deploy` reports (none if unset).
"""

import json
import os
import re
import sys
import tomllib
import uuid
from pathlib import Path

VALUED_OPTIONS = (
    "--config",
    "-c",
    "--persist-to",
    "--path",
    "--binding",
    "--command",
    "--name",
    "--outdir",
)
BANNER = "\n \u26c5\ufe0f wrangler 3.68.0\n-------------------\n"


def load_state():
    path = Path(os.environ["STANDIN_STATE"])
    state = json.loads(path.read_text()) if path.exists() else {}
    state.setdefault("logged_in", True)
    state.setdefault("accounts", [["Ops Team", "0123456789abcdef0123456789abcdef"]])
    for key in ("kv", "d1", "secrets", "migrations_applied"):
        state.setdefault(key, [])
    state.setdefault("kv_values", {})
    return state


def save_state(state):
    Path(os.environ["STANDIN_STATE"]).write_text(json.dumps(state, indent=2))


def option(argv, name):
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def config(argv):
    path = option(argv, "--config") or option(argv, "-c") or "wrangler.toml"
    return tomllib.loads(Path(path).read_text())


def positionals(argv):
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def table(rows):
    """Draw rows the way cli-table3 does for wrangler (no colour)."""
    head = list(rows[0])
    widths = [max(len(str(cell)) for cell in [k] + [r[k] for r in rows]) for k in head]

    def rule(left, mid, right):
        return left + mid.join("─" * (width + 2) for width in widths) + right

    def row(values):
        cells = [f" {str(v).ljust(widths[i])} " for i, v in enumerate(values)]
        return "│" + "│".join(cells) + "│"

    out = [rule("┌", "┬", "┐"), row(head)]
    for item in rows:
        out += [rule("├", "┼", "┤"), row([item[k] for k in head])]
    out.append(rule("└", "┴", "┘"))
    return "\n".join(out)


def whoami(argv, state):
    print("Getting User settings...")
    if not state["logged_in"]:
        print("You are not authenticated. Please run `wrangler login`.")
        return 0
    print(
        "\U0001f44b You are logged in with an OAuth Token, associated with "
        "the email ops@example.com!"
    )
    accounts = [{"Account Name": n, "Account ID": i} for n, i in state["accounts"]]
    print(table(accounts))
    print(
        "\U0001f513 Token Permissions: If scopes are missing, you may need "
        "to logout and re-login."
    )
    print("Scope (Access)")
    print("- account (read)")
    return 0


def require_login(state):
    if state["logged_in"]:
        return True
    print(
        "\u2718 [ERROR] In a non-interactive environment, it's necessary to set "
        "a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.",
        file=sys.stderr,
    )
    return False


def kv_namespace(argv, state, words):
    if not require_login(state):
        return 1
    if words[2] == "list":
        listed = [{**ns, "supports_url_encoding": True} for ns in state["kv"]]
        print(json.dumps(listed, indent=2))
        return 0
    title = f"{config(argv)['name']}-{words[3]}"
    print(BANNER)
    print(f'\U0001f300 Creating namespace with title "{title}"')
    new_id = uuid.uuid4().hex
    state["kv"].append({"id": new_id, "title": title})
    print("\u2728 Success!")
    print("Add the following to your configuration file in your kv_namespaces array:")
    print("[[kv_namespaces]]")
    print(f'binding = "{words[3]}"')
    print(f'id = "{new_id}"')
    return 0


def d1(argv, state, words):
    if not require_login(state):
        return 1
    if words[1] == "list":
        listed = [
            {**db, "created_at": "2026-01-01T00:00:00.000Z", "version": "production"}
            for db in state["d1"]
        ]
        print(json.dumps(listed, indent=2))
        return 0
    if words[1] == "create":
        new_id = str(uuid.uuid4())
        state["d1"].append({"uuid": new_id, "name": words[2]})
        print(BANNER)
        print(f"\u2705 Successfully created DB '{words[2]}' in region WEUR")
        print("Created your new D1 database.\n\u00a0")
        print("[[d1_databases]]")
        print('binding = "DB" # i.e. available in your Worker on env.DB')
        print(f'database_name = "{words[2]}"')
        print(f'database_id = "{new_id}"')
        return 0
    if words[1] == "execute":
        print(json.dumps([{"results": [], "success": True, "meta": {}}], indent=2))
        return 0
    return d1_migrations(argv, state)


def d1_migrations(argv, state):
    folder = Path(option(argv, "--config")).parent / "migrations"
    pending = sorted(
        p.name
        for p in folder.glob("*.sql")
        if p.name not in state["migrations_applied"]
    )
    print(BANNER)
    if not pending:
        print("\u2705 No migrations to apply!")
        return 0
    state["migrations_applied"] += pending
    print(table([{"name": name, "status": "\u2705"} for name in pending]))
    return 0


def secret_list(argv, state):
    if not require_login(state):
        return 1
    listed = [{"name": name, "type": "secret_text"} for name in state["secrets"]]
    print(json.dumps(listed, indent="  "))
    return 0


def kv_key_put(argv, state, words):
    print(BANNER)
    path = option(argv, "--path")
    value = Path(path).read_text() if path else words[4]
    state["kv_values"][words[3]] = value
    print(f'Writing the contents of {path} to the key "{words[3]}" on namespace x.')
    return 0


def deploy(argv, state):
    print(BANNER)
    print("Total Upload: 36.25 KiB / gzip: 11.45 KiB")
    print(f"Uploaded {config(argv)['name']} (1.20 sec)")
    print(f"Published {config(argv)['name']} (0.30 sec)")
    if os.environ.get("STANDIN_DEPLOY_URL"):
        print(f"  {os.environ['STANDIN_DEPLOY_URL']}")
    print("Current Deployment ID: 00000000-0000-0000-0000-000000000000")
    return 0


def dispatch(argv, state):
    words = positionals(argv)
    if any(re.fullmatch(r"--commit-dirty(=.*)?", arg) for arg in argv):
        print("\u2718 [ERROR] Unknown arguments: commit-dirty", file=sys.stderr)
        return 1
    handlers = {
        ("whoami",): lambda: whoami(argv, state),
        ("kv", "namespace"): lambda: kv_namespace(argv, state, words),
        ("kv", "key"): lambda: kv_key_put(argv, state, words),
        ("d1",): lambda: d1(argv, state, words),
        ("secret", "list"): lambda: secret_list(argv, state),
        ("deploy",): lambda: deploy(argv, state),
    }
    for prefix, handler in handlers.items():
        if tuple(words[: len(prefix)]) == prefix:
            return handler()
    print(f"\u2718 [ERROR] stand-in has no command {words}", file=sys.stderr)
    return 1


def main():
    argv = sys.argv[1:]
    with open(os.environ["STANDIN_CALLS"], "a") as calls:
        calls.write(json.dumps({"argv": argv}) + "\n")
    state = load_state()
    status = dispatch(argv, state)
    save_state(state)
    return status


if __name__ == "__main__":
    sys.exit(main())
