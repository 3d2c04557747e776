"""Metrics for fetchml runs, in one small file (copy it into your project; standard library only).

    from fetchml_metrics import log_metrics, reset_metrics
    reset_metrics()                                     # once, at the start
    log_metrics(step=epoch, loss=loss, accuracy=acc)    # as often as you like

Each call appends one JSON line such as {"step": 3, "loss": 0.31, "accuracy": 0.92} to the file
named by $FETCHML_METRICS (set by the fetchml worker; ./output/metrics.jsonl when run by hand).
The worker keeps the file as an artifact and records each metric's last value in the run
manifest: `ml info <task>` shows them and `ml compare A B` puts two runs side by side.

Names: letters, digits and . _ - / (at most 128); values: finite numbers. "step" (an integer
>= 0) and "time" are reserved. A bad value raises ValueError here rather than being skipped later.
No timestamp is added, so a seeded run writes the same bytes every time (`ml reproduce` compares
outputs by hash).
"""
import json
import math
import os
import re

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]{0,127}$")


def metrics_path():
    """Where metrics go: $FETCHML_METRICS, else output/metrics.jsonl."""
    path = os.environ.get("FETCHML_METRICS")
    if not path:
        path = os.path.join(os.environ.get("FETCHML_OUTPUT", "output"), "metrics.jsonl")
    return path


def reset_metrics():
    """Empties the metrics file (a run by hand starts afresh; under fetchml it starts empty)."""
    path = metrics_path()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    open(path, "w", encoding="utf-8").close()


def log_metrics(step=None, **values):
    """Appends one line of metrics, e.g. log_metrics(step=10, loss=0.3, accuracy=0.9)."""
    row = {}
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an integer >= 0, got {step!r}")
        row["step"] = step
    for name, value in values.items():
        if name in ("step", "time") or not _NAME.match(name):
            raise ValueError(f"bad metric name {name!r}: letters, digits, . _ - / (max 128)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number, got {value!r}")
        row[name] = float(value) if isinstance(value, float) else value
    path = metrics_path()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
