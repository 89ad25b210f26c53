#!/usr/bin/env python3
"""tests/docs/check_docs.py --source DIR [--program PATH]...

Holds the reference to the code:
- every key of the key table in lib/config/config_keys.cpp is documented in its section in
  docs/configuration.md and in docs/man/oauth-fcgi.conf.5.md, and every key those
  pages list in a section's table or entries exists in the code (docs must be true:
  no key of a future issue);
- every flag each PATH --help prints appears in docs/man/oauth-fcgi.8.md.
Prints each problem and exits 1 when there is one.
"""
import argparse
import os
import re
import subprocess
import sys

SECTION_NAMES = {"server": "[server]", "redis": "[redis]", "session": "[session]", "http": "[http]",
                 "limits": "[limits]", "access": "[access]", "provider": "[provider NAME]",
                 "client": "[client NAME]"}


def config_keys(source):
    """{section: {key}} from the key table of lib/config/config_keys.cpp."""
    text = open(os.path.join(source, "lib", "config", "config_keys.cpp")).read()
    start = text.index("const std::vector<KeyDesc>& key_table() {")
    end = text.index("return table;", start)
    table = text[start:end]
    keys = {}
    for sec, key in re.findall(r'\{\s*Sec::(\w+),\s*"(\w+)"', table):
        keys.setdefault(sec, set()).add(key)
    return keys


def doc_sections(path):
    """{section: text} for each heading (## or #) naming a config section."""
    text = open(path).read()
    out = {}
    parts = re.split(r'^#{1,2} ', text, flags=re.M)
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        for sec, label in SECTION_NAMES.items():
            if title.strip() == label:
                out[sec] = body
    return out


def listed_keys(body):
    """Keys a section lists: table rows `| \`key\` |` and man entries `**key**` alone on a line."""
    rows = re.findall(r'^\|\s*`(\w+)`\s*\|', body, flags=re.M)
    entries = re.findall(r'^\*\*(\w+)\*\*\s*$', body, flags=re.M)
    return set(rows) | set(entries)


def word(key):
    return re.compile(r'(?<![A-Za-z0-9_])' + re.escape(key) + r'(?![A-Za-z0-9_])')


def check_config_docs(source, keys, rel, problems):
    path = os.path.join(source, rel)
    sections = doc_sections(path)
    for sec, want in sorted(keys.items()):
        label = SECTION_NAMES.get(sec, sec)
        if sec not in sections:
            problems.append(f"{rel}: no section heading {label} (keys {', '.join(sorted(want))})")
            continue
        listed = listed_keys(sections[sec])
        for key in sorted(want):
            if key not in listed:
                problems.append(f"{rel}: {label} does not list key {key}")
        for key in sorted(listed - want):
            problems.append(f"{rel}: {label} lists {key}, which lib/config/config_keys.cpp does not know")


def help_flags(program):
    out = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"{program} --help exited {out.returncode}: {out.stderr.strip()}")
    text = out.stdout
    flags = set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)', text))
    # Short flags only where an option line starts with them: "  -X, --request METHOD".
    flags |= set(re.findall(r'^\s+(-[A-Za-z])\b', text, flags=re.M))
    return flags


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True)
    ap.add_argument("--program", action="append", default=[])
    a = ap.parse_args()
    problems = []
    keys = config_keys(a.source)
    total = sum(len(v) for v in keys.values())
    if total < 40:
        problems.append(f"lib/config/config_keys.cpp: only {total} keys found in the key table: has its shape changed?")
    for rel in ("docs/configuration.md", "docs/man/oauth-fcgi.conf.5.md"):
        check_config_docs(a.source, keys, rel, problems)

    man8 = open(os.path.join(a.source, "docs", "man", "oauth-fcgi.8.md")).read()
    checked = 0
    for program in a.program:
        try:
            flags = help_flags(program)
        except Exception as e:  # noqa: BLE001 - any failure to run is a problem to show
            problems.append(str(e))
            continue
        for flag in sorted(flags):
            checked += 1
            if not word(flag).search(man8) and not re.search(r'(?<![\w-])' + re.escape(flag) + r'(?![\w-])', man8):
                problems.append(f"docs/man/oauth-fcgi.8.md: {os.path.basename(program)} --help prints {flag}, "
                                "the man page does not")

    for p in problems:
        print("check_docs: " + p)
    if problems:
        return 1
    print(f"check_docs: {total} config keys documented in docs/configuration.md and oauth-fcgi.conf.5.md; "
          f"{checked} --help flags of {len(a.program)} programs in oauth-fcgi.8.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
