#!/usr/bin/env python3
"""`vecsac report` as a person sees it: headless Chromium draws the report, and each panel
must show the trace colour of every group.

Renders the report of the fixture runs (tests/data/report_runs: a group of three seeds and
one of two) to a PNG, finds each of the six panels' plot areas from the figure's layout,
and counts the pixels that carry each group's colour there. Two broken reports prove that
the check can fail: one with plotly.js taken out (nothing draws) and one whose runs have no
evaluations (the optimality-gap panel only says so).

Exit status: 0 pass, 1 fail, 77 skipped (ctest's SKIP_RETURN_CODE): Chromium is missing
and this is not CI. In CI (CI=true) a missing Chromium fails: scripts/test.sh installs it.
The screenshots are kept in ./report_browser_test/ (the working directory) for a look.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from support import FIXTURES, RUNS, load_report_module, verdict

TOLERANCE = 24  # per RGB channel: anti-aliased line edges drift from the exact colour
MIN_PIXELS = 40  # a 2.5 px line across a panel is over a thousand; a legend swatch is not inside
SKIP = 77


report = load_report_module()


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(chromium: str, page: Path, png: Path, height: int) -> np.ndarray:
    """The page at 1400 px wide, device scale 1, after plotly has drawn."""
    with tempfile.TemporaryDirectory(prefix="vecsac_chromium_") as profile:
        cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               # Containers give /dev/shm little room; a 4 MB inline page can exhaust it.
               "--disable-dev-shm-usage",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}",
               # Plotly draws from script on load; the virtual-time budget lets it finish.
               "--virtual-time-budget=10000", "--run-all-compositor-stages-before-draw",
               f"--window-size={report.WIDTH},{height}", f"--screenshot={png}",
               page.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return np.asarray(Image.open(png).convert("RGB")).astype(np.int16)


def panel_boxes(fig):
    """Each panel's plot area in page pixels (x0, y0, x1, y1), inset past its axis lines."""
    layout = fig.layout
    m = layout.margin
    width, height = layout.width - m.l - m.r, layout.height - m.t - m.b
    boxes = []
    for i in range(len(report.PANELS)):
        suffix = "" if i == 0 else str(i + 1)
        dx, dy = layout[f"xaxis{suffix}"].domain, layout[f"yaxis{suffix}"].domain
        x0, x1 = m.l + dx[0] * width, m.l + dx[1] * width
        y0, y1 = m.t + (1 - dy[1]) * height, m.t + (1 - dy[0]) * height
        boxes.append((int(x0) + 3, int(y0) + 3, int(x1) - 3, int(y1) - 3))
    return boxes


def colour_counts(image: np.ndarray, box, colours) -> list[int]:
    x0, y0, x1, y1 = box
    region = image[y0:y1, x0:x1]
    counts = []
    for c in colours:
        rgb = np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        counts.append(int(np.all(np.abs(region - rgb) <= TOLERANCE, axis=-1).sum()))
    return counts


def check(name: str, page_html: str, runs, out_dir: Path, chromium: str) -> list[str]:
    """Renders `page_html` and returns one problem per panel and group that did not draw."""
    fig, groups = report.build_figure(runs, "t")  # the layout every page here is drawn with
    page = out_dir / f"{name}.html"
    page.write_text(page_html, encoding="utf-8")
    image = screenshot(chromium, page, out_dir / f"{name}.png", fig.layout.height + 100)
    problems = []
    for panel, box in zip(report.PANELS, panel_boxes(fig)):
        counts = colour_counts(image, box, [g.color for g in groups])
        for g, n in zip(groups, counts):
            if n < MIN_PIXELS:
                problems.append(f"{name}: panel '{panel.key}' shows {n} pixels of group "
                                f"'{g.label}' ({g.color}), want >= {MIN_PIXELS}")
        print(f"  {name}: {panel.key}: " + ", ".join(f"{g.label} {n} px"
                                                    for g, n in zip(groups, counts)))
    return problems


def main() -> int:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            print("FAIL: chromium not found, and CI needs this test: scripts/test.sh installs "
                  "Debian's chromium package (apt-get install chromium)")
            return 1
        print("SKIPPED: chromium not found (Debian package chromium; scripts/test.sh installs "
              "it); the report's browser check did not run")
        return SKIP
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout
    print(f"using {chromium}: {version.strip()}")
    out_dir = Path("report_browser_test").resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()

    runs = [report.load_run(RUNS / n) for n in FIXTURES]
    good, _ = report.render_html(runs, "t")
    problems = check("report", good, runs, out_dir, chromium)

    # Broken on purpose: each must fail the check, or the check proves nothing.
    without_js = re.sub(r"<script[^>]*>/\*\*\n\* plotly\.js v.*?</script>", "<script></script>",
                        good, count=1, flags=re.S)
    assert without_js != good, "could not find plotly.js in the page to take it out"
    blank = check("broken_no_plotlyjs", without_js, runs, out_dir, chromium)
    expected_blank = len(report.PANELS) * 2
    if len(blank) != expected_blank:
        problems.append(f"the check passed panels of a report without plotly.js: {blank}")

    with tempfile.TemporaryDirectory(prefix="vecsac_report_noevals_") as tmp:
        no_evals = []
        for n in FIXTURES:
            shutil.copytree(RUNS / n, Path(tmp) / n)
            (Path(tmp) / n / "evals.jsonl").unlink()
            final = json.loads((Path(tmp) / n / "eval.json").read_text())
            del final["optimality_gap"]
            (Path(tmp) / n / "eval.json").write_text(json.dumps(final))
            no_evals.append(report.load_run(Path(tmp) / n))
        page, _ = report.render_html(no_evals, "t")
        gap_only = check("broken_no_evaluations", page, no_evals, out_dir, chromium)
        if len(gap_only) != 2 or not all(report.GAP_KEY in p for p in gap_only):
            problems.append("the check did not fail exactly the optimality-gap panel of a report "
                            f"without evaluations: {gap_only}")

    print(f"screenshots in {out_dir}")
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
