# SPDX-License-Identifier: Apache-2.0
"""The glue's layout (issue 21): the hook file holds the module record,
its directives and its hooks; no mod_*.c file calls into a file that
calls it, directly or through others, so that each concern can be read
(and changed) from the bottom up. Read from the sources, no httpd."""

import glob
import os
import re

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOOK_FILE = "mod_auth_ordsjwt.c"


def sources():
    """{file: its text without comments and string literals}."""
    out = {}
    for path in sorted(glob.glob(os.path.join(REPO, "mod_*.c"))):
        with open(path) as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
        out[os.path.basename(path)] = text
    return out


def definitions(texts):
    """{ordsjwt_name: the file that defines it (not static)}."""
    defs = {}
    for name, text in texts.items():
        for m in re.finditer(r"^(?!static)[a-z][^\n;(=]*?\b(ordsjwt_\w+)\s*[(\[]",
                             text, re.M):
            defs[m.group(1)] = name
    return defs


def calls(texts):
    defs = definitions(texts)
    edges = {name: set() for name in texts}
    for name, text in texts.items():
        for used in set(re.findall(r"\b(ordsjwt_\w+)\b", text)):
            owner = defs.get(used)
            if owner and owner != name:
                edges[name].add(owner)
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges[u]):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if not state.get(v):
                found = visit(v)
                if found:
                    return found
        state[u] = 2
        stack.pop()
        return None

    for u in sorted(edges):
        if not state.get(u):
            found = visit(u)
            if found:
                return found
    return None


def test_no_file_calls_back_into_its_callers():
    edges = calls(sources())
    assert len(edges) >= 10, edges
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


def test_nothing_calls_into_the_hook_file():
    edges = calls(sources())
    callers = [name for name, used in edges.items() if HOOK_FILE in used]
    assert not callers, callers


def test_hook_file_registers_only():
    """Every function of the hook file is register_hooks; the rest is the
    command table and the module record."""
    text = sources()[HOOK_FILE]
    functions = re.findall(r"^(?:static )?[a-z][\w \*]*?\b(\w+)\s*\([^;]*?\)\s*\{",
                           text, re.M)
    assert functions == ["register_hooks"], functions
    assert "command_rec" in text and "AP_DECLARE_MODULE" in text \
        or "module AP_MODULE_DECLARE_DATA" in text
