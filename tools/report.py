#!/usr/bin/env python3
"""Draw vecsac run directories as one self-contained HTML report (`vecsac report`).

    tools/report.py RUN_DIR... [--out report.html] [--title TITLE]

Six panels, each against global_step (env transitions): episodic return, policy
entropy, Q-values and the temperature alpha (the seed notebook's four
diagnostics, from metrics.jsonl), the optimality gap (from evals.jsonl, or the
final eval.json) and steps/s. Runs whose config.json files differ only in
run.seed form a group: each run is a thin line, and the group its mean with a
band, the percentile-bootstrap 95% interval of the mean over runs with 3 or
more runs, min-max with 2. docs/reporting.md has the details.

The HTML holds plotly.js inline, so it opens offline. Errors are one line that
names the file (and line) at fault; the exit status is then 1.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# Checked in main(), so that a Python without them gets a one-line fix, not a traceback.
try:
    import numpy as np
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
    MISSING_MODULE = None
except ImportError as e:
    MISSING_MODULE = e.name

PROG = "vecsac report"
WIDTH, HEIGHT = 1400, 1350  # fixed, so the layout does not depend on the window
ROWS, COLS = 3, 2
BOOTSTRAP_REPS = 2000  # as vecsac's stats::BootstrapOptions
CONFIDENCE = 0.95
# Plotly's default qualitative colours, grey left out: it is too close to the
# axes and the text to tell a trace by its colour.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
           "#17becf", "#8c564b", "#e377c2", "#bcbd22"]


class ReportError(Exception):
    """Bad input: the message is the whole one-line error."""


@dataclass(frozen=True)
class Panel:
    key: str  # metric name in metrics.jsonl / evals.jsonl
    title: str
    source: str  # "metrics" or "evals"
    log_y: bool = False


GAP_KEY = "eval/optimality_gap"
PANELS = [
    Panel("charts/episodic_return", "Episodic return (training episodes)", "metrics"),
    Panel("charts/entropy", "Policy entropy  −log π(a|s)", "metrics"),
    Panel("charts/q_mean", "Q-values  min(Q₁, Q₂)(s, π(s))", "metrics"),
    Panel("losses/alpha", "Temperature α", "metrics", log_y=True),
    # Log axis: the gap falls by orders of magnitude as training goes on.
    Panel(GAP_KEY, "Optimality gap  mean(optimal − return) / mean |optimal|", "evals",
          log_y=True),
    # Log axis: the first log point, before learning starts, is random acting
    # only and runs orders of magnitude faster than training.
    Panel("charts/SPS", "Steps/s", "metrics", log_y=True),
]

Series = tuple  # (steps: np.ndarray[int64], values: np.ndarray[float64]), steps increasing


# --- reading run directories -----------------------------------------------------


class NonJsonConstant(ValueError):
    pass


def reject_non_json_constant(name: str):
    """Python's json accepts NaN, Infinity and -Infinity; JSON (and vecsac) does not."""
    raise NonJsonConstant(f"{name} is not JSON")


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) per non-blank line; every line needs an integer global_step."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"cannot read {path}: {e}") from e
    records = []
    lines = text.split("\n")
    previous = None  # (line number, global_step) of the record before
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=reject_non_json_constant)
        except NonJsonConstant as e:
            raise ReportError(f"{path}:{number}: not valid JSON: {e} (vecsac writes null for a "
                              "value it does not have)") from e
        except json.JSONDecodeError as e:
            if number == len(lines):  # no newline after it: still being written
                print(f"{PROG}: warning: {path}:{number}: left out the last line, which is cut "
                      "short (a run still writing it?)", file=sys.stderr)
                break
            raise ReportError(f"{path}:{number}: not valid JSON: {e.msg} (column {e.colno})") from e
        if not isinstance(record, dict):
            raise ReportError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        step = record.get("global_step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ReportError(f'{path}:{number}: needs "global_step", a non-negative integer')
        if previous is not None and step <= previous[1]:
            raise ReportError(f"{path}:{number}: global_step {step} does not follow line "
                              f"{previous[0]}'s {previous[1]}: steps must increase (did two runs "
                              "write this file?)")
        previous = (number, step)
        records.append((number, record))
    return records


def series_of(path: Path, records: list[tuple[int, dict]], key: str) -> Series | None:
    """The non-null values of `key` against global_step, or None when there are none."""
    points = {}
    for number, record in records:
        value = record.get(key)
        if value is None:  # not logged (yet): e.g. before learning starts
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReportError(f'{path}:{number}: "{key}" must be a number or null, '
                              f"got {json.dumps(value)}")
        points[record["global_step"]] = float(value)
    if not points:
        return None
    steps = np.array(sorted(points), dtype=np.int64)
    return steps, np.array([points[s] for s in steps], dtype=np.float64)


def read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"cannot read {path}: {e}") from e
    except json.JSONDecodeError as e:
        raise ReportError(f"{path}:{e.lineno}: not valid JSON: {e.msg} (column {e.colno})") from e
    if not isinstance(doc, dict):
        raise ReportError(f"{path}: expected a JSON object")
    return doc


