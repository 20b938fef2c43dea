#!/usr/bin/env python3
"""Runs the peer comparisons of issue #5 §2 and writes docs/measurements/peers.md.

Every measurement runs in its own process with the same thread count, by the
commands that the report lists: update throughput interleaved (each repetition
runs every implementation at every batch size, in an order rotated between
repetitions), then time to quality for each seed and entrant, then the Pendulum
race of issue #14 §7 (vecsac, RLtools and SB3 each train their own recipe, timed
without evaluation, and are scored on 100 episodes). --race pendulum runs only the
race, and writes its own report and results (see --out). Start it through
bench/peers/run.sh, which checks the build and installs bench/peers/requirements.txt.
"""
import argparse
import datetime
import importlib.metadata
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pointmass_env import QUALITY_BAR

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
IMPLS = ("vecsac", "eager", "sb3", "sbx")
SBX_GRADIENT_STEPS = 16  # fused into one sbx _train call: the default config's gradient_steps
# The default config's shapes (actor 96-96, critics 64-64, batch 1024), issue #14 §7: only
# sbx and vecsac take part (update_throughput.py --shapes default says how each is measured).
DEFAULT_SHAPES = ("vecsac", "sbx")
DEFAULT_SHAPES_BATCH = 1024
ENTRANTS = ("vecsac", "vecsac-many-envs", "sb3-default", "sb3-tuned", "notebook")
VECSAC_ENTRANTS = {"vecsac": "pointmass.json", "vecsac-many-envs": "pointmass_many_envs.json"}
RACE = ("vecsac-pendulum", "rltools-pendulum", "sb3-pendulum")  # time_to_quality.py entrants
PENDULUM_BAR = -160.0  # as time_to_quality.py's, which each summary also carries
GOALS = {"eager": 1.3, "sb3": 2.0, "ttq_sb3": 10.0}  # issue #5 §2, on the 2-core CPU at batch 256

# race_steps: each race entrant's own steps when None; --quick trains a few hundred only.
FULL = dict(reps=5, min_time=3.0, warmup=1.0, cap=300.0, every=5.0, race_steps=None)
QUICK = dict(reps=1, min_time=1.0, warmup=0.3, cap=10.0, every=2.0, race_steps=500)


def rel(path) -> str:
    """A path as the report shows it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def run_json(cmd: list, log: list) -> dict:
    """Runs a command that prints one JSON object as its last stdout line; logs the command."""
    log.append(shlex.join(cmd))
    print("[peers] " + log[-1], file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:  # its own stderr, above, says why
        sys.exit(f"[peers] error: exit status {proc.returncode} from: {log[-1]}\n"
                 "[peers] no report written; any earlier one is left as it was")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def update_throughput(args, log: list) -> dict:
    """{impl: {batch: [updates/s per repetition]}}; the default config's shapes are the
    keys "IMPL@default", at DEFAULT_SHAPES_BATCH."""
    rates = {impl: {b: [] for b in args.batches} for impl in IMPLS}
    rates.update({f"{impl}@default": {DEFAULT_SHAPES_BATCH: []} for impl in DEFAULT_SHAPES})
    for rep in range(args.reps):
        for batch in args.batches:
            for impl in rotated(IMPLS, rep):
                rates[impl][batch].append(throughput_once(args, log, impl, batch, "256"))
        for impl in rotated(DEFAULT_SHAPES, rep):
            rates[f"{impl}@default"][DEFAULT_SHAPES_BATCH].append(
                throughput_once(args, log, impl, DEFAULT_SHAPES_BATCH, "default"))
    return rates


def rotated(items: tuple, rep: int) -> tuple:
    """The order of repetition `rep`: no implementation always goes first."""
    return items[rep % len(items):] + items[:rep % len(items)]


def throughput_once(args, log: list, impl: str, batch: int, shapes: str) -> float:
    cmd = [sys.executable, rel(HERE / "update_throughput.py"), "--impl", impl,
           "--batch", str(batch), "--min-time", str(args.min_time),
           "--warmup", str(args.warmup), "--threads", str(args.threads)]
    if shapes != "256":
        cmd += ["--shapes", shapes]
    if impl == "vecsac":
        cmd += ["--vecsac-bench", rel(args.vecsac_bench)]
    if impl == "sbx":
        cmd += ["--gradient-steps", str(SBX_GRADIENT_STEPS)]
    result = run_json(cmd, log)
    log_inner(result, args, log)
    return result["updates_per_s"]


def time_to_quality(args, log: list) -> dict:
    """{entrant: [summary per seed]} from time_to_quality.py."""
    results = {e: [] for e in args.entrants}
    for seed in args.seeds:
        for entrant in args.entrants:
            cmd = [sys.executable, rel(HERE / "time_to_quality.py"), "--entrant", entrant,
                   "--seed", str(seed), "--cap", str(args.cap), "--every", str(args.every),
                   "--threads", str(args.threads), "--out", rel(args.work / f"{entrant}-seed{seed}")]
            if entrant in VECSAC_ENTRANTS:
                cmd += ["--vecsac", rel(args.vecsac)]
            summary = run_json(cmd, log)
            log_inner(summary, args, log)
            results[entrant].append(summary)
    return results


def pendulum_race(args, log: list) -> dict:
    """{entrant: [summary per seed]} from time_to_quality.py's Pendulum entrants."""
    results = {e: [] for e in args.race_entrants}
    for seed in args.race_seeds:
        for entrant in args.race_entrants:
            if entrant == "sb3-pendulum" and seed not in args.sb3_race_seeds:
                continue
            cmd = [sys.executable, rel(HERE / "time_to_quality.py"), "--entrant", entrant,
                   "--seed", str(seed), "--threads", str(args.threads),
                   "--out", rel(args.work / f"{entrant}-seed{seed}")]
            if entrant == "vecsac-pendulum":
                cmd += ["--vecsac", rel(args.vecsac)]
            if args.race_steps is not None:
                cmd += ["--steps", str(args.race_steps)]
            summary = run_json(cmd, log)
            log_inner(summary, args, log)
            results[entrant].append(summary)
    return results


