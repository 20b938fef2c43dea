"""What the tests of tools/ share: the fixture runs, tools/report.py as a module, the verdict.

The test scripts beside it import it: a script's own directory is on sys.path.
"""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "tests" / "data" / "report_runs"
FIXTURES = ["pm_seed0", "pm_seed1", "pm_seed2", "pm_tau0.02_seed0", "pm_tau0.02_seed1"]


def load_report_module():
    spec = importlib.util.spec_from_file_location("report", ROOT / "tools" / "report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["report"] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def verdict(problems) -> int:
    """Prints each problem, then PASS or how many; returns the exit status, 0 pass or 1 fail."""
    for p in problems:
        print("FAIL:", p)
    print("PASS" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0
