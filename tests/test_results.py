"""Measured results are data: the README's table and docs/results.md are generated from
the runs filed under results/runs/, and every run says where and how it was made."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("results", ROOT / "scripts" / "results.py")
results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results)


def test_readme_table_and_results_page_are_generated():
    """Hand edits, or runs filed without `render`, make this fail."""
    assert results.main(["check"]) == 0, "run `python scripts/results.py render`"


def test_every_tutorial_has_a_headline_and_runs_on_every_backend():
    tutorials = {p.stem for p in (ROOT / "tutorials").glob("*.py")}
    assert {name.split()[0] for name in results.HEADLINES} == tutorials
    filed = {(results.row(r), r["backend"]) for r in results.load_runs()}
    missing = {(t, b) for t in results.HEADLINES for b in results.BACKENDS} - filed
    assert not missing, f"no run filed for {sorted(missing)}"


@pytest.mark.parametrize("run", results.load_runs(), ids=lambda r: f"{r['tutorial']}-"
                         f"{r['backend']}-{r['run']['date'][:10]}-seed{r['run']['seed']}")
def test_each_run_has_its_provenance_and_headline_metrics(run):
    meta = run["run"]
    assert meta["date"][:2] == "20" and isinstance(meta["seed"], int)
    assert meta["machine"]["cpu"] and meta["versions"]["keras"]
    assert run["smoke"] is False and run["backend"] in results.BACKENDS
    if results.row(run) is None:  # e.g. a --precision run: filed, shown in no row
        return
    for key in results.HEADLINES[results.row(run)][1]:
        assert key in run, f"{run['tutorial']} has no {key!r}: a metric was renamed?"


def test_a_run_with_another_precision_or_distribution_never_replaces_the_default_row():
    default = {"tutorial": "lenet5_mnist", "backend": "jax",
               "run": {"date": "2026-12-05T01:00:00Z", "choices": {}}}
    mixed = {**default, "run": {**default["run"], "date": "2026-12-06T01:00:00Z",
                                "precision": "mixed_bfloat16"}}
    parallel = {**default, "run": {**default["run"], "date": "2026-12-07T01:00:00Z",
                                   "distribute": "data", "precision": "float32"}}
    assert results.row(default) == "lenet5_mnist"
    assert results.row(mixed) is None and results.row(parallel) is None
    assert results.latest([default, mixed, parallel]) == {("lenet5_mnist", "jax"): default}


def _metrics(tmp_path, name, **fields):
    folder = tmp_path / "out" / name
    folder.mkdir(parents=True)
    record = {"tutorial": "lenet5_mnist", "backend": "jax", "data": "embedded",
              "smoke": False, "test_accuracy": 0.98, "seconds": 12.3,
              "run": {"date": "2026-12-05T01:02:03Z", "seed": 2, "epochs": 5,
                      "batch_size": 64, "choices": {}, "versions": {"keras": "3.15.1"},
                      "machine": {"cpu": "test cpu", "cores": 2}}}
    record.update(fields)
    (folder / "metrics.json").write_text(json.dumps(record))
    return record


def test_record_files_finished_runs_and_skips_smoke_runs(tmp_path):
    record = _metrics(tmp_path, "a")
    _metrics(tmp_path, "b", smoke=True)
    filed = results.record([tmp_path / "out"], runs_dir=tmp_path / "runs")
    assert [p.relative_to(tmp_path).as_posix() for p in filed] == [
        "runs/lenet5_mnist/jax_20261205T010203Z_seed2.json"]
    assert json.loads(filed[0].read_text()) == record
    runs = results.load_runs(tmp_path / "runs")
    assert "0.980 (12.3 s)" in results.readme_table(runs)


def test_record_rejects_a_file_without_provenance(tmp_path):
    record = _metrics(tmp_path, "a")
    del record["run"]
    (tmp_path / "out" / "a" / "metrics.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="not a tutorial run with provenance"):
        results.record([tmp_path / "out"], runs_dir=tmp_path / "runs")


def test_formatting_by_hand():
    assert [results.fmt(v) for v in (0.97654, 23.94, True, None, float("nan"), 4)] == [
        "0.977", "23.9", "yes", "–", "–", "4"]


def test_selfplay_figures_are_rendered_from_the_filed_runs(tmp_path):
    way = {"seconds": 1.0, "calls": 10, "positions": 100, "moves": 20,
           "leaves_per_second": 500, "positions_per_second": 100}
    record = {"backend": "jax", "game": "tictactoe", "games": 32, "simulations": 25,
              "repeats": 3, "parameters": 1000, "speedup": 12.5,
              "ways": {"one leaf": {**way, "leaves_per_second": 40}, "lockstep": way,
                       "lockstep+cache": {**way, "leaves_per_second": 1234}},
              "run": {"date": "2026-12-05T01:02:03Z", "machine": {"cpu": "cpu", "cores": 2},
                      "versions": {"keras": "3.15.1"}, "load_before": 0.1, "load_after": 1.9}}
    (tmp_path / "jax_tictactoe.json").write_text(json.dumps(record))
    runs = results.load_selfplay(tmp_path)
    line = results.selfplay_line(runs)
    assert "1,234 leaves/s against 40 one leaf at a time (12.5x) on jax" in line
    readme = f"a\n{results.SELFPLAY_BEGIN}\nold\n{results.SELFPLAY_END}\nb"
    assert results.readme_with_selfplay(readme, runs) == (
        f"a\n{results.SELFPLAY_BEGIN}\n{line}\n{results.SELFPLAY_END}\nb")
    page = "\n".join(results.selfplay_md(runs))
    assert "| jax | tictactoe | lockstep+cache | 1.0 | 10 | 100 | 1,234 | 100 |" in page
    assert "load 0.1 before / 1.9 after" in page


_spec_t = importlib.util.spec_from_file_location("time_tutorials",
                                                 ROOT / "scripts" / "time_tutorials.py")
time_tutorials = importlib.util.module_from_spec(_spec_t)
_spec_t.loader.exec_module(time_tutorials)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "torch",
                    reason="runs a tutorial in a child process: once, in the torch run")
def test_time_tutorials_runs_each_tutorial_and_writes_the_timings(tmp_path, capsys):
    out = tmp_path / "timed"
    assert time_tutorials.main(["cnn_basics", "--flags=--smoke", "--out", str(out),
                                "--record"]) == 0
    timing = json.loads((out / "timing.json").read_text())
    (row,) = timing["tutorials"]
    assert timing["backend"] == "torch" and timing["flags"] == ["--smoke"]
    assert row["tutorial"] == "cnn_basics" and row["returncode"] == 0 and row["smoke"]
    assert 0 < row["seconds"] < row["wall_seconds"]  # the process also imports Keras
    assert row["headline"]
    assert "filed" not in capsys.readouterr().out  # smoke runs are never filed


def test_time_tutorials_records_only_the_runs_it_just_made(tmp_path, monkeypatch):
    """OUT may hold older runs (an earlier invocation's, a failed one's): `--record` files
    only the folders of the tutorials this invocation ran to the end."""
    out = tmp_path / "timed"
    rows = {"cnn_basics": 0, "mlp_mnist": 1}  # the second fails
    monkeypatch.setattr(time_tutorials, "time_one", lambda name, folder, flags, backend: {
        "tutorial": name, "wall_seconds": 1.0, "load_before": 0.0, "load_after": 0.0,
        "returncode": rows[name]})
    filed = []
    monkeypatch.setattr(time_tutorials.results, "record",
                        lambda folders: filed.extend(folders) or [])
    assert time_tutorials.main([*rows, "--out", str(out), "--record"]) == 1
    assert filed == [out / "cnn_basics"]


@pytest.mark.bad_input
def test_time_tutorials_refuses_unknown_names(capsys):
    with pytest.raises(SystemExit):
        time_tutorials.main(["no_such_tutorial"])
    assert "unknown tutorials ['no_such_tutorial']" in capsys.readouterr().err


def test_scaling_line_states_the_overhead_and_the_real_host_arithmetic(tmp_path):
    record = {"model": "mlp", "smoke": False, "params": 1000, "global_batch": 64,
              "devices": [{"devices": 1, "ms_per_step": 2.0, "relative": 1.0},
                          {"devices": 4, "ms_per_step": 5.0, "relative": 2.5}],
              "real_host": {"devices": 8, "per_device_batch": 8,
                            "allreduce_bytes_per_device": 7_000_000},
              "run": {"date": "2026-12-05T01:02:03Z", "machine": {"cores": 2}}}
    (tmp_path / "jax_mlp.json").write_text(json.dumps(record))
    line = results.scaling_line(results.load_scaling(tmp_path))
    assert "1: 2.0 ms (1.0x), 4: 5.0 ms (2.5x) on 2 shared cores: overhead" in line
    assert "8 GPUs each computes 8 examples" in line and "7.0 MB per GPU" in line
    readme = f"a\n{results.SCALING_BEGIN}\nold\n{results.SCALING_END}\nb"
    assert results.replace_block(readme, results.SCALING_BEGIN, results.SCALING_END,
                                 line) == f"a\n{results.SCALING_BEGIN}\n{line}\n" \
                                          f"{results.SCALING_END}\nb"
    assert "no run filed yet" in results.scaling_line([])