@dataclass
class Run:
    path: Path
    config: dict
    series: dict[str, Series | None]  # per panel key
    has_evals: bool  # evals.jsonl, or an eval.json with an optimality gap
    final_eval: dict | None = None
    last_step: int = 0

    @property
    def env(self) -> str:
        return str(self.config.get("env", {}).get("name", "?"))

    @property
    def seed(self):
        return self.config.get("run", {}).get("seed")


def load_run(path: Path) -> Run:
    if not path.exists():
        raise ReportError(f"run directory '{path}' does not exist")
    if not path.is_dir():
        raise ReportError(f"'{path}' is not a directory")
    for needed in ("config.json", "metrics.jsonl"):
        if not (path / needed).is_file():
            raise ReportError(f"'{path}' has no {needed}: not a vecsac run directory "
                              "(see 'vecsac train --out')")
    config = read_json(path / "config.json")
    metrics = read_jsonl(path / "metrics.jsonl")
    if not metrics:
        raise ReportError(f"{path / 'metrics.jsonl'}: no log lines yet")
    evals = read_jsonl(path / "evals.jsonl") if (path / "evals.jsonl").is_file() else None
    final_eval = read_json(path / "eval.json") if (path / "eval.json").is_file() else None
    last_step = max(record["global_step"] for _, record in metrics)

    series = {}
    for panel in PANELS:
        if panel.source == "metrics":
            series[panel.key] = series_of(path / "metrics.jsonl", metrics, panel.key)
        elif evals is not None:
            series[panel.key] = series_of(path / "evals.jsonl", evals, panel.key)
        else:
            series[panel.key] = None
    # Without periodic evaluations the final one still gives one point, at the end.
    gap = GAP_KEY
    final_gap = (final_eval or {}).get("optimality_gap")
    if series[gap] is None and isinstance(final_gap, (int, float)) and not isinstance(final_gap, bool):
        series[gap] = (np.array([last_step], dtype=np.int64), np.array([float(final_gap)]))
    return Run(path, config, series, evals is not None or series[gap] is not None, final_eval,
               last_step)


# --- groups of seeds ----------------------------------------------------------------


