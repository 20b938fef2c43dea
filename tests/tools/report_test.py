#!/usr/bin/env python3
"""Unit tests of tools/report.py: reading runs, groups of seeds, bands, empty panels, errors.

Run by ctest with the venv's Python (numpy, plotly):
    python tests/tools/report_test.py
"""
import contextlib
import io
import json
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np

from support import FIXTURES, RUNS, load_report_module

report = load_report_module()


def series(steps, values):
    return np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64)


def annotations(fig):
    return [a.text for a in fig.layout.annotations]


class TempRuns(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="vecsac_report_test_"))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def copy(self, name, as_name=None):
        dst = self.dir / (as_name or name)
        shutil.copytree(RUNS / name, dst)
        return dst

    def run_main(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = report.main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()

    def assert_error(self, run_dir, *fragments):
        code, _, err = self.run_main(run_dir, "--out", self.dir / "r.html")
        self.assertEqual(code, 1, err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("vecsac report: error: "), err)
        for f in fragments:
            self.assertIn(f, err)


class GroupsTest(unittest.TestCase):
    def test_runs_that_differ_only_in_seed_form_one_group(self):
        runs = [report.load_run(RUNS / name) for name in FIXTURES]
        groups = report.group_runs(runs)
        self.assertEqual([len(g.runs) for g in groups], [3, 2])
        self.assertEqual([g.label for g in groups], ["sac.tau=0.005", "sac.tau=0.02"])
        self.assertNotEqual(groups[0].color, groups[1].color)

    def test_a_single_group_is_named_by_its_env(self):
        runs = [report.load_run(RUNS / name) for name in FIXTURES[:2]]
        self.assertEqual([g.label for g in report.group_runs(runs)], ["pointmass"])


    def test_configs_written_before_and_after_typed_temperatures_group_together(self):
        # Before vecsac parsed them once, config.json held a fixed ent_coef, target_entropy
        # and an initial temperature of 1 as text; since, as numbers and "auto".
        old, new = (report.load_run(RUNS / name) for name in FIXTURES[:2])
        old.config["sac"].update(ent_coef="0.2", target_entropy="-5")
        new.config["sac"].update(ent_coef=0.2, target_entropy=-5.0)
        self.assertEqual([len(g.runs) for g in report.group_runs([old, new])], [2])
        old.config["sac"].update(ent_coef="auto_1")
        new.config["sac"].update(ent_coef="auto")
        self.assertEqual([len(g.runs) for g in report.group_runs([old, new])], [2])
        new.config["sac"].update(ent_coef="auto_0.5")
        self.assertEqual([g.label for g in report.group_runs([old, new])],
                         ["sac.ent_coef=auto", "sac.ent_coef=auto_0.5"])


class AggregateTest(unittest.TestCase):
    def test_two_runs_get_a_min_max_band(self):
        grid, mean, lo, hi = report.aggregate([series([0, 10], [1, 5]), series([0, 10], [3, 1])])
        np.testing.assert_array_equal(grid, [0, 10])
        np.testing.assert_allclose(mean, [2, 3])
        np.testing.assert_allclose(lo, [1, 1])
        np.testing.assert_allclose(hi, [3, 5])
        self.assertEqual(report.band_name(2), "min–max")

    def test_three_or_more_runs_get_a_reproducible_bootstrap_interval_of_the_mean(self):
        rng = np.random.default_rng(7)
        runs = [series([0, 1, 2], rng.normal(size=3)) for _ in range(5)]
        y = np.vstack([r[1] for r in runs])
        grid, mean, lo, hi = report.aggregate(runs)
        np.testing.assert_allclose(mean, y.mean(axis=0))
        self.assertTrue(np.all(lo <= mean) and np.all(mean <= hi))
        self.assertTrue(np.all(lo >= y.min(axis=0)) and np.all(hi <= y.max(axis=0)))
        self.assertTrue(np.all(hi - lo < y.max(axis=0) - y.min(axis=0)))  # narrower than min-max
        _, _, lo2, hi2 = report.aggregate(runs)
        np.testing.assert_array_equal(lo, lo2)
        np.testing.assert_array_equal(hi, hi2)
        self.assertIn("bootstrap 95% CI", report.band_name(3))

    def test_the_bootstrap_interval_matches_a_direct_resampling(self):
        runs = [series([0], [v]) for v in (1.0, 2.0, 4.0, 8.0)]
        _, _, lo, hi = report.aggregate(runs, seed=3)
        rng = np.random.default_rng(3)
        picks = rng.integers(0, 4, size=(report.BOOTSTRAP_REPS, 4))
        means = np.array([1.0, 2.0, 4.0, 8.0])[picks].mean(axis=1)
        np.testing.assert_allclose([lo[0], hi[0]], np.percentile(means, [2.5, 97.5]))

    def test_one_run_has_no_band(self):
        _, mean, lo, hi = report.aggregate([series([0, 1], [4, 5])])
        np.testing.assert_array_equal(mean, [4, 5])
        self.assertIsNone(lo)
        self.assertIsNone(hi)

    def test_runs_logged_at_other_steps_are_interpolated_on_their_common_range(self):
        a = series([0, 100, 200], [0, 10, 20])
        b = series([50, 150, 250], [0, 0, 0])
        grid, mean, lo, hi = report.aggregate([a, b])
        np.testing.assert_array_equal(grid, [50, 100, 150, 200])
        np.testing.assert_allclose(mean, [2.5, 5, 7.5, 10])

    def test_runs_without_a_common_range_have_no_mean(self):
        self.assertIsNone(report.aggregate([series([0, 1], [0, 0]), series([2, 3], [0, 0])]))


class FigureTest(TempRuns):
    def test_every_panel_has_a_trace_per_group(self):
        runs = [report.load_run(RUNS / name) for name in FIXTURES]
        fig, groups = report.build_figure(runs, "t")
        for index, panel in enumerate(report.PANELS):
            axis = "x" if index == 0 else f"x{index + 1}"
            named = {t.legendgroup for t in fig.data if t.xaxis == axis and t.line.width == 2.5}
            self.assertEqual(named, {g.label for g in groups}, panel.key)
        self.assertEqual(fig.layout.yaxis4.type, "log")  # alpha
        self.assertFalse([a for a in annotations(fig) if "no " in a])

    def test_a_panel_without_data_says_why(self):
        run = self.copy("pm_seed0")
        (run / "evals.jsonl").unlink()
        final = json.loads((run / "eval.json").read_text())
        del final["optimality_gap"]
        (run / "eval.json").write_text(json.dumps(final))
        fig, _ = report.build_figure([report.load_run(run)], "t")
        self.assertTrue(any(a.startswith("no evaluations") for a in annotations(fig)))

    def test_the_final_eval_gives_one_gap_point_without_periodic_evaluations(self):
        run = self.copy("pm_seed0")
        (run / "evals.jsonl").unlink()
        loaded = report.load_run(run)
        steps, values = loaded.series[report.GAP_KEY]
        final = json.loads((run / "eval.json").read_text())
        self.assertEqual(list(steps), [4000])
        self.assertEqual(list(values), [final["optimality_gap"]])

    def test_the_gap_is_not_defined_for_the_pendulum(self):
        run = self.copy("pm_seed0", "pendulum")
        config = json.loads((run / "config.json").read_text())
        config["env"]["name"] = "pendulum"
        (run / "config.json").write_text(json.dumps(config))
        (run / "evals.jsonl").write_text(
            '{"global_step": 800, "time_s": 1, "eval/mean_return": -900}\n')
        (run / "eval.json").unlink()
        fig, _ = report.build_figure([report.load_run(run)], "t")
        self.assertIn("not defined for pendulum (no exact optimum)", annotations(fig))

    def test_a_long_title_wraps_and_keeps_the_panels_the_same_height(self):
        runs = [report.load_run(RUNS / "pm_seed0")]
        short, _ = report.build_figure(runs, "t")
        long, _ = report.build_figure(runs, " ".join(["runs/some-long-name"] * 30))
        self.assertGreaterEqual(long.layout.title.text.count("<br>"), 2)
        for fig in (short, long):
            m = fig.layout.margin
            self.assertEqual(fig.layout.height - m.t - m.b, short.layout.height - short.layout.margin.t
                             - short.layout.margin.b)


class MainTest(TempRuns):
    def test_writes_one_self_contained_file(self):
        out = self.dir / "report.html"
        code, stdout, err = self.run_main(*[RUNS / n for n in FIXTURES], "--out", out)
        self.assertEqual(code, 0, err)
        self.assertEqual(stdout, f"wrote {out}: 5 runs in 2 groups\n")
        page = out.read_text()
        # Plain assertTrue: a failing assertIn would print all 5 MB.
        self.assertTrue("plotly.js v" in page, "plotly.js inline, so it opens offline")
        self.assertTrue("<script src=" not in page, "nothing loaded from elsewhere")
        for text in ("vecsac report: " + str(RUNS / "pm_seed0"),  # the default title
                     "sac.tau=0.005: 3 runs, band bootstrap 95% CI of the mean",
                     "sac.tau=0.02: 2 runs, band min–max"):
            self.assertTrue(text in page, text)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["report.html"])
        self.assertEqual(out.stat().st_mode & 0o777, 0o644)

    def test_bad_runs_are_one_line_errors_naming_file_and_line(self):
        self.assert_error(self.dir / "missing", "run directory", "does not exist")
        (self.dir / "file").write_text("")
        self.assert_error(self.dir / "file", "is not a directory")
        self.assert_error(self.dir, "has no config.json", "not a vecsac run directory")
        run = self.copy("pm_seed0")
        metrics = run / "metrics.jsonl"
        lines = metrics.read_text().splitlines()
        metrics.write_text("")
        self.assert_error(run, "metrics.jsonl: no log lines yet")
        metrics.write_text(lines[0] + "\n{not json\n" + lines[2] + "\n")
        self.assert_error(run, f"{metrics}:2: not valid JSON")
        metrics.write_text(lines[0] + "\n[1]\n")
        self.assert_error(run, f"{metrics}:2: expected a JSON object, got list")
        metrics.write_text('{"time_s": 1}\n')
        self.assert_error(run, f"{metrics}:1:", "global_step")
        metrics.write_text(lines[0] + '\n{"global_step": 900, "charts/entropy": "high"}\n')
        self.assert_error(run, f"{metrics}:2:", '"charts/entropy" must be a number or null')
        metrics.write_text(lines[0] + '\n{"global_step": 900, "charts/entropy": NaN}\n')
        self.assert_error(run, f"{metrics}:2: not valid JSON: NaN is not JSON")
        metrics.write_text(lines[0] + '\n{"global_step": 900, "time_s": -Infinity}\n')
        self.assert_error(run, f"{metrics}:2: not valid JSON: -Infinity is not JSON")
        metrics.write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n")
        step = json.loads(lines[1])["global_step"]
        self.assert_error(run, f"{metrics}:3: global_step {step} does not follow line 2's {step}")
        metrics.write_text("\n".join([lines[1], lines[0]]) + "\n")
        self.assert_error(run, f"{metrics}:2:", "steps must increase")
        metrics.write_text("\n".join(lines) + "\n")
        (run / "config.json").write_text("{")
        self.assert_error(run, f"{run / 'config.json'}:1: not valid JSON")

    def test_a_torn_last_line_is_left_out_with_a_warning(self):
        run = self.copy("pm_seed0")
        metrics = run / "metrics.jsonl"
        text = metrics.read_text()
        metrics.write_text(text + '{"global_step": 4400, "charts/SPS"')
        code, _, err = self.run_main(run, "--out", self.dir / "r.html")
        self.assertEqual(code, 0, err)
        self.assertIn(f"{metrics}:{text.count(chr(10)) + 1}: left out the last line", err)
        self.assertEqual(report.load_run(run).last_step, 4000)

    def test_a_failed_report_keeps_the_earlier_one(self):
        out = self.dir / "report.html"
        out.write_text("earlier")
        self.assert_error(self.dir / "missing", "does not exist")
        self.assertEqual(out.read_text(), "earlier")
        code, _, err = self.run_main(RUNS / "pm_seed0", "--out", self.dir / "no" / "r.html")
        self.assertEqual(code, 1)
        self.assertIn("directory", err)
        self.assertIn("does not exist", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
