"""A monitor's metrics as a picture, where Databricks shows its generated dashboard: one PNG
per monitor (row count, mean and null percentage per column over the windows; the drift
tests' statistics per column) and an HTML page holding it with the latest drift rows.
Needs matplotlib (extra ``mlemu[monitors-report]``)."""
from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def render(monitor_name: str, profile: "pd.DataFrame", drift: "pd.DataFrame", directory: str) -> dict[str, str]:
    """Write ``<table>_report.png`` and ``<table>_report.html`` into ``directory``; return
    their paths as ``{"png": ..., "html": ...}``."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, monitor_name.rsplit(".", 1)[-1] + "_report")
    inputs = profile[(profile.log_type == "INPUT") & profile.slice_key.isna()].copy()
    inputs["start"] = inputs.window.map(lambda w: w["start"])
    numeric = sorted(inputs[inputs["avg"].notna() & (inputs.column_name != ":table")].column_name.unique())
    columns = sorted(c for c in inputs.column_name.unique() if c != ":table")

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    table = inputs[inputs.column_name == ":table"].groupby("start")["count"].sum()
    axes[0][0].plot(table.index, table.values, marker="o")
    axes[0][0].set_title("rows per window")
    for col in numeric:
        series = inputs[inputs.column_name == col].groupby("start")["avg"].mean()
        axes[0][1].plot(series.index, series.values, marker=".", label=col)
    axes[0][1].set_title("mean per window")
    for col in columns:
        series = inputs[inputs.column_name == col].groupby("start")["percent_null"].mean()
        axes[1][0].plot(series.index, series.values, marker=".", label=col)
    axes[1][0].set_title("% null per window")
    latest = _latest_drift(drift)
    if not latest.empty:
        score = latest.apply(_drift_score, axis=1)
        axes[1][1].barh(latest.column_name, score)
    axes[1][1].set_title("latest drift (KS statistic / JS distance)")
    for ax in (axes[0][1], axes[1][0]):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in axes.flat:
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    fig.suptitle(f"Monitor: {monitor_name}")
    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=80)
    plt.close(fig)

    rows = "".join(f"<tr><td>{html.escape(str(r.column_name))}</td><td>{html.escape(str(r.drift_type))}</td>"
                   f"<td>{_drift_score(r):.4f}</td></tr>" for r in latest.itertuples())
    with open(stem + ".html", "w", encoding="utf-8") as f:
        f.write(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(monitor_name)}</title>"
                f"</head><body><h1>Monitor {html.escape(monitor_name)}</h1>"
                f"<img src='{os.path.basename(stem)}.png' alt='metrics'>"
                f"<h2>Latest drift</h2><table border='1'><tr><th>column</th><th>drift type</th>"
                f"<th>score</th></tr>{rows}</table></body></html>")
    return {"png": stem + ".png", "html": stem + ".html"}


def _latest_drift(drift: "pd.DataFrame") -> "pd.DataFrame":
    d = drift[drift.slice_key.isna() & (drift.column_name != ":table")].copy()
    if d.empty:
        return d
    d["start"] = d.window.map(lambda w: w["start"])
    return d[d.start == d.start.max()].sort_values(["drift_type", "column_name"])


def _drift_score(row: Any) -> float:
    ks = getattr(row, "ks_test", None) if not isinstance(row, dict) else row.get("ks_test")
    if isinstance(ks, dict) and ks.get("statistic") is not None:
        return float(ks["statistic"])
    js = getattr(row, "js_distance", None) if not isinstance(row, dict) else row.get("js_distance")
    return float(js) if js is not None and js == js else 0.0