def flatten(doc: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


# Keys that vecsac wrote as text before it parsed them into numbers (a fixed ent_coef "0.1",
# target_entropy "-5", an initial temperature of 1 as "auto_1"): read in today's form, so a
# config trained before and after groups as one.
def canonical(name: str, value):
    if name in ("sac.ent_coef", "sac.target_entropy") and isinstance(value, str):
        text = value[5:] if name == "sac.ent_coef" and value.startswith("auto_") else value
        try:
            number = float(text)
        except ValueError:
            return value
        if text is not value:  # "auto_<x>"
            return "auto" if number == 1.0 else "auto_" + json.dumps(number)
        return number
    if name == "sac.critic_loss_weight" and isinstance(value, str) and value.startswith("relative_"):
        try:
            return "relative_" + json.dumps(float(value[9:]))
        except ValueError:
            return value
    if isinstance(value, int) and not isinstance(value, bool) and name in ("sac.target_entropy",
                                                                           "sac.ent_coef"):
        return float(value)
    return value


def show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Group:
    label: str
    color: str
    runs: list[Run] = field(default_factory=list)


def group_runs(runs: list[Run]) -> list[Group]:
    """Runs whose configs are equal but for run.seed, in order of first appearance."""
    keyed: dict[str, list[Run]] = {}
    flat = {}
    for run in runs:
        f = {k: canonical(k, v) for k, v in flatten(run.config).items()}
        f.pop("run.seed", None)
        flat[id(run)] = f
        keyed.setdefault(json.dumps(f, sort_keys=True), []).append(run)
    members = list(keyed.values())
    # A group is named by the settings that tell it apart from the others.
    firsts = [flat[id(m[0])] for m in members]
    keys = sorted(set().union(*firsts))
    differing = [k for k in keys if len({json.dumps(f.get(k)) for f in firsts}) > 1]
    groups = []
    for i, m in enumerate(members):
        f = firsts[i]
        label = ", ".join(f"{k}={show(f.get(k))}" for k in differing) or str(m[0].env)
        if len(label) > 70:
            label = label[:67] + "..."
        groups.append(Group(label, PALETTE[i % len(PALETTE)], m))
    return groups


def band_name(n: int) -> str:
    if n >= 3:
        return f"bootstrap {CONFIDENCE:.0%} CI of the mean"
    return "min–max" if n == 2 else "none"


def aggregate(series: list[Series], seed: int = 0):
    """Mean and band of several runs' series on the steps they all cover.

    The grid is every logged step inside the range common to all runs, and each
    run is interpolated linearly onto it, so runs logged at different steps
    still line up. Returns (grid, mean, lo, hi), or None with no common range.
    The band is the percentile bootstrap over runs (B = 2000, numpy's linear
    percentiles; a fixed seed makes it reproducible) with 3 or more runs, and
    min-max with 2, where a bootstrap would only ever see the two values.
    """
    start = max(s[0][0] for s in series)
    stop = min(s[0][-1] for s in series)
    grid = np.unique(np.concatenate([s[0] for s in series]))
    grid = grid[(grid >= start) & (grid <= stop)]
    if grid.size == 0:
        return None
    y = np.vstack([np.interp(grid, s[0], s[1]) for s in series])  # (runs, steps)
    n = y.shape[0]
    mean = y.mean(axis=0)
    if n >= 3:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, n, size=(BOOTSTRAP_REPS, n))
        # Each resample's mean as a weighted sum: (B, n) @ (n, steps), no (B, n, steps) copy.
        weights = np.zeros((BOOTSTRAP_REPS, n))
        np.add.at(weights, (np.arange(BOOTSTRAP_REPS)[:, None], picks), 1.0 / n)
        alpha = (1 - CONFIDENCE) / 2
        lo, hi = np.percentile(weights @ y, [100 * alpha, 100 * (1 - alpha)], axis=0)
    elif n == 2:
        lo, hi = y.min(axis=0), y.max(axis=0)
    else:
        lo = hi = None
    return grid, mean, lo, hi


# --- the figure -------------------------------------------------------------------------


def rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def empty_reason(panel: Panel, runs: list[Run]) -> str:
    if panel.source == "evals":
        if all(r.env == "pendulum" for r in runs):
            return "not defined for pendulum (no exact optimum)"
        if not any(r.has_evals for r in runs):
            return "no evaluations (evals.jsonl: train with run.eval_freq > 0)"
    return "no data logged"


