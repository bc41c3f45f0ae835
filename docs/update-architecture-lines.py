#!/usr/bin/env python3
"""Refreshes the `file.rs:LINE` references of ARCHITECTURE.md after the code has moved.

A reference is written  `NAME` (`path/to/file.rs:LINE`)  (a line break may come before the
parenthesis), where NAME is either
  - an item path such as `Inner::turn`, `sys::read` or `trace_step!`: the line must define the
    last segment (`fn turn`, `struct ...`, `trait ...`, `macro_rules! trace_step`, ...); or
  - a piece of code such as `self.shared.poller.wait(`: the line must contain it.
tests/tests/architecture.rs checks the same rule (`cargo test -p tests --test architecture`).

For each reference that no longer holds, the script looks in the file for the lines that do,
prefers, for `Type::item`, a definition inside an `impl`/`trait` block that names `Type`, and
takes the one nearest to the old line number. It rewrites ARCHITECTURE.md in place and prints
what it changed; a reference it cannot resolve is reported and left alone (exit status 1).

    python3 docs/update-architecture-lines.py            # fix ARCHITECTURE.md
    python3 docs/update-architecture-lines.py --check    # only report (exit 1 if stale)
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "ARCHITECTURE.md")
REF = re.compile(r"`([^`\n]+)`(\s+)\(`([\w./-]+\.rs):(\d+)`\)")
ITEM_PATH = re.compile(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*(?:\(\)|!)?")
KEYWORDS = ("fn", "struct", "enum", "trait", "type", "const", "static", "mod", "macro_rules!")


def item_of(name):
    """(qualifier or None, item) for an item path, or None for a piece of code."""
    if not ITEM_PATH.fullmatch(name):
        return None
    parts = name.rstrip("()!").split("::")
    return (parts[-2] if len(parts) > 1 else None, parts[-1])


def defines(line, item):
    """Whether `line` defines `item` (`fn item`, `struct item`, `macro_rules! item`, ...)."""
    return any(
        re.search(r"(?:^|[^\w])" + re.escape(k) + r"\s+" + re.escape(item) + r"(?![\w])", line)
        for k in KEYWORDS
    )


def holds(name, line):
    item = item_of(name)
    return defines(line, item[1]) if item else name in line


def enclosing_block(lines, i):
    """The nearest `impl ...` / `trait ...` line at or above index i (or '')."""
    for j in range(i, -1, -1):
        if re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?(?:impl\b|trait\b)", lines[j]):
            return lines[j]
    return ""


def candidates(name, lines):
    """Line numbers (1-based) where `name` holds, the preferred ones first as a separate list."""
    hits = [i for i, l in enumerate(lines) if holds(name, l)]
    item = item_of(name)
    if item and item[0]:
        qualified = [i for i in hits if re.search(r"\b" + re.escape(item[0]) + r"\b", enclosing_block(lines, i))]
        if qualified:
            hits = qualified
    return [i + 1 for i in hits]


def main():
    check_only = "--check" in sys.argv[1:]
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    cache = {}
    changes, failures = [], []

    def fix(m):
        name, space, path, line_no = m.group(1), m.group(2), m.group(3), int(m.group(4))
        full = os.path.join(ROOT, path)
        if full not in cache:
            try:
                with open(full, encoding="utf-8") as f:
                    cache[full] = f.read().split("\n")
            except OSError as e:
                cache[full] = None
                failures.append(f"{path}: {e}")
        lines = cache[full]
        if lines is None:
            return m.group(0)
        if 1 <= line_no <= len(lines) and holds(name, lines[line_no - 1]):
            return m.group(0)
        found = candidates(name, lines)
        if not found:
            failures.append(f"`{name}` ({path}:{line_no}): not found in {path}")
            return m.group(0)
        best = min(found, key=lambda n: abs(n - line_no))
        changes.append(f"`{name}`: {path}:{line_no} -> {best}")
        return f"`{name}`{space}(`{path}:{best}`)"

    new = REF.sub(fix, doc)
    refs = len(REF.findall(doc))
    for c in changes:
        print(("stale: " if check_only else "fixed: ") + c)
    for f in failures:
        print("UNRESOLVED: " + f, file=sys.stderr)
    if not check_only and new != doc:
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(new)
    print(f"{refs} references, {len(changes)} {'stale' if check_only else 'updated'}, {len(failures)} unresolved")
    return 1 if failures or (check_only and changes) else 0


if __name__ == "__main__":
    sys.exit(main())
