"""How long each shipped stack's program takes to run under Pulumi's mocks (issue 2: < 2 s each).

In one process, as the test suite and `estimate` run it: the first run pays the one-off import of
the pulumi-aws / pulumi-kubernetes modules the program touches, so it is reported separately, then
every stack runs N times and the median is kept. No helm here (the chart invoke answers with no
objects, as in the estimate). Run: `.venv/bin/python benchmarks/bench_program.py [--runs 5]`.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    from cli.inventory import run_program
    from infra.spec import read_stack_config, stack_name_from_path
    imported = time.perf_counter() - start

    stacks = {stack_name_from_path(p): read_stack_config(p) for p in sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))}
    first_name = next(iter(stacks))
    start = time.perf_counter()
    run_program(stacks[first_name], first_name)
    first = time.perf_counter() - start

    print(f"import cli.inventory (pulumi SDK core): {imported:.2f} s; first run ({first_name}, "
          f"includes lazy pulumi-aws module imports): {first:.2f} s\n")
    print("| stack | regions | resources | median s | runs | target |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name, config in stacks.items():
        times, count = [], 0
        for _ in range(args.runs):
            start = time.perf_counter()
            inventory = run_program(config, name)
            times.append(time.perf_counter() - start)
            count = len(inventory.resources)
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"| {name} | {len(config['regions'])} | {count} | {statistics.median(times):.2f} | {runs} | < 2 s |")


if __name__ == "__main__":
    main()