def wrap(text: str, width: int = 150) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line]


def build_figure(runs: list[Run], title: str):
    groups = group_runs(runs)
    fig = make_subplots(rows=ROWS, cols=COLS, subplot_titles=[p.title for p in PANELS],
                        vertical_spacing=0.09, horizontal_spacing=0.07)
    in_legend = set()
    for index, panel in enumerate(PANELS):
        row, col = index // COLS + 1, index % COLS + 1
        markers = panel.source == "evals"  # sparse points: a lone one must still show
        drew = False
        for g in groups:
            members = [r for r in g.runs if r.series[panel.key] is not None]
            if not members:
                continue
            drew = True
            for r in members if len(members) > 1 else []:
                steps, values = r.series[panel.key]
                fig.add_trace(go.Scatter(
                    x=steps, y=values, mode="lines+markers" if markers else "lines",
                    line=dict(color=g.color, width=1), marker=dict(size=4), opacity=0.45,
                    name=str(r.path), legendgroup=g.label, showlegend=False,
                    hovertemplate=f"{html.escape(str(r.path))}<br>step %{{x}}<br>%{{y:.4g}}"
                                  "<extra></extra>"), row=row, col=col)
            agg = aggregate([r.series[panel.key] for r in members])
            if agg is None:
                continue
            grid, mean, lo, hi = agg
            if lo is not None:
                fig.add_trace(go.Scatter(x=grid, y=hi, mode="lines", line=dict(width=0),
                                         legendgroup=g.label, showlegend=False, hoverinfo="skip"),
                              row=row, col=col)
                fig.add_trace(go.Scatter(x=grid, y=lo, mode="lines", line=dict(width=0),
                                         fill="tonexty", fillcolor=rgba(g.color, 0.18),
                                         legendgroup=g.label, showlegend=False,
                                         hoverinfo="skip"), row=row, col=col)
            n = len(g.runs)
            name = (f"{g.label}: {n} runs, mean and {band_name(n)}" if n > 1
                    else f"{g.label}: {g.runs[0].path}")
            fig.add_trace(go.Scatter(
                x=grid, y=mean, mode="lines+markers" if markers or grid.size == 1 else "lines",
                line=dict(color=g.color, width=2.5), marker=dict(size=7), name=name,
                legendgroup=g.label, showlegend=g.label not in in_legend,
                hovertemplate=f"{html.escape(name)}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>"),
                row=row, col=col)
            in_legend.add(g.label)
        if not drew:
            # In paper coordinates at the panel's centre: plotly.js places an
            # "x5 domain" reference on the first axes when x5 has no trace.
            suffix = "" if index == 0 else str(index + 1)
            dx, dy = fig.layout[f"xaxis{suffix}"].domain, fig.layout[f"yaxis{suffix}"].domain
            fig.add_annotation(text=empty_reason(panel, runs), showarrow=False, xref="paper",
                               yref="paper", x=sum(dx) / 2, y=sum(dy) / 2, xanchor="center",
                               yanchor="middle",
                               font=dict(size=14, color="#555555"))
        fig.update_xaxes(title_text="global_step (env transitions)", row=row, col=col)
        if panel.log_y:
            fig.update_yaxes(type="log", row=row, col=col)

    # Title on top, the legend (one line per group) under the panels: both sized
    # by their lines, so the six panels keep the same height whatever the runs.
    title_lines = wrap(title)
    top = 50 + 20 * len(title_lines)
    bottom = 70 + 20 * len(groups)
    fig.update_layout(
        # Anchored at its middle: plotly places a multi-line title anchored at
        # its top as if it had one line, and the rest runs off the page.
        title=dict(text="<br>".join(html.escape(t) for t in title_lines), x=0.01, xanchor="left",
                   y=1 - (10 + 10 * len(title_lines)) / (HEIGHT + top + bottom), yanchor="middle",
                   font=dict(size=16)),
        width=WIDTH, height=HEIGHT + top + bottom, autosize=False, template="plotly_white",
        margin=dict(l=70, r=30, t=top, b=bottom),
        legend=dict(orientation="v", x=0, xanchor="left", yref="container",
                    y=10 / (HEIGHT + top + bottom), yanchor="bottom", font=dict(size=12)))
    return fig, groups


