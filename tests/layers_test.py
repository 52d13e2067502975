#!/usr/bin/env python3
"""Proves that podvs's layers point one way (the layer table is in the top-level meson.build).

usage: layers_test.py BUILD_DIR SOURCE_DIR

1. Every library source outside tests/ is compiled with a layer view (BUILD_DIR/layers/NAME/) on
   its include path and never with the source root itself, so it can only find the headers of
   its own layer and of the layers below.
2. For each layer, with the real compile command of one of its sources: a file including a
   header of each folder the layer may see preprocesses, and a file including a header of each
   folder it may not see (a layer above it, or beside it) fails with "No such file". The first
   half proves the second does not pass for a wrong reason.
Prints "N passed, N failed" last and exits non-zero on any failure.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile


def visible_folders(view):
    """Folders a layer view links, as source-relative paths ("base", "control/api", ...)."""
    found = []
    for dirpath, dirnames, _ in os.walk(view):
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                found.append(os.path.relpath(full, view))
                dirnames.remove(d)
    return sorted(found)


def a_header(source, folder):
    for dirpath, _, files in sorted(os.walk(os.path.join(source, folder))):
        for f in sorted(files):
            if f.endswith('.h'):
                return os.path.relpath(os.path.join(dirpath, f), source)
    return None


def include_dirs(args, directory):
    out = []
    for i, a in enumerate(args):
        for flag in ('-I', '-isystem', '-iquote'):
            if a == flag and i + 1 < len(args):
                out.append(args[i + 1])
            elif a.startswith(flag) and len(a) > len(flag):
                out.append(a[len(flag):])
    return [os.path.realpath(os.path.join(directory, p)) for p in out]


def views_in(args):
    return {a.split('layers/', 1)[1] for a in args if a.startswith('-I') and 'layers/' in a}


def main(build, source):
    source = os.path.realpath(source)
    layers_dir = os.path.join(build, 'layers')
    layers = {name: visible_folders(os.path.join(layers_dir, name)) for name in sorted(os.listdir(layers_dir))}
    every_folder = sorted({f for fs in layers.values() for f in fs})
    commands = json.load(open(os.path.join(build, 'compile_commands.json')))
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f'FAIL: {what}')

    # 1. No library source sees the whole tree.
    for c in commands:
        path = os.path.relpath(os.path.realpath(os.path.join(c['directory'], c['file'])), source)
        if path.startswith(('tests/', '..')) or not any(path.startswith(f + '/') for f in every_folder):
            continue
        args = shlex.split(c['command'])
        check(views_in(args) and source not in include_dirs(args, c['directory']),
              f'{path} is compiled without a layer view or with the source root on its include path')

    # 2. Each layer, compiled as its library is, finds exactly the folders it may see.
    for name, folders in layers.items():
        own = None
        for c in commands:
            args = shlex.split(c['command'])
            vs = views_in(args)
            if name in vs and all(set(layers.get(v, [])) <= set(folders) for v in vs):
                own = c
                break
        check(own is not None, f'layer {name}: no source is compiled with its view')
        if own is None:
            continue
        args = shlex.split(own['command'])
        cut = []
        skip = False
        for a in args:  # the compiler and its flags, without the source and outputs
            if skip:
                skip = False
                continue
            if a in ('-o', '-c', '-MQ', '-MF'):
                skip = True
                continue
            if a == '-MD':
                continue
            cut.append(a)
        for folder in every_folder:
            header = a_header(source, folder)
            if header is None:
                continue
            with tempfile.TemporaryDirectory() as tmp:  # nothing beside the probe to find
                probe = os.path.join(tmp, 'probe.cc')
                with open(probe, 'w') as f:
                    f.write(f'#include "{header}"\n')
                r = subprocess.run(cut + ['-E', '-o', os.devnull, probe], cwd=own['directory'],
                                   capture_output=True, text=True)
            may = folder in folders
            if may:
                check(r.returncode == 0, f'layer {name} cannot include {header}, which it may: {r.stderr.strip()[:300]}')
            else:
                check(r.returncode != 0 and 'No such file' in r.stderr,
                      f'layer {name} can include {header}, a layer above or beside it')
    print(f'layers: {len(layers)}, folders: {len(every_folder)}')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