# vecsac_bench families of the engine section: each update beside its GEMMs alone, and the
# CPU's sgemm ceiling and FMA loops, all from one process.
ENGINE_FILTER = ("^BM_(SacUpdate|GemmReference)_Cpu/256/|^BM_(SacUpdate|GemmReference)Default_Cpu/"
                 "|^BM_(SacUpdate|GemmReference)Small_Cpu/|^BM_(SacUpdate|GemmReference)MainJob_Cpu/"
                 "|^BM_SgemmPeak_Cpu/|^BM_FmaPeakAvx(512|2)_Cpu/")
ENGINE_SHAPES = (("256-256, batch 256", "", 256), ("default networks (actor 96-96, critics 64-64), "
                 "batch 1024", "Default", 1024), ("64-64, batch 100 (RLtools's default)", "Small", 100))
GOALS_ENGINE = dict(overhead=1.5, ops=40, vs_sbx=1.5)
MAIN_JOB_GOALS = dict(train_s=20.0, notebook_ratio=1.02, random_ratio=1.05, seeds_needed=4)


def engine_figures(args, log: list) -> dict:
    """{benchmark name: {"time_ns", "counters"}}: medians of 3 repetitions."""
    cmd = [rel(args.vecsac_bench), f"--benchmark_filter={ENGINE_FILTER}",
           "--benchmark_format=json", f"--benchmark_min_time={args.min_time:g}",
           "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"]
    log.append(f"OMP_NUM_THREADS={args.threads} " + shlex.join(cmd))
    print("[peers] " + log[-1], file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    if proc.returncode != 0:
        sys.exit(f"[peers] error: exit status {proc.returncode} from: {log[-1]}")
    figures = {}
    for b in json.loads(proc.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            figures[b["run_name"]] = {"time_ns": b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[
                b["time_unit"]], "counters": {k: v for k, v in b.items() if k in (
                    "FLOP/s", "ops_per_update", "flops_per_update", "gemms_per_update")}}
    return figures


def main_job(args, log: list) -> list:
    """[summary per seed] from main_job.py: configs/pointmass.json as a user trains it."""
    summaries = []
    for seed in args.main_job_seeds:
        cmd = [sys.executable, rel(HERE / "main_job.py"), "--seed", str(seed),
               "--threads", str(args.threads), "--out", rel(args.work / f"main-job-seed{seed}"),
               "--vecsac", rel(args.vecsac)]
        summary = run_json(cmd, log)
        log_inner(summary, args, log)
        summaries.append(summary)
    return summaries


def log_inner(result: dict, args, log: list) -> None:
    """Adds the vecsac commands a Python wrapper ran, as typed from the repository root."""
    for cmd in result.get("commands", []):
        log.append(f"  # which ran: OMP_NUM_THREADS={args.threads} " + shlex.join(rel_args(cmd)))


def rel_args(cmd: list) -> list:
    """The command as typed from the repository root (vecsac resolves paths against it)."""
    return [a.replace(str(REPO) + "/", "") for a in cmd]


# --- report ------------------------------------------------------------------------

def machine_info(args) -> list:
    import torch  # only for its version string, which carries the CUDA tag
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown")
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")  # read-only: no index refresh
    git = lambda *a: subprocess.run(["git", *a], cwd=REPO, env=env, text=True,  # noqa: E731
                                    capture_output=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return [("CPU", cpu), ("cores (nproc)", str(len(os.sched_getaffinity(0)))),
            ("threads", f"{args.threads} (torch.set_num_threads; OMP_NUM_THREADS for vecsac)"),
            ("torch", torch.__version__),
            *[(name, version(name)) for name in ("stable-baselines3", "gymnasium", "sbx-rl",
                                                 "jax", "jaxlib", "rltools", "mkl")],
            ("Python", sys.version.split()[0]), ("git commit", commit)]


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}×"


def verdict(value: float, goal: float, lower_bound=False) -> str:
    if value >= goal:
        return "met"
    return "undetermined (raise the cap)" if lower_bound else "not met"


def throughput_section(args, rates) -> list:
    med = {i: {b: statistics.median(v) for b, v in r.items()} for i, r in rates.items()}
    has_sbx = "sbx" in rates  # results recorded before sbx joined have no sbx column
    lines = [
        "## Update throughput", "",
        f"SAC updates per second on the CPU, 256-256 networks, float32, threads: {args.threads}; "
        f"median of {args.reps} repetition(s), each of at least {args.min_time:g} s after a "
        f"{args.warmup:g} s warm-up. The implementations run interleaved, one process per "
        "measurement.", "",
        "| batch | vecsac | eager PyTorch (notebook) | SB3 `SAC.train()` | "
        + (f"sbx `_train` ({SBX_GRADIENT_STEPS} fused) | " if has_sbx else "")
        + "vecsac / eager | vecsac / SB3 |" + (" vecsac / sbx |" if has_sbx else ""),
        "|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if has_sbx else "")]
    for b in args.batches:
        v, e, s = med["vecsac"][b], med["eager"][b], med["sb3"][b]
        x = med["sbx"][b] if has_sbx else None
        lines.append(f"| {b} | {v:.1f} | {e:.1f} | {s:.1f} | " + (f"{x:.1f} | " if has_sbx else "")
                     + f"{fmt_ratio(v / e)} | {fmt_ratio(v / s)} |"
                     + (f" {fmt_ratio(v / x)} |" if has_sbx else ""))
    lines.append("")
    if 256 in args.batches:
        v, e, s = med["vecsac"][256], med["eager"][256], med["sb3"][256]
        lines += [f"Goals at batch 256: vecsac / eager ≥ {GOALS['eager']}×: "
                  f"**{verdict(v / e, GOALS['eager'])}** ({fmt_ratio(v / e)}); vecsac / SB3 ≥ "
                  f"{GOALS['sb3']}×: **{verdict(v / s, GOALS['sb3'])}** ({fmt_ratio(v / s)}).", ""]
    lines += default_shapes_lines(med) if "sbx@default" in rates else []
    lines += ["Every repetition, updates/s:", ""]
    for impl, by_batch in rates.items():
        for b, values in by_batch.items():
            lines.append(f"- {impl}, batch {b}: " + ", ".join(f"{x:.1f}" for x in values))
    lines += ["", "- **vecsac**: `BM_SacUpdate_Cpu/B` of `vecsac_bench`, `items_per_second` "
              "(wall clock). One `SacLearner::update` (temperature, critics, actor, Polyak) on "
              "batches sampled before the timed region.",
              "- **eager PyTorch**: the notebook's `SACAgent.update` as it stands "
              "(`bench/peers/notebook_sac.py`: two `nn.Sequential` critics and their targets, "
              "tanh-squashed Gaussian actor with log-std clamped to [−20, 2], learned "
              "temperature, three Adams at 3e-4, Polyak τ = 0.005, and its six `.item()` "
              "metrics), on 8 batches sampled before timing and used in turn.",
              "- **SB3**: `SAC(\"MlpPolicy\", env, policy_kwargs=dict(net_arch=[256, 256]), "
              "batch_size=B)` on the point-mass gymnasium wrapper, its replay buffer filled with "
              "10k random transitions, timing `model.train(gradient_steps=1, batch_size=B)` "
              "(SB3's default train_freq 1 / gradient_steps 1). The logger is "
              "`Logger(folder=None, output_formats=[])`: values are recorded in memory, nothing "
              "is written. SB3 samples its replay buffer inside `train()`, so its time includes "
              "sampling B transitions, which the others leave out."]
    if has_sbx:
        lines.append(
            f"- **sbx**: sbx-rl's (SB3's JAX port) jitted `SAC._train`, {SBX_GRADIENT_STEPS} "
            "gradient steps of batch B fused into one call (a `lax.fori_loop`), as sbx's "
            "`SAC.train()` runs them when `gradient_steps` > 1: "
            "`SAC(\"MlpPolicy\", env, policy_kwargs=dict(net_arch=[256, 256]), batch_size=B, "
            f"gradient_steps={SBX_GRADIENT_STEPS})` on the point-mass wrapper, fed 8 chunks of "
            f"{SBX_GRADIENT_STEPS} × B random transitions placed on the device before timing "
            "and used in turn; each call waits for its result (`jax.block_until_ready`). "
            "Updates/s = gradient steps ÷ s. JAX on the CPU; XLA has no thread-count setting, "
            f"so where {args.threads} thread(s) are fewer than the cores, the process is pinned "
            "to that many cores.")
    return lines + [""]


def default_shapes_lines(med) -> list:
    """The default config's shapes (issue #14 §7 (b)): sbx's fused update beside vecsac's
    update at the same widths and batch."""
    b = DEFAULT_SHAPES_BATCH
    v, x = med["vecsac@default"][b], med["sbx@default"][b]
    return [
        f"At the default config's shapes (`configs/pointmass.json`: actor 96-96, critics "
        f"64-64, batch {b}, {SBX_GRADIENT_STEPS} gradient steps per call), gradient steps per "
        "second:", "",
        f"| batch | vecsac `BM_SacUpdateDefault_Cpu/{b}` | sbx `_train` ({SBX_GRADIENT_STEPS} fused) "
        "| vecsac / sbx |",
        "|---:|---:|---:|---:|",
        f"| {b} | {v:.1f} | {x:.1f} | {fmt_ratio(v / x)} |", "",
        "Both are the update alone on batches sampled beforehand: vecsac's one call per "
        f"gradient step, sbx's {SBX_GRADIENT_STEPS} steps per jitted call.", ""]


def ttq_stats(summaries: list):
    """Median time to the bar over seeds (inf when the median seed did not reach it), how
    many seeds reached it, and whether every seed that missed trained up to the cap: only
    then is "not within the cap" a lower bound on its time. A vecsac config whose own
    total_timesteps ends first (vecsac_stop "finished") gives no such bound."""
    times = [s["time_to_bar_s"] if s["time_to_bar_s"] is not None else float("inf")
             for s in summaries]
    bounded = all(s["time_to_bar_s"] is not None or s.get("vecsac_stop", "cap") == "cap"
                  for s in summaries)
    return statistics.median(times), sum(t != float("inf") for t in times), bounded



def describe_vecsac_config(name: str) -> str:
    """A config's settings, read from the file so the report never goes stale."""
    c = json.loads((REPO / "configs" / name).read_text())
    sac = c["sac"]
    return (f"{c['env']['num_envs']} envs, {c['run']['total_timesteps']} transitions, "
            f"lr {sac['learning_rate']}, {sac['gradient_steps']} gradient steps of batch "
            f"{sac['batch_size']} per vector step, net_arch {sac['policy_kwargs']['net_arch']}, "
            f"gamma {sac.get('gamma', 0.99)}, target_entropy {sac.get('target_entropy', 'auto')}, "
            f"critic_loss_weight {sac.get('critic_loss_weight', 'uniform')}")

def ttq_section(args, results) -> list:
    n = len(args.seeds)
    inf = float("inf")
    # Each vecsac config is a reference: ratio = entrant's time ÷ that config's time.
    refs = {e: ttq_stats(results[e])[0] for e in VECSAC_ENTRANTS if e in results}
    lines = [
        "## Time to quality", "",
        f"Training wall time until the deterministic policy's mean return on the notebook's "
        f"8 evaluation starts (`configs/eval/pointmass_notebook_starts.json`) first reaches "
        f"≥ {QUALITY_BAR} (within 5 % of the exact optimum, −2.5150). Every entrant is "
        f"evaluated every {args.every:g} s of training time, evaluation time excluded from "
        f"the clock, and trains for at most {args.cap:g} s; seeds {', '.join(map(str, args.seeds))}; "
        f"threads: {args.threads}. Time is the median over seeds; a ratio is the entrant's "
        "time ÷ a vecsac config's time (how many times faster that config is); \"> \" marks a "
        "lower bound, where the entrant trained up to the cap without reaching the bar, and "
        "\"–\" no ratio, where a run ended before the cap without reaching it.", "",
        f"| entrant | time to ≥ {QUALITY_BAR} | reached | "
        + " | ".join(f"ratio to {r}" for r in refs)
        + " | best mean (at s) | final mean | evaluations (their time) |",
        "|---|---:|---:|" + "---:|" * len(refs) + "---:|---:|---:|"]
    ratios = {}  # (entrant, ref) -> (time / ref's time, whether that is only a lower bound)
    for entrant, summaries in results.items():
        t, reached, bounded = ttq_stats(summaries)
        cells = []
        for ref, ref_t in refs.items():
            if entrant == ref:
                cells.append("1×" if t != inf else "–")
            elif ref_t == inf or (t == inf and not bounded):
                cells.append("–")
            else:
                # Not reached within the cap: it would take longer than the cap, a lower bound.
                ratios[entrant, ref] = (min(t, args.cap) / ref_t, t == inf)
                r, bound = ratios[entrant, ref]
                cells.append(("> " if bound else "") + fmt_ratio(r))
        best = statistics.median(s["best_mean_return"] for s in summaries)
        best_at = statistics.median(s["best_at_s"] for s in summaries)
        final = statistics.median(s["final_mean_return"] for s in summaries)
        evals = statistics.median(s["evaluations"] for s in summaries)
        eval_s = statistics.median(s["eval_time_s"] for s in summaries)
        ended = max(s["trained_s"] for s in summaries)
        shown = (f"{t:.1f} s" if t != inf else f"not within {args.cap:g} s" if bounded
                 else f"not reached (runs ended by {ended:.0f} s)")
        lines.append(f"| {entrant} | {shown} | {reached}/{n} | " + " | ".join(cells)
                     + f" | {best:.3f} ({best_at:.0f}) | {final:.3f} | {evals:.0f} ({eval_s:.1f} s) |")
    lines.append("")
    for ref in refs:
        sb3 = [ratios[e, ref] for e in ("sb3-default", "sb3-tuned") if (e, ref) in ratios]
        if sb3:
            worst, bound = min(sb3, key=lambda r: r[0])  # the faster SB3 variant decides
            lines += [f"Goal: vecsac ≥ {GOALS['ttq_sb3']:g}× faster than SB3 (its faster variant), "
                      f"with {ref} (`configs/{VECSAC_ENTRANTS[ref]}`): "
                      f"**{verdict(worst, GOALS['ttq_sb3'], bound)}** "
                      f"({'> ' if bound else ''}{fmt_ratio(worst)}).", ""]
        elif refs[ref] == inf:
            lines += [f"Goal: vecsac ≥ {GOALS['ttq_sb3']:g}× faster than SB3, with {ref}: "
                      f"**not met** ({ref} did not reach the bar within the cap on the median seed).", ""]
    why = {"finished": "the config's run.total_timesteps ended first, so the last evaluation "
           "is the run's final word", "deadline": "it ran 3 × cap + 120 s of wall time"}
    for ref in refs:
        for stop, text in why.items():
            seeds = [str(s["seed"]) for s in results[ref] if s.get("vecsac_stop") == stop]
            if seeds:
                lines += [f"Note: {ref}, seed(s) {', '.join(seeds)}: stopped before the cap; {text}.", ""]
    lines += ["Per seed (time to the bar; best mean at s):", ""]
    for entrant, summaries in results.items():
        lines.append(f"- {entrant}: " + "; ".join(
            f"seed {s['seed']}: " + (f"{s['time_to_bar_s']:.1f} s" if s["time_to_bar_s"] is not None
                                     else "not reached")
            + f", best {s['best_mean_return']:.3f} at {s['best_at_s']:.0f} s" for s in summaries))

    def vecsac_note(entrant: str, what: str) -> str:
        vs = results[entrant][0]
        calibration = (f" ({vs['vecsac_sps']:.0f}/s → every {vs['eval_freq']} transitions for seed "
                       f"{vs['seed']})" if "vecsac_sps" in vs else "")
        name = VECSAC_ENTRANTS[entrant]
        return (f"`vecsac train` with {what}, `configs/{name}` ({describe_vecsac_config(name)}), "
                "on the CPU, to the config's own total. Its evaluations fall every `run.eval_freq` "
                f"transitions, set to the cadence × its transitions/s from a short calibration "
                f"run{calibration}; its evaluations after the cap are left out. Times are "
                "`train_time_s` from its `evals.jsonl`.")

    notes = {
        "sb3-default": "SB3 `SAC` with its defaults (lr 3e-4, buffer 1e6, learning_starts 100, "
        "batch 256, train_freq 1, gradient_steps 1, ent_coef auto, net_arch [256, 256]) on "
        "`bench/peers/pointmass_env.py`, the notebook's env as a `gymnasium.Env` (SB3 "
        "bootstraps through the 200-step truncation, as vecsac does).",
        "sb3-tuned": "the same with rl-baselines3-zoo's `Pendulum-v1` hyperparameters, which "
        "set only learning_rate = 1e-3: the zoo's tuned entry for the nearest task (1-D bounded "
        "torque, quadratic cost, 200-step episodes); vecsac's default config uses the same rate.",
        "notebook": "the notebook's own SAC and loop (`bench/peers/notebook_sac.py`) with the "
        "config it ran (FAST_RUN: batch 128, replay 50k, 500 random steps, 1 update per step, "
        "lr 3e-4, initial α 0.2), one env, episodes reset with seed + episode.",
    }
    if "vecsac" in results:
        notes["vecsac"] = vecsac_note("vecsac", "its default config")
    if "vecsac-many-envs" in results:
        notes["vecsac-many-envs"] = vecsac_note(
            "vecsac-many-envs", "the many-envs config (the same trainer and defaults otherwise; "
            "on a GPU this is the shape of config to run)")
    lines += ["", "Entrants:", ""] + [f"- **{e}**: {notes[e]}" for e in results] + [
        "",
        "Python entrants evaluate by stepping 8 copies of the wrapper env in lockstep "
        "(SB3: `predict(deterministic=True)`; notebook: tanh of the mean, scaled); vecsac by "
        "its own periodic evaluation from `run.eval_init`. The Python entrants evaluate a "
        "last time when their clock reaches the cap; vecsac's evaluations past the cap are "
        "not counted.", ""]
    return lines


def race_section(args, race) -> list:
    """The Pendulum race (issue #14 §7): training time, score, and vecsac's time ÷ each
    entrant's, medians over seeds."""
    stats = {e: (statistics.median(s["train_s"] for s in runs),
                 statistics.median(s["mean_return"] for s in runs),
                 sum(s["reached"] for s in runs), statistics.median(s["steps"] for s in runs))
             for e, runs in race.items()}
    n = len(race["vecsac-pendulum"])
    vecsac_t, _, vecsac_ok, _ = stats["vecsac-pendulum"]
    lines = [
        "## Pendulum time-to-quality race", "",
        "Each entrant trains its own default recipe on `Pendulum-v1` for its own number of "
        "steps (the steps column: `--race-steps`, and `--quick`, override them all); the "
        "clock covers training only (no evaluation during it, and no start-up or "
        "compilation). The trained deterministic policy is then scored once: the mean return "
        f"of {race['vecsac-pendulum'][0]['episodes']} episodes, each to its 200-step truncation. "
        f"The bar is a mean ≥ {PENDULUM_BAR:g} (rl-zoo reports −157 ± 89 for SB3's SAC at 20k "
        f"steps). Medians over seeds {', '.join(str(s['seed']) for s in race['vecsac-pendulum'])}"
        + (f" (SB3: {', '.join(str(s['seed']) for s in race['sb3-pendulum'])})"
           if "sb3-pendulum" in race else "") + "; threads: "
        f"{args.threads}, except RLtools (MKL on 1 thread, its default). A ratio below 1× means "
        "vecsac trained faster; a ratio is marked † where either side's median score missed "
        "the bar (then it compares times, not times to quality).", "",
        f"| entrant | steps | training time | mean return | ≥ {PENDULUM_BAR:g} | "
        "vecsac time ÷ its time |",
        "|---|---:|---:|---:|---:|---:|"]
    for entrant, (t, score, reached, steps) in stats.items():
        missed = score < PENDULUM_BAR or stats["vecsac-pendulum"][1] < PENDULUM_BAR
        ratio = fmt_ratio(vecsac_t / t) + (" †" if missed else "")
        lines.append(f"| {entrant} | {steps:.0f} | {t:.1f} s | {score:.1f} | "
                     f"{reached}/{len(race[entrant])} | "
                     f"{'1×' if entrant == 'vecsac-pendulum' else ratio} |")
    rt, rscore, rreached, _ = stats["rltools-pendulum"]
    lines += ["", f"**vecsac time ÷ RLtools time: {fmt_ratio(vecsac_t / rt)}** "
              f"(vecsac {vecsac_t:.1f} s, {vecsac_ok}/{n} seeds at the bar; RLtools {rt:.1f} s, "
              f"{rreached}/{n}).", "", "Per seed (training s, mean return):", ""]
    for entrant, runs in race.items():
        lines.append(f"- {entrant}: " + "; ".join(
            f"seed {s['seed']}: {s['train_s']:.1f} s, {s['mean_return']:.1f}" for s in runs))
    r0 = race["rltools-pendulum"][0]
    lines += [
        "", "Entrants:", "",
        "- **vecsac-pendulum**: `vecsac train --config configs/pendulum.json` (RLtools's shapes: "
        "lr 1e-3, 64-64 nets, 1 env, batch 100, 10k transitions, `run.threads` 1; uniform random "
        "actions for the first 5,000 transitions, then one gradient step per transition, so half "
        "RLtools's gradient steps) on the CPU, then `vecsac eval --episodes 100 --seed 1000`. Its time "
        "is `time_s` of the last `metrics.jsonl` line, the training loop's own clock at its "
        "final step (the whole process took "
        f"{statistics.median(s['wall_s'] for s in race['vecsac-pendulum']):.1f} s, median, "
        "with start-up, the final checkpoint and `eval.json`).",
        "- **rltools-pendulum**: RLtools' default SAC from its Python package "
        "(`rltools.SAC(env_factory)`: 64-64 actor and critics, batch 100, 1 env, 10k steps, "
        "lr 1e-3, adaptive α) with `enable_evaluation=False` (its default evaluates 10 "
        "episodes every 1000 steps inside `step()`, on the clock), on gymnasium's "
        "`Pendulum-v1` behind `RescaleAction(env, -1, 1)` as RLtools' example trains it; "
        f"BLAS: {r0.get('blas', '?')}, {r0.get('mkl_threads', '?')} thread. The clock covers "
        "`while not state.step()`: the package compiles the loop for these shapes just in time "
        f"(up to {max(s['compile_s'] for s in race['rltools-pendulum']):.0f} s in this run, "
        "under a second once cached in /tmp/rltools; not counted). It steps the Python env through pybind11, so the gymnasium "
        "env's Python cost is on its clock. Scored by `state.action(obs)` (the tanh of the "
        "mean) on the same wrapped env, 100 episodes from `reset(seed=1000)`.",
    ]
    if "sb3-pendulum" in race:
        lines.append(
            "- **sb3-pendulum**: SB3 `SAC(\"MlpPolicy\", \"Pendulum-v1\", learning_rate=1e-3)` "
            "(rl-zoo's entry; the rest SB3's defaults: 256-256 nets, batch 256, 1 env, one "
            "gradient step per step, 20k steps), `learn()` timed; scored with "
            "`predict(deterministic=True)`, 100 episodes from `reset(seed=1000)`.")
    return lines + [""]


def engine_section(args, figures, rates) -> list:
    """Issue #14's engine goals: the update against its own GEMMs, launches, the sgemm peak,
    and the update throughput against sbx (from the throughput section's medians)."""
    def name(family, batch):
        return f"BM_{family}_Cpu/{batch}/real_time"
    peak = {t: figures[f"BM_SgemmPeak_Cpu/{t}/real_time"]["counters"]["FLOP/s"]
            for t in (1, 2) if f"BM_SgemmPeak_Cpu/{t}/real_time" in figures}
    peak_here = peak.get(min(args.threads, 2))
    lines = ["## The update engine", "",
             f"One `vecsac_bench` process at {args.threads} thread(s) (`OMP_NUM_THREADS`), medians "
             "of 3 repetitions: each update beside the same GEMMs replayed alone "
             "(`BM_GemmReference*`: the engine's own calls of one update, recorded from it), the "
             "launches one update makes (`ops_per_update`: ATen ops that are not views, plus "
             "vecsac's kernel and GEMM wrapper calls; on a GPU each is a launch), and the CPU's "
             "ceiling (`BM_SgemmPeak_Cpu`: MKL's sgemm at 2048³ on the same threads): "
             + ", ".join(f"{v / 1e9:.1f} GFLOP/s on {t} thread(s)" for t, v in peak.items()) + ".",
             "", "| shapes | update | its GEMMs alone | update ÷ GEMMs | ops_per_update | "
             "update GFLOP/s | of the sgemm peak |", "|---|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for label, family, batch in ENGINE_SHAPES:
        u = figures.get(name("SacUpdate" + family, batch))
        g = figures.get(name("GemmReference" + family, batch))
        if not u or not g:
            continue
        ratio = u["time_ns"] / g["time_ns"]
        flops = u["counters"]["FLOP/s"]
        ops = int(u["counters"]["ops_per_update"])
        lines.append(f"| {label} | {u['time_ns'] / 1e3:,.0f} µs | {g['time_ns'] / 1e3:,.0f} µs | "
                     f"{fmt_ratio(ratio)} | {ops} | {flops / 1e9:.1f} | "
                     + (f"{flops / peak_here:.0%}" if peak_here else "–") + " |")
        if family in ("Default", "Small"):
            verdicts.append(f"update ÷ GEMMs ≤ {GOALS_ENGINE['overhead']}× at {label}: "
                            f"**{'met' if ratio <= GOALS_ENGINE['overhead'] else 'not met'}** "
                            f"({fmt_ratio(ratio)})")
        if family == "Default":
            verdicts.append(f"ops_per_update ≤ {GOALS_ENGINE['ops']} at the default networks: "
                            f"**{'met' if ops <= GOALS_ENGINE['ops'] else 'not met'}** ({ops})")
    lines.append("")
    if rates and "sbx" in rates:
        med = {i: {b: statistics.median(v) for b, v in r.items()} for i, r in rates.items()}
        for label, key, batch in (("256-256, batch 256", "", 256),
                                  ("the default networks, batch 1024", "@default", 1024)):
            v, x = med.get("vecsac" + key, {}).get(batch), med.get("sbx" + key, {}).get(batch)
            if v and x:
                verdicts.append(f"update throughput ≥ {GOALS_ENGINE['vs_sbx']}× sbx at {label}: "
                                f"**{'met' if v / x >= GOALS_ENGINE['vs_sbx'] else 'not met'}** "
                                f"({fmt_ratio(v / x)})")
        u = figures.get(name("SacUpdate", 256))
        if u and peak_here and med.get("sbx", {}).get(256):
            sbx_flops = med["sbx"][256] * u["counters"]["flops_per_update"]
            lines += [f"At 256-256 / batch 256 sbx's {med['sbx'][256]:.1f} updates/s are "
                      f"{sbx_flops / 1e9:.1f} GFLOP/s of this update's FLOPs, "
                      f"{sbx_flops / peak_here:.0%} of the sgemm peak: no implementation of the same "
                      f"FLOPs can run more than {peak_here / sbx_flops:.2f}× as fast as sbx here.", ""]
    lines += ["Goals (issue #14):", ""] + [f"- {v}" for v in verdicts] + [""]
    return lines


def main_job_section(args, runs) -> list:
    """Issue #14's point-mass goal: the main job's training time and quality, per seed."""
    g = MAIN_JOB_GOALS
    times = [r["train_s"] for r in runs]
    good_nb = sum(r["notebook_gap"] <= g["notebook_ratio"] - 1 for r in runs)
    good_rand = sum(r["random_gap"] <= g["random_ratio"] - 1 for r in runs)
    med = statistics.median(times)
    met = (med <= g["train_s"] and good_nb >= min(g["seeds_needed"], len(runs))
           and good_rand == len(runs))
    lines = ["## The main job", "",
             "`vecsac train --config configs/pointmass.json` on the CPU at "
             f"{args.threads} thread(s), seeds {', '.join(str(r['seed']) for r in runs)} "
             "(`bench/peers/main_job.py`), then `vecsac eval` of the run's policy on the "
             "notebook's 8 starts and on 256 starts from the env's reset distribution "
             "(`--episodes 256 --seed 7`). The gap is mean(optimal − return) ÷ mean |optimal|, "
             "so 1.02× the optimal cost is a gap of 0.02. Training time is the loop's own clock "
             "at its last step.", "",
             "| seed | training time | notebook's 8 starts | gap | 256 random starts | gap |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['seed']} | {r['train_s']:.1f} s | {r['notebook_mean']:.4f} | "
              f"{r['notebook_gap']:.4f} | {r['random_mean']:.4f} | {r['random_gap']:.4f} |"
              for r in runs]
    lines += ["", f"Goal: training ≤ {g['train_s']:g} s, ≤ {g['notebook_ratio']}× the optimal cost "
              f"on the notebook's starts on at least {g['seeds_needed']} of 5 seeds and ≤ "
              f"{g['random_ratio']}× on random starts: **{'met' if met else 'not met'}** "
              f"(median {med:.1f} s; {good_nb} of {len(runs)} seeds within "
              f"{g['notebook_ratio']}×; {good_rand} of {len(runs)} within {g['random_ratio']}× on "
              "random starts).", ""]
    return lines


def write_report(args, info, rates, results, log, started, elapsed, load_after,
                 rendered_again=None, race=None, engine=None, main_runs=None) -> None:
    lines = ["# Peer benchmarks", ""]
    if args.quick:
        lines += ["> **Quick smoke test (`--quick`): one repetition and short caps. These numbers "
                  "check that the pipeline runs; they are not measurements.**", ""]
    lines += [f"Written by `bench/peers/run.sh` (issue #5 §2) on {started:%Y-%m-%d %H:%M} UTC in "
              f"{elapsed / 60:.1f} min. Load average (1 min) before / after: "
              f"{args.load_before:.2f} / {load_after:.2f}; on a busy machine every "
              "number here is suspect."]
    if rendered_again:
        lines += ["", f"Rendered again on {rendered_again:%Y-%m-%d %H:%M} UTC from the results that "
                  "run recorded (`--render-from`), with the report code of the git commit "
                  "below; the measurements are unchanged."]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info] + [""]
    if main_runs:
        lines += main_job_section(args, main_runs)
    if engine:
        lines += engine_section(args, engine, rates)
    if rates:
        lines += throughput_section(args, rates)
    if results:
        lines += ttq_section(args, results)
    if race:
        lines += race_section(args, race)
    lines += ["## Commands", "", "From the repository root:", "", "```",
              ("VECSAC_BUILD_DIR=" + shlex.quote(os.environ["VECSAC_BUILD_DIR"]) + " "
               if "VECSAC_BUILD_DIR" in os.environ else "")
              + shlex.join(["bench/peers/run.sh", *args.argv]), "```", "",
              "which ran, in order:", "", "```", *log, "```", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, out)  # atomic: a failed or interrupted run leaves the old report
    print(f"[peers] wrote {rel(out)}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: " + str(QUICK))
    ap.add_argument("--reps", type=int, help=f"update-throughput repetitions (default {FULL['reps']})")
    ap.add_argument("--min-time", type=float, help="s per throughput measurement")
    ap.add_argument("--warmup", type=float, help="s of warm-up before each")
    ap.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--cap", type=float, help=f"time-to-quality cap, s (default {FULL['cap']:g})")
    ap.add_argument("--every", type=float, help=f"evaluation cadence, s (default {FULL['every']:g})")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--entrants", nargs="+", choices=ENTRANTS, default=list(ENTRANTS))
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-ttq", action="store_true")
    ap.add_argument("--skip-race", action="store_true", help="leave out the Pendulum race")
    ap.add_argument("--skip-engine", action="store_true",
                    help="leave out the engine figures (vecsac_bench: overhead, launches, sgemm peak)")
    ap.add_argument("--skip-main-job", action="store_true",
                    help="leave out the main job (configs/pointmass.json per seed, scored)")
    ap.add_argument("--main-job-seeds", type=int, nargs="+",
                    help="the main job's seeds (default 0-4; --quick: 0)")
    ap.add_argument("--race-seeds", type=int, nargs="+",
                    help="the Pendulum race's seeds (default: --seeds)")
    ap.add_argument("--sb3-race-seeds", type=int, nargs="+",
                    help="the race seeds SB3 runs (default: all; its 20k steps take ~9 min each)")
    ap.add_argument("--race", choices=("pendulum",),
                    help="run only this race (issue #14 §7); it writes WORK/pendulum_race.md "
                    "and WORK/pendulum_race_results.json, so the full report and its results "
                    "stay as they are")
    ap.add_argument("--race-entrants", nargs="+", choices=RACE, default=list(RACE),
                    help="the race's entrants (vecsac-pendulum and rltools-pendulum are required: "
                    "the headline ratio is theirs; SB3's 20k steps take minutes per seed)")
    ap.add_argument("--race-steps", type=int,
                    help="training steps of every race entrant instead of each one's own "
                    f"(default: their own; --quick: {QUICK['race_steps']})")
    ap.add_argument("--out", type=Path,
                    help="the report (default docs/measurements/peers.md; WORK/pendulum_race.md with --race)")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "peers",
                    help="run directories of the time-to-quality and race entrants")
    build = Path(os.environ.get("VECSAC_BUILD_DIR", REPO / "build"))  # as scripts/setup.sh
    ap.add_argument("--vecsac", type=Path, default=build / "vecsac")
    ap.add_argument("--vecsac-bench", type=Path, default=build / "vecsac_bench")
    ap.add_argument("--render-from", type=Path, metavar="RESULTS_JSON",
                    help="measure nothing: write the report again from a run's recorded "
                    "results (WORK/peers_results.json, which every run writes)")
    args = ap.parse_args()
    if args.render_from:
        return render_from(ap, args)
    args.argv = sys.argv[1:]
    fill_mode_defaults(args)
    if not {"vecsac-pendulum", "rltools-pendulum"} <= set(args.race_entrants):
        ap.error("--race-entrants must include vecsac-pendulum and rltools-pendulum")
    if args.race:  # the race alone
        args.skip_throughput = args.skip_ttq = args.skip_engine = args.skip_main_job = True
        args.skip_race = False
    if not set(VECSAC_ENTRANTS) & set(args.entrants) and not args.skip_ttq:
        ap.error(f"--entrants must include one of {', '.join(VECSAC_ENTRANTS)}: the ratios are to vecsac")
    needs_bench = not (args.skip_throughput and args.skip_engine)
    for exe in (args.vecsac,) + ((args.vecsac_bench,) if needs_bench else ()):
        if not exe.is_file():
            sys.exit(f"error: {exe} not found; build it first (scripts/setup.sh)")
    args.load_before = os.getloadavg()[0]
    started, t0 = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    info = machine_info(args)
    log = []
    main_runs = None if args.skip_main_job else main_job(args, log)
    engine = None if args.skip_engine else engine_figures(args, log)
    rates = None if args.skip_throughput else update_throughput(args, log)
    results = None if args.skip_ttq else time_to_quality(args, log)
    race = None if args.skip_race else pendulum_race(args, log)
    elapsed, load_after = time.monotonic() - t0, os.getloadavg()[0]
    record = {"argv": args.argv, "info": info, "rates": rates, "results": results, "race": race,
              "engine": engine, "main_job": main_runs,
              "log": log, "started": started.isoformat(), "elapsed_s": elapsed,
              "load_before": args.load_before, "load_after": load_after,
              "vecsac_build_dir": os.environ.get("VECSAC_BUILD_DIR")}
    args.work.mkdir(parents=True, exist_ok=True)
    results_name = "pendulum_race_results.json" if args.race else "peers_results.json"
    tmp = args.work / f".{results_name}.tmp{os.getpid()}"
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, args.work / results_name)
    write_report(args, info, rates, results, log, started, elapsed, load_after, race=race,
                 engine=engine, main_runs=main_runs)


def fill_mode_defaults(args) -> None:
    """Options left unset take --quick's or the full measurement's values."""
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.main_job_seeds is None:
        args.main_job_seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    if args.race_seeds is None:
        args.race_seeds = args.seeds
    if args.sb3_race_seeds is None:
        args.sb3_race_seeds = args.race_seeds
    if args.out is None:  # a race alone must not overwrite the full report
        args.out = (args.work / "pendulum_race.md" if args.race
                    else REPO / "docs" / "measurements" / "peers.md")


def render_from(ap, cli) -> None:
    """The report of a recorded run, with this code's wording (the numbers are the run's)."""
    try:
        text = cli.render_from.read_text()
    except OSError as e:
        sys.exit(f"error: --render-from {cli.render_from}: cannot read it ({e.strerror})")
    try:
        record = json.loads(text)
        args = ap.parse_args(record["argv"])
    except (ValueError, KeyError, TypeError) as e:
        sys.exit(f"error: --render-from {cli.render_from}: not a peers_results.json "
                 f"(a run's WORK/peers_results.json): {e!r}")
    args.argv, args.out, args.load_before = record["argv"], cli.out, record["load_before"]
    fill_mode_defaults(args)
    if record.get("vecsac_build_dir"):
        os.environ["VECSAC_BUILD_DIR"] = record["vecsac_build_dir"]
    now = dict(machine_info(args))["git commit"]
    info = [(k, v if k != "git commit" or v == now else f"{v} (measured); {now} (report)")
            for k, v in record["info"]]
    rates = record["rates"] and {impl: {int(b): v for b, v in r.items()}
                                 for impl, r in record["rates"].items()}
    started = datetime.datetime.fromisoformat(record["started"])
    write_report(args, info, rates, record["results"], record["log"], started,
                 record["elapsed_s"], record["load_after"],
                 rendered_again=datetime.datetime.now(datetime.timezone.utc),
                 race=record.get("race"), engine=record.get("engine"),
                 main_runs=record.get("main_job"))


if __name__ == "__main__":
    main()
