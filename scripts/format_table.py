"""Rewrite README.md's format table (between <!-- formats:start --> and <!-- formats:end -->) from the registry.

Usage: python scripts/format_table.py [README.md]   (exit 1 with --check when the table is stale)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

START, END = "<!-- formats:start -->", "<!-- formats:end -->"


def rewrite(text: str, table: str) -> str:
    pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"no {START} ... {END} markers found")
    return pattern.sub(lambda _: f"{START}\n{table}{END}", text, count=1)


def main(argv: list[str]) -> int:
    from nwbconvert.readers.registry import markdown_table

    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    readme = Path(paths[0]) if paths else Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    new = rewrite(text, markdown_table())
    if check:
        return 0 if new == text else 1
    if new != text:
        readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
