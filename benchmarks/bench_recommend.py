"""Speed of `recommend` over a 16-region stack (issue 15: the whole search within 2 s on the 2-core machine).

The stack is the one `bench_estimate.py` generates for the 16-region inventory benchmark (prod-us with one
g6.xlarge pool in each of 16 regions). The checked-in catalog prices 13 regions, so the benchmark runs with a
catalog copy in which each (region, instance type) the catalog lacks gets us-east-1's instance and reserved prices (the search's
work does not depend on the prices, only on how many regions and instance types it prices; no number of this
catalog is used anywhere else). Measures, median of N:

  1. the search alone, in one process (`cli.recommend.search.search`): every (precision x tensorParallel x
     instance type x capacity type x minNodes, or a mixed region's floor size) choice in every region, and the
     k-best walk;
  2. `tradeoff-infra recommend` as a user runs it (fresh process, wall clock): warm (the winner's inventory
     cached, as on every run after the first) and cold (`--no-cache`: the winner's 16-region program runs once
     under mocks, ~5-6 s alone, benchmarks/RESULTS.md).

Run: `.venv/bin/python benchmarks/bench_recommend.py [--runs 5]`; it prints a Markdown table for RESULTS.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_estimate import generated_stack, wall  # noqa: E402  (the 16-region builder the other benchmarks use)


def catalog_for(regions: list[str], folder: pathlib.Path) -> pathlib.Path:
    """The checked-in catalog with us-east-1's instance and reserved prices copied where it has none."""
    from infra.price_catalog import CATALOG_PATH

    data = json.loads(pathlib.Path(CATALOG_PATH).read_text())
    for region in regions:
        for name, entry in data["instances"]["us-east-1"].items():
            data["instances"].setdefault(region, {}).setdefault(name, copy.deepcopy(entry))
        for term in data.get("reserved", {}).get("usdPerHour", {}).values():
            for name, entry in term.get("us-east-1", {}).items():
                term.setdefault(region, {}).setdefault(name, copy.deepcopy(entry))
    path = folder / "catalog-16-regions.json"
    path.write_text(json.dumps(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        stack = generated_stack(16, folder)
        from infra.spec import load_stack_file

        spec = load_stack_file(stack)
        catalog_path = catalog_for([r.region for r in spec.regions], folder)
        from cli.recommend.search import search
        from infra.price_catalog import PriceCatalog

        catalog = PriceCatalog.load(catalog_path)
        times, result = [], None
        for _ in range(args.runs):
            start = time.perf_counter()
            result = search(spec, catalog)
            times.append(time.perf_counter() - start)
        env = {**os.environ, "TRADEOFF_INFRA_CACHE_DIR": str(folder / "cache")}
        command = ["recommend", str(stack), "--format", "json", "--price-catalog", str(catalog_path)]
        cold, cold_runs = wall([*command, "--no-cache"], env, args.runs)
        warm, warm_runs = wall(command, env, args.runs)
    rows = [
        (f"search alone, 16 regions ({result.searched:,} region choices priced), in one process",
         statistics.median(times), times, "< 2 s"),
        ("`recommend` 16 regions, warm (winner's inventory cached), fresh process", warm, warm_runs, "< 2 s"),
        ("`recommend` 16 regions, cold (`--no-cache`: the winner's program runs once)", cold, cold_runs, ""),
    ]
    print("| measurement | median | runs | target |")
    print("| --- | ---: | --- | --- |")
    for name, median, runs, target in rows:
        print(f"| {name} | {median:.2f} s | {', '.join(f'{t:.2f}' for t in runs)} | {target} |")


if __name__ == "__main__":
    main()
