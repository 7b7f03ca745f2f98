"""Speed of `estimate` and `inventory`, as a user runs them (fresh processes, wall clock).

Measures, each the median of N runs:
  1. `estimate --all` cold (`--no-cache`: every stack's program runs under mocks) and warm (the whole
     estimate cached: cli/commands/estimate.py `docs_key`), warm both as JSON and as the default tables;
     "recomputed": inventories cached but the estimate computed again (a `--usage` file whose only
     content, a comment, differs per run, so its key differs), with the share of that run the
     break-even search takes (timed in one process); and warm with `--sensitivity --growth 10` (flip
     points, volume sweep, growth: opt-in, no target; cached under its own key after the first run);
  2. `inventory --no-cache` for generated stacks of 1 and 16 regions (the per-region cost of the program);
  3. whether a warm run imports Pulumi (it must not).
Targets (issue 3, 2-core machine): all stacks cold < 3 s together, warm < 0.5 s, each added region
< 0.3 s (16 regions cold < 6 s, as JSON and as the table). Run: `.venv/bin/python benchmarks/bench_estimate.py [--runs 5]`;
it prints a Markdown table to paste into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cli.main"]
# Regions where EC2 offers g6.xlarge (infra/data/aws_instance_facts.json), for generated stacks.
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-2",
           "eu-west-2", "eu-west-3", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-south-2",
           "ap-southeast-2", "ca-central-1", "sa-east-1"]


def generated_stack(regions: int, folder: pathlib.Path) -> pathlib.Path:
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod-us.yaml").read_text())
    pool = {"name": "l4", "instanceType": "g6.xlarge", "minNodes": 1, "maxNodes": 4}
    doc["config"]["tradeoff-infra:regions"] = [
        {"region": r, "vpcCidr": f"10.{i}.0.0/16", "gpuPools": [pool]} for i, r in enumerate(REGIONS[:regions])]
    doc["config"]["tradeoff-infra:autoscaling"].update({"minReplicas": 1, "maxReplicas": 4})
    if regions == 1:
        doc["config"]["tradeoff-infra:endpoint"]["mode"] = "regional"
    path = folder / f"Pulumi.bench-{regions}r.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def wall(args: list[str], env: dict, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(CLI + args, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return statistics.median(times), times


def recomputed(env: dict, runs: int, folder: pathlib.Path) -> tuple[float, list[float]]:
    """`estimate --all --format json` with the inventories cached and the estimate itself computed again."""
    times = []
    for i in range(runs):
        usage = folder / f"usage-{i}.yaml"
        usage.write_text(f"# run {i} {time.time()}\n")
        t, _ = wall(["estimate", "--all", "--format", "json", "--usage", str(usage)], env, 1)
        times.append(t)
    return statistics.median(times), times


BREAK_EVEN_SHARE = """
import sys, time
import cli.estimate as est
from cli.main import app
spent, real = [0.0], getattr(est, "break_even", None)
if real is None:
    print("n/a"); raise SystemExit
def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return real(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - started
est.break_even = timed
started = time.perf_counter()
try:
    app(["estimate", "--all", "--format", "json", "--usage", sys.argv[1]])
except SystemExit:
    pass
total = time.perf_counter() - started
print(f"{spent[0]:.3f} {total:.3f}", file=sys.stderr)
"""


def break_even_share(env: dict, folder: pathlib.Path) -> str:
    """Seconds the break-even search takes in one recomputed `estimate --all` (in one process, after imports)."""
    usage = folder / "usage-share.yaml"
    usage.write_text(f"# share {time.time()}\n")
    done = subprocess.run([sys.executable, "-c", BREAK_EVEN_SHARE, str(usage)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    last = (done.stderr.strip().splitlines() or ["n/a"])[-1]
    try:
        spent, total = map(float, last.split())
    except ValueError:
        return "n/a"
    return f"{spent:.3f} s of the command's {total:.3f} s in-process"


def imports_pulumi_when_warm(env: dict) -> bool:
    code = ("import sys; from cli.main import app\n"
            "try: app(['estimate', '--all', '--format', 'json'])\n"
            "except SystemExit: pass\n"
            "print(any(m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_kubernetes') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        env = {**os.environ, "TRADEOFF_INFRA_CACHE_DIR": str(folder / "cache")}
        rows = []
        cold, cold_all = wall(["estimate", "--all", "--format", "json", "--no-cache"], env, args.runs)
        rows.append(("estimate --all --no-cache (cold, every shipped stack)", cold, cold_all, "< 3 s"))
        wall(["estimate", "--all", "--format", "json"], env, 1)  # fill the cache
        warm, warm_all = wall(["estimate", "--all", "--format", "json"], env, args.runs)
        rows.append(("estimate --all --format json (warm: cache hit)", warm, warm_all, "< 0.5 s"))
        table, table_all = wall(["estimate", "--all"], env, args.runs)
        rows.append(("estimate --all (warm, default table output)", table, table_all, "< 0.5 s"))
        again, again_all = recomputed(env, args.runs, folder)
        rows.append(("estimate --all --format json, recomputed (inventories cached, estimate computed)", again,
                     again_all, ""))
        share = break_even_share(env, folder)
        opt_in = ["estimate", "--all", "--format", "json", "--sensitivity", "--growth", "10"]
        wall(opt_in, env, 1)  # its own cache entry
        sens, sens_all = wall(opt_in, env, args.runs)
        rows.append(("estimate --all --format json --sensitivity --growth 10 (warm; opt-in analysis)", sens, sens_all, ""))
        per_region = {}
        for n in (1, 16):
            stack = generated_stack(n, folder)
            t, ts = wall(["inventory", str(stack), "--no-cache", "--format", "json"], env, args.runs)
            per_region[n] = t
            rows.append((f"inventory --no-cache, generated {n}-region stack", t, ts, "< 6 s" if n == 16 else ""))
        t, ts = wall(["inventory", str(generated_stack(16, folder)), "--no-cache"], env, args.runs)
        rows.append(("inventory --no-cache, generated 16-region stack, default table output", t, ts, "< 6 s"))
        added = (per_region[16] - per_region[1]) / 15
        baseline, base_all = wall(["--version"], env, args.runs)
        rows.append(("python + CLI start (`--version`), for reference", baseline, base_all, ""))
        pulumi_warm = imports_pulumi_when_warm(env)
    load = os.getloadavg()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {args.runs} runs, wall clock.\n")
    print("| measurement | median | runs | target |\n| --- | ---: | --- | --- |")
    for name, t, ts, target in rows:
        print(f"| {name} | {t:.2f} s | {', '.join(f'{x:.2f}' for x in ts)} | {target} |")
    print(f"| each added region ((16-region - 1-region) / 15) | {added:.3f} s | | < 0.3 s |")
    print(f"\nBreak-even search in a recomputed run: {share}")
    print(f"Warm run imports pulumi: {'YES (regression)' if pulumi_warm else 'no'}")


if __name__ == "__main__":
    main()
