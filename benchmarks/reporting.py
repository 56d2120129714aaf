"""The benchmark's report: the table of results, the summary lines, the output files.

`table_rows` turns the driver's result rows into strings, `format_console` and
`format_markdown` lay them out, `summarize` checks each model against the performance
target (the best Keras backend at most 1.0x native PyTorch, every backend within 1.5x),
and `report` prints all of it and writes the JSON results and the markdown table.
"""

import json
import statistics
from pathlib import Path

from benchmark_table import NATIVE


def _fmt(value, spec):
    """A number formatted by `spec`, or "-" where the runner has none (a failed row)."""
    return "-" if value is None else format(value, spec)


def table_rows(results):
    """(header, rows) of strings for the console and markdown tables."""
    header = ["model", "runner", "epoch s", "min s", "vs native", "cpu s", "cpu vs native",
              "warm-up s", "params", "note"]
    rows = []
    for r in results:
        note = r["error"] if r["error"] else ", ".join(
            f"{k}={v}" for k, v in r["resolved"].items())
        # three significant digits: a full-batch epoch is one step of a few milliseconds
        rows.append([r["model"], r["runner"], _fmt(r["epoch_s"], ".3g"),
                     _fmt(r["min_s"], ".3g"),
                     "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                     _fmt(r["cpu_s"], ".2f"),
                     "-" if r["cpu_ratio"] is None else f"{r['cpu_ratio']:.2f}x",
                     _fmt(r["warmup_s"], ".1f"), _fmt(r["params"], ","), note])
    return header, rows


def format_console(header, rows):
    """Left-aligned columns for a terminal; the free-form note column is not padded."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    widths[-1] = len(header[-1])  # the note column is free-form
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def format_markdown(header, rows):
    """A markdown table, numbers right-aligned; "|" inside a cell becomes "/"."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < 2 or i == len(header) - 1 else "---:"
                            for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize(results, models, backends):
    """Per model: the best default Keras backend vs native, and the 1.5x check."""
    lines = []
    for model in models:
        native = next((r for r in results if r["model"] == model and r["runner"] == NATIVE),
                      None)
        keras_rows = [r for r in results if r["model"] == model and r["runner"] in backends
                      and r["ratio"] is not None]
        if native is None or native["epoch_s"] is None or not keras_rows:
            lines.append(f"{model}: no ratio (native or every Keras backend failed)")
            continue
        best = min(keras_rows, key=lambda r: r["ratio"])
        worst = max(keras_rows, key=lambda r: r["ratio"])
        def cpu(r):
            return "" if r["cpu_ratio"] is None else f", cpu {r['cpu_ratio']:.2f}x"

        lines.append(
            f"{model}: best {best['runner']} {best['ratio']:.2f}x native{cpu(best)} "
            f"({'meets' if best['ratio'] <= 1.0 else 'misses'} <= 1.0x); "
            f"slowest {worst['runner']} {worst['ratio']:.2f}x{cpu(worst)} "
            f"({'meets' if worst['ratio'] <= 1.5 else 'misses'} <= 1.5x)")
    return lines


def report(meta, results, args):
    """Print the table and the summary; write `args.out` (JSON) and the markdown next to it.

    The JSON holds `meta` (with the summary lines) and every result row; `--out ''`
    writes nothing.
    """
    header, rows = table_rows(results)
    loads = [x for r in results for x in r["loads"]]
    load_note = (f"1-min load average during timed epochs: mean {statistics.mean(loads):.1f}, "
                 f"max {max(loads):.1f} on {meta['cpu_count']} cores" if loads else "")
    summary = summarize(results, args.models, [b for b in args.backends if b != NATIVE])
    print(format_console(header, rows))
    print()
    print(f"epoch s: median wall time of {meta['repeats']} epoch(s) after one warm-up epoch; "
          f"vs native: epoch s / native PyTorch epoch s (same model, data, batch "
          f"{meta['batch_size'] or '64 (VAE 100)'}, Adam); cpu s: the worker's CPU time in "
          f"that epoch (all threads), less sensitive to other load than wall time.")
    if load_note:
        print(load_note)
    for line in summary:
        print(line)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(meta, summary=summary)
        out.write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
        md = [f"# keras_zoo epoch times ({meta['started']}, {meta['cpu_count']} cores, "
              f"{meta['repeats']} repeat(s){', quick' if meta['quick'] else ''})", "",
              format_markdown(header, rows), ""]
        md += [load_note, ""] if load_note else []
        md += [f"- {line}" for line in summary]
        out.with_suffix(".md").write_text("\n".join(md) + "\n")
        print(f"wrote {out} and {out.with_suffix('.md')}")


def provenance(packages, load_before):
    """A filed benchmark run's "run" record: date (UTC), machine, the versions of
    `packages`, and the load average before (given) and after (now) the run."""
    import datetime
    import importlib.metadata
    import os

    from keras_zoo.tutorial import cpu_model

    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
            "versions": {p: importlib.metadata.version(p) for p in packages},
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}
