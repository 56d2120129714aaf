"""The benchmark script still runs: a --quick pass of every model, current backend vs native.

Not a timed test (speed is reported by benchmarks/epoch_time.py itself); this only keeps
the script from rotting: every model trains on this backend and on native PyTorch and
the JSON holds a time and a ratio for each.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_epoch_time_quick(tmp_path):
    backend = keras.backend.backend()
    out = tmp_path / "epoch_time.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "epoch_time.py"), "--quick", "-q",
         "--backends", f"{backend},native", "--repeats", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    rows = {(r["model"], r["runner"]): r for r in results}
    for model in ("mlp", "lenet5", "lstm_forecaster"):
        for runner in (backend, "native"):
            row = rows[(model, runner)]
            assert row["error"] is None, row.get("traceback") or row["error"]
            assert row["epoch_s"] > 0
        assert rows[(model, backend)]["ratio"] > 0
