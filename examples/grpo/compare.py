"""Runs GRPO (grpo.py) for each sampler and seed against one quasiroll cluster, then writes
reward vs step and zero-variance-group fraction vs step with 95% confidence bands (PNG and
SVG), the steps each sampler needs to reach a target reward with bootstrap CIs, and a
Markdown report.

usage: compare.py --model-id ID --prompts FILE --out DIR [--samplers iid,lattice]
                  [--seeds 1,2,3] [--steps 30] [grpo.py options...]
       compare.py --report-only --out DIR     (re-plot existing runs)
"""
import argparse
import glob
import json
import math
import os
import platform
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def t95(n):
    """Two-sided 95% Student t quantile for n-1 degrees of freedom (n <= 30 table, else 1.96)."""
    table = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
    return table.get(n, 2.0 if n <= 30 else 1.96)


def mean_ci(xs):
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, m, m
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = t95(n) * sd / math.sqrt(n)
    return m, m - h, m + h


def smooth(values, window):
    out = []
    for i in range(len(values)):
        lo = max(0, i - window + 1)
        out.append(sum(values[lo:i + 1]) / (i + 1 - lo))
    return out


def steps_to(rows, target, window):
    """First step whose trailing-window mean reward reaches target; None if never."""
    sm = smooth([r["reward"] for r in rows], window)
    for r, v in zip(rows, sm):
        if v >= target:
            return r["step"] + 1
    return None


def load_runs(out_dir):
    runs = {}
    for path in sorted(glob.glob(os.path.join(out_dir, "run-*.jsonl"))):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        if rows:
            runs.setdefault(rows[0]["sampler"], {})[rows[0]["seed"]] = rows
    return runs


