#!/usr/bin/env python3
"""Fails when README.md or a page in docs/ names a file or folder of the repository that does not
exist, so the docs cannot drift from the tree unnoticed.

usage: readme_paths_test.py [REPO_ROOT]     (default: the folder above this script)

What counts as a reference to the tree, and is checked:
  1. Inline code (`...`) outside fenced blocks: each whitespace-separated word of it that is a
     repository path. A word is a repository path when it is made only of letters, digits and
     . _ - / and either ends in a file extension of the tree (.sh .py .cc ...) or in '/', or
     contains a '/' after a first part that is a top-level entry of the repository (so
     `vswitch/nat` is a path, and a command word such as OVS's `tnl/arp/set` is not). It is
     checked relative to the repository root (in docs/ too), and a bare file name with no '/'
     (`metrics.sh`) must be the name of some file in the tree.
  2. Markdown links [text](target) whose target is not a URL: relative to the Markdown file's
     own folder, as a renderer resolves them.
  3. The first word of every line of README.md's fenced block under "## Layout" (folder/ or file).
  4. Sections: a link's #anchor (in a link to a Markdown file, or within the same file) must be
     the anchor of one of that file's headings, made as GitHub makes it (lower case, punctuation
     other than - and _ dropped, spaces to -). And every tracked file of the repository that
     points into the docs as docs/<page>.md or docs/<page>.md#<anchor> (code comments do) must
     name a page and a section that exist.
Not checked, because they are not the repository's files:
  - absolute paths (/run/..., /var/lib/..., /opt/cni/bin, /dev/hugepages: the node's, at run time);
  - build outputs: build/... (and builddir/...);
  - URLs (anything with "://") and addresses or CIDRs (10.244.0.0/16: the first part is numeric);
  - placeholders and patterns: a word with < > { } * : = , ' " ( ) or $ is never a path;
  - ~/..., and words starting with '-' (flags).
Each failure names the file, the line and the missing path or section; the exit code is non-zero.
"""
import os
import re
import subprocess
import sys

EXTENSIONS = (".sh", ".py", ".cc", ".h", ".md", ".json", ".yml", ".yaml", ".build", ".txt",
              ".proto", ".conflist", ".png", ".toml", ".cfg")
PATH_WORD = re.compile(r"^[A-Za-z0-9_.\-/]+$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
IGNORED_PREFIXES = ("/", "build/", "builddir/", "~", "-")


def tracked_names(root):
    """Base names of the files in the tree (git's view when it is a checkout, else a walk)."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True,
                             check=True).stdout.split()
        if out:
            return {os.path.basename(p) for p in out}
    except (OSError, subprocess.CalledProcessError):
        pass
    names = set()
    for _, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "build")]
        names.update(files)
    return names


def is_repo_path(word, top_level):
    if not word or word.startswith(IGNORED_PREFIXES) or "://" in word:
        return False
    if not PATH_WORD.match(word):
        return False
    first = word.split("/")[0]
    if re.fullmatch(r"[0-9.]+", first):  # an address or CIDR
        return False
    if word.strip("./") == "":
        return False
    if word.endswith(EXTENSIONS) or word.endswith("/"):
        return True
    return "/" in word and first in top_level


def references(md_path, text, top_level):
    """Yields (line number, kind, reference) for every reference in one Markdown file."""
    in_fence = False
    layout_block = False
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if not in_fence:
                in_fence = True
                layout_block = (os.path.basename(md_path) == "README.md" and section == "Layout")
            else:
                in_fence = False
                layout_block = False
            continue
        if in_fence:
            if layout_block and line.strip() and not line.startswith(" "):
                yield number, "layout", line.split()[0]
            continue
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        for target in LINK.findall(line):
            if "://" in target or target.startswith("mailto:"):
                continue
            yield number, "link", target
        for _, code in INLINE_CODE.findall(line):
            for word in code.split():
                word = word.rstrip(".")  # a sentence's full stop inside the span
                if is_repo_path(word, top_level):
                    yield number, "code", word


def anchors(md_text):
    """The anchors of a Markdown file's headings, as GitHub makes them."""
    found = set()
    in_fence = False
    for line in md_text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6} ", line):
            title = line.lstrip("#").strip().replace("`", "").replace("*", "").lower()
            found.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return found


DOC_POINTER = re.compile(r"\b(docs/[A-Za-z0-9_.-]+\.md)(#[A-Za-z0-9_-]+)?")


def anchor_ok(md_file, anchor, cache):
    if md_file not in cache:
        try:
            with open(md_file, encoding="utf-8") as f:
                cache[md_file] = anchors(f.read())
        except OSError:
            cache[md_file] = set()
    return anchor in cache[md_file]


def check_doc_pointers(root, cache):
    """docs/<page>.md[#<anchor>] named in any tracked text file. Returns (checked, problems)."""
    try:
        files = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return 0, 0
    checked = problems = 0
    for rel in files:
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            for page, anchor in DOC_POINTER.findall(line):
                checked += 1
                target = os.path.join(root, page)
                if not os.path.exists(target):
                    print(f"FAIL: {rel}:{number}: points to {page}, which does not exist")
                    problems += 1
                elif anchor and not anchor_ok(target, anchor[1:], cache):
                    print(f"FAIL: {rel}:{number}: points to {page}{anchor}, but {page} has no "
                          f"section with that anchor")
                    problems += 1
    return checked, problems


def check(root):
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    names = tracked_names(root)
    top_level = set(os.listdir(root))
    problems = checked = 0
    cache = {}
    for md in files:
        if not os.path.exists(md):
            print(f"FAIL: {os.path.relpath(md, root)} does not exist")
            problems += 1
            continue
        with open(md, encoding="utf-8") as f:
            text = f.read()
        rel_md = os.path.relpath(md, root)
        for number, kind, ref in references(md, text, top_level):
            checked += 1
            if kind == "link":
                path, _, anchor = ref.partition("#")
                target = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
                ok = os.path.exists(target)
                if ok and anchor and target.endswith(".md") and not anchor_ok(target, anchor,
                                                                               cache):
                    print(f"FAIL: {rel_md}:{number}: links to {ref!r}, but "
                          f"{os.path.relpath(target, root)} has no section with that anchor")
                    problems += 1
                    continue
            elif "/" not in ref.rstrip("/"):
                ok = os.path.exists(os.path.join(root, ref)) or ref.rstrip("/") in names
            else:
                ok = os.path.exists(os.path.join(root, ref))
            if not ok:
                print(f"FAIL: {rel_md}:{number}: names {ref!r} ({kind}), which does not exist "
                      f"in the repository")
                problems += 1
    pointers, pointer_problems = check_doc_pointers(root, cache)
    checked += pointers
    problems += pointer_problems
    print(f"{checked} path references in {len(files)} Markdown files and {pointers} pointers into "
          f"docs/ checked, {problems} missing")
    return problems == 0


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    sys.exit(0 if check(os.path.abspath(root)) else 1)