def summary_table(groups: list[Group]) -> str:
    """The final deterministic evaluation (eval.json) of each run, as a table."""
    def cell(x, fmt="{:.4g}"):
        return "" if x is None else html.escape(fmt.format(x) if isinstance(x, float) else str(x))

    rows = []
    for g in groups:
        for r in g.runs:
            e = r.final_eval or {}
            sps = r.series["charts/SPS"]
            rows.append(
                f'<tr><td><span style="color:{g.color}">■</span> {html.escape(g.label)}</td>'
                f"<td>{html.escape(str(r.path))}</td><td>{cell(r.seed)}</td>"
                f"<td>{cell(r.last_step)}</td><td>{cell(e.get('mean'))}</td>"
                f"<td>{cell(e.get('std'))}</td><td>{cell(e.get('optimality_gap'))}</td>"
                f"<td>{cell(float(np.median(sps[1])) if sps is not None else None, '{:.0f}')}</td>"
                "</tr>")
    return ("<table><tr><th>group</th><th>run</th><th>seed</th><th>last step</th>"
            "<th>final eval mean</th><th>std</th><th>optimality gap</th><th>median steps/s</th>"
            "</tr>" + "".join(rows) + "</table>")


def render_html(runs: list[Run], title: str) -> tuple[str, list[Group]]:
    """The report page and the groups it drew."""
    fig, groups = build_figure(runs, title)
    plot = fig.to_html(full_html=False, include_plotlyjs=True, div_id="vecsac-report",
                       config={"displaylogo": False, "responsive": False})
    bands = "; ".join(f"{g.label}: {len(g.runs)} runs, band {band_name(len(g.runs))}"
                      if len(g.runs) > 1 else f"{g.label}: 1 run, no band" for g in groups)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ margin: 0; font-family: sans-serif; font-size: 13px; }}
.notes {{ margin: 8px 70px; color: #333; }}
table {{ margin: 8px 70px 24px; border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
</style></head>
<body>
{plot}
<p class="notes">Groups are runs whose config.json differ only in run.seed. Each run is a thin
line and each group its mean over runs, on the steps all its runs cover (runs logged at other
steps are interpolated linearly), with a band: the percentile-bootstrap {CONFIDENCE:.0%}
confidence interval of the mean ({BOOTSTRAP_REPS} resamples of runs) with 3 or more runs,
min–max with 2. {html.escape(bands)}.</p>
{summary_table(groups)}
</body></html>
"""
    return page, groups


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, then rename: readers see old or new, whole."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ReportError(f"cannot write '{path}': directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from others
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise ReportError(f"cannot write '{path}': {e.strerror}") from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", metavar="RUN_DIR", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("report.html"))
    parser.add_argument("--title", default="")
    args = parser.parse_args(argv)
    if MISSING_MODULE:
        print(f"{PROG}: error: {MISSING_MODULE} is not installed for {sys.executable}: run "
              "scripts/setup.sh (it installs scripts/requirements.txt, with plotly and numpy, into "
              "the venv), or set VECSAC_PYTHON to a Python that has them", file=sys.stderr)
        return 1
    try:
        runs = [load_run(p) for p in args.runs]
        title = args.title or "vecsac report: " + ", ".join(str(p) for p in args.runs)
        page, groups = render_html(runs, title)
        write_atomic(args.out, page)
    except ReportError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {len(runs)} run{'s' if len(runs) > 1 else ''} in "
          f"{len(groups)} group{'s' if len(groups) > 1 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