def report(out_dir, target, window, machine):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = load_runs(out_dir)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    summary = {}
    for sampler, by_seed in sorted(runs.items()):
        steps = min(len(r) for r in by_seed.values())
        xs = list(range(1, steps + 1))
        for ax, key in zip(axes, ("reward", "zero_variance")):
            per_step = [mean_ci([smooth([r[key] for r in rows], window)[s] for rows in by_seed.values()]) for s in range(steps)]
            ax.plot(xs, [p[0] for p in per_step], label="%s (%d seeds)" % (sampler, len(by_seed)))
            ax.fill_between(xs, [p[1] for p in per_step], [p[2] for p in per_step], alpha=0.2)
        reached = [steps_to(rows, target, window) for rows in by_seed.values()]
        finite = [s if s is not None else steps + 1 for s in reached]
        rng = random.Random(0)
        boots = sorted(sum(rng.choice(finite) for _ in finite) / len(finite) for _ in range(2000))
        summary[sampler] = {
            "seeds": sorted(by_seed), "steps": steps, "steps_to_target": reached,
            "mean_steps": sum(finite) / len(finite), "ci": (boots[49], boots[1949]),
            "final_reward": mean_ci([sum(r["reward"] for r in rows[-window:]) / window for rows in by_seed.values()]),
            "zero_variance": mean_ci([sum(r["zero_variance"] for r in rows) / len(rows) for rows in by_seed.values()]),
            # zero-variance groups in which every sample failed (the rest: every sample passed);
            # only runs that recorded the split
            "zero_variance_all_fail": mean_ci([sum(r["zero_variance_all_fail"] for r in rows) / len(rows)
                                               for rows in by_seed.values() if "zero_variance_all_fail" in rows[0]] or [float("nan")]),
            "seconds_per_step": sum(r["seconds"] for rows in by_seed.values() for r in rows) / sum(len(rows) for rows in by_seed.values()),
        }
    axes[0].axhline(target, color="grey", linestyle=":", linewidth=1)
    axes[0].set(xlabel="GRPO step", ylabel="mean reward (trailing %d)" % window, title="reward vs step")
    axes[1].set(xlabel="GRPO step", ylabel="zero-variance groups (trailing %d)" % window, title="zero-variance fraction")
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out_dir, "grpo." + ext))
    lines = ["| sampler | seeds | steps to reward >= %.2f (mean, 95%% bootstrap CI) | per seed | final reward (95%% CI) | zero-variance fraction (95%% CI) | of which every sample failed (fraction of groups) | s/step |" % target,
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for sampler, s in summary.items():
        lines.append("| %s | %d | %.1f [%.1f, %.1f] | %s | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] | %.3f | %.1f |" % (
            sampler, len(s["seeds"]), s["mean_steps"], s["ci"][0], s["ci"][1],
            ", ".join("never" if x is None else str(x) for x in s["steps_to_target"]),
            *s["final_reward"], *s["zero_variance"], s["zero_variance_all_fail"][0], s["seconds_per_step"]))
    # Paired by seed (seed s draws the same prompt batches under every sampler): the difference
    # of each sampler from the first one, with a t-interval over seeds.
    names = list(summary)
    paired = ["", "| sampler − %s (paired by seed) | seeds | steps to target (mean, 95%% t-CI) | zero-variance fraction (mean, 95%% t-CI) |" % names[0],
              "| --- | --- | --- | --- |"] if len(names) > 1 else []
    base = runs[names[0]] if names else {}
    phases = []
    for sampler in names[1:]:
        seeds = sorted(set(runs[sampler]) & set(base))
        if len(seeds) < 2:
            continue
        steps = summary[sampler]["steps"]

        def reach(rows):
            r = steps_to(rows, target, window)
            return r if r is not None else steps + 1

        d_steps = [reach(runs[sampler][s]) - reach(base[s]) for s in seeds]
        d_zv = [sum(r["zero_variance"] for r in runs[sampler][s]) / len(runs[sampler][s])
                - sum(r["zero_variance"] for r in base[s]) / len(base[s]) for s in seeds]
        summary[sampler]["paired_vs_" + names[0]] = {"steps": mean_ci(d_steps), "zero_variance": mean_ci(d_zv)}
        paired.append("| %s | %d | %+.1f [%+.1f, %+.1f] | %+.3f [%+.3f, %+.3f] |" % (
            sampler, len(seeds), *mean_ci(d_steps), *mean_ci(d_zv)))
        # the same by phase of training (thirds of the run): the policy sharpens as it learns,
        # so the groups that are zero-variance change from mixed-difficulty to all-solved/all-failed
        thirds = [(0, steps // 3), (steps // 3, 2 * steps // 3), (2 * steps // 3, steps)]
        phases.append("")
        phases.append("| %s − %s by phase (steps) | zero-variance fraction %s | %s | difference (95%% t-CI) | reward difference (95%% t-CI) |"
                      % (sampler, names[0], names[0], sampler))
        phases.append("| --- | --- | --- | --- | --- |")
        for lo, hi in thirds:
            def phase(rows, key):
                return sum(r[key] for r in rows[lo:hi]) / (hi - lo)
            zb = [phase(base[s], "zero_variance") for s in seeds]
            zs = [phase(runs[sampler][s], "zero_variance") for s in seeds]
            rd = [phase(runs[sampler][s], "reward") - phase(base[s], "reward") for s in seeds]
            phases.append("| %d–%d | %.3f | %.3f | %+.3f [%+.3f, %+.3f] | %+.3f [%+.3f, %+.3f] |" % (
                lo + 1, hi, mean_ci(zb)[0], mean_ci(zs)[0], *mean_ci([b - a for a, b in zip(zb, zs)]), *mean_ci(rd)))
    lines += paired + phases
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write("# GRPO: coupled vs independent rollouts\n\nMachine: %s\n\n%s\n\n"
                "Runs that never reach the target count as steps+1. Plots: grpo.png, grpo.svg.\n"
                % (machine, table))
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(table)
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--samplers", default="iid,lattice")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--target", type=float, default=None, help="target reward (default: 0.1 above the first steps' mean)")
    ap.add_argument("--window", type=int, default=3)
    ap.add_argument("--report-only", action="store_true")
    args, rest = ap.parse_known_args()
    os.makedirs(args.out, exist_ok=True)
    machine = "%s, %d CPUs, Python %s" % (platform.platform(), os.cpu_count() or 0, platform.python_version())
    if not args.report_only:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for sampler in args.samplers.split(","):
                path = os.path.join(args.out, "run-%s-%d.jsonl" % (sampler, seed))
                t0 = time.time()
                subprocess.run([sys.executable, os.path.join(HERE, "grpo.py"), "--sampler", sampler,
                                "--seed", str(seed), "--out", path] + rest, check=True)
                print("run %s seed %d: %.0f s" % (sampler, seed, time.time() - t0), flush=True)
    target = args.target
    if target is None:
        runs = load_runs(args.out)
        first = [r[0]["reward"] for by in runs.values() for r in by.values()]
        target = round(sum(first) / len(first) + 0.1, 2)
    report(args.out, target, args.window, machine)


if __name__ == "__main__":
    main()
