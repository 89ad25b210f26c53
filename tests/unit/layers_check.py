#!/usr/bin/env python3
"""The library's layers hold: each lib/<layer>/*.cpp is compiled with the include
folders of its own layer and the layers below it only, and no file reaches a header
by a relative path ("../"), so an upward include cannot compile.
   usage: layers_check.py SOURCE_DIR BUILD_DIR LAYER... (lowest first)"""
import json
import os
import re
import shlex
import sys


def main():
    source, build, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
    lib = os.path.join(os.path.realpath(source), "lib")
    rank = {layer: i for i, layer in enumerate(layers)}
    problems, checked = [], 0
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    for entry in commands:
        path = os.path.realpath(entry["file"])
        if not path.startswith(lib + os.sep):
            continue
        layer = os.path.relpath(path, lib).split(os.sep)[0]
        if layer not in rank:
            problems.append(f"{path}: lib/{layer}/ is not a layer of OAUTHFCGI_LAYERS")
            continue
        checked += 1
        args = entry.get("arguments") or shlex.split(entry["command"])
        includes = [a[2:] for a in args if a.startswith("-I")]
        includes += [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-I", "-isystem")]
        for inc in includes:
            inc = os.path.realpath(inc)
            if not inc.startswith(lib + os.sep):
                continue
            other = os.path.relpath(inc, lib).split(os.sep)[0]
            if rank.get(other, len(layers)) > rank[layer]:
                problems.append(f"{os.path.relpath(path, lib)}: compiled with lib/{other}/ on its include path, "
                                f"a layer above {layer}")
    for root, _, files in os.walk(lib):
        for name in files:
            text = open(os.path.join(root, name), encoding="utf-8").read()
            for m in re.finditer(r'#include\s+"([^"]*\.\./[^"]*)"', text):
                problems.append(f"{os.path.relpath(os.path.join(root, name), lib)}: includes {m.group(1)} "
                                "by a relative path, around the layers")
    if checked == 0:
        problems.append("no lib/<layer>/*.cpp in compile_commands.json: has the build's shape changed?")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{checked} library sources compile against their own layer and the ones below only")


if __name__ == "__main__":
    main()
