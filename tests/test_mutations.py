"""Tests that prove what they claim: planted bugs must make the tests fail.

scripts/mutate.py holds hand-written mutations of keras_zoo (one realistic bug each) and
the tests that should catch each one. The fuller tier runs them all (each on a copy of
the repository); the default tier checks that the list still fits today's code.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import keras_zoo

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mutate", ROOT / "scripts" / "mutate.py")
mutate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutate)


def _selected_paths(selection):
    """The test files named in a pytest selection (node ids cut at '::'; no -k values)."""
    paths, skip = [], False
    for arg in selection:
        if skip:
            skip = False
        elif arg in ("-k", "-m"):
            skip = True
        elif not arg.startswith("-"):
            paths.append(arg.split("::")[0])
    return paths


def test_every_mutation_fits_todays_code():
    """Each `old` snippet is in its file exactly once and its replacement compiles; the
    list is long enough and covers every family and the library-wide pieces."""
    problems = []
    for m in mutate.MUTATIONS:
        path = ROOT / m.path
        if not path.exists():
            problems.append(f"{m.id}: no file {m.path}")
            continue
        text = path.read_text()
        count = text.count(m.old)
        if count != 1:
            problems.append(f"{m.id}: old snippet found {count} times in {m.path}")
            continue
        if m.new == m.old:
            problems.append(f"{m.id}: new is the same as old")
        try:
            compile(text.replace(m.old, m.new), str(path), "exec")
        except SyntaxError as err:  # a syntax error would "kill" it for the wrong reason
            problems.append(f"{m.id}: the mutated file does not compile: {err}")
        selected = _selected_paths(m.selection)
        if not selected:
            problems.append(f"{m.id}: its selection names no test file")
        problems += [f"{m.id}: selection names a missing {p}" for p in selected
                     if not p.startswith("tests/") or not (ROOT / p).exists()]
        if not set(m.backends) <= set(mutate.BACKENDS):
            problems.append(f"{m.id}: unknown backends {m.backends}")
    ids = [m.id for m in mutate.MUTATIONS]
    if len(set(ids)) != len(ids):
        problems.append(f"duplicate ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    if len(ids) < 14 + 10:
        problems.append(f"only {len(ids)} mutations, at least 24 wanted")
    wanted = set(keras_zoo.list_families()) | set(mutate.LIBRARY_PIECES)
    covered = {m.family for m in mutate.MUTATIONS}
    if wanted - covered:
        problems.append(f"no mutation for {sorted(wanted - covered)}")
    if covered - wanted:
        problems.append(f"unknown families {sorted(covered - wanted)}")
    assert not problems, "scripts/mutate.py is out of date:\n" + "\n".join(problems)


@pytest.mark.full
def test_every_mutation_is_killed():
    """Run scripts/mutate.py on this backend: no mutation may survive (about 15 minutes)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "mutate.py"), "--backend",
         keras.backend.backend()],
        cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, (
        f"scripts/mutate.py exited {done.returncode}:\n{done.stdout[-20000:]}\n"
        f"{done.stderr[-5000:]}")
