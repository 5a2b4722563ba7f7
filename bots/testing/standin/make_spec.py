"""Generate ``botapi-methods.json`` for the Bot API stand-in from the scraped API spec.

The stand-in must never read ``/work/shared`` at run time, so this script copies the parts it
needs (every method with its fields' ``types`` and ``required`` flags and its return types, plus
the names of all object types, which tell which fields travel JSON-encoded) next to the package.

Run it by hand when the spec changes::

    .venv/bin/python -m bots.testing.standin.make_spec [/path/to/api.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/work/shared/telegram-bot-api/api.json")
TARGET = Path(__file__).with_name("botapi-methods.json")
LICENCE = "Derived from PaulSonOfLars/telegram-bot-api-spec, MIT licence, Copyright (c) 2020 Paul Larsen"


def build(source: dict[str, Any]) -> dict[str, Any]:
    """Reduce the full spec to the method table the stand-in loads."""
    methods: dict[str, Any] = {}
    for name in sorted(source["methods"]):
        method = source["methods"][name]
        methods[name] = {
            "returns": list(method.get("returns", [])),
            "fields": {
                field["name"]: {"types": list(field["types"]), "required": bool(field["required"])}
                for field in method.get("fields", [])
            },
        }
    update_fields = [f["name"] for f in source["types"]["Update"]["fields"] if f["name"] != "update_id"]
    return {
        "licence": LICENCE,
        "version": source["version"],
        "release_date": source.get("release_date", ""),
        "methods": methods,
        "object_types": sorted(source["types"]),
        "update_types": update_fields,
    }


def main(argv: list[str] | None = None) -> int:
    """Read the source spec (first argument or the shared default) and write the table."""
    args = sys.argv[1:] if argv is None else argv
    src = Path(args[0]) if args else DEFAULT_SOURCE
    data = build(json.loads(src.read_text(encoding="utf-8")))
    TARGET.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({len(data['methods'])} methods, {data['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
