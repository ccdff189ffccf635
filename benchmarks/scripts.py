"""Runtime-script engine: trivial runs per second, and the overhead of one run.

Runs a trivial script (it reads a trigger ingredient and logs it) through ``ScriptEngine``, each run in
a fresh V8 context as DESIGN §6 asks, and prints:

- throughput: runs/s with the engine kept saturated (``--in-flight`` runs submitted at a time);
- overhead: p50/p95 of one run's duration (context taken, script started, drained, result built), both
  for runs paced below capacity (``--paced-rate``) and for the saturated runs.

    .venv/bin/python benchmarks/scripts.py [--runs 2000] [--in-flight 8] [--slots 4] [--paced-rate 100]

The bar (DESIGN §11): ≥ 300 trivial runs/s with p50 overhead ≤ 3 ms, on the 2-core reference machine.
"""

from typing import Any
import argparse
import asyncio
import os
import statistics
import time

from hub.scripts import Limits, ScriptEngine, ScriptJob, ScriptResult

TRIVIAL = "console.log(Trigger.ingredients.n);"


async def host(kind: str, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return 204, None


async def one(engine: ScriptEngine, n: int) -> ScriptResult:
    result = await engine.run(ScriptJob(TRIVIAL, "bench.tick", {"n": n}), host)
    assert result.status == "ok", result.error
    return result


async def saturated(engine: ScriptEngine, runs: int, in_flight: int) -> tuple[float, list[float]]:
    pending = iter(range(runs))
    durations: list[float] = []

    async def worker() -> None:
        for n in pending:
            durations.append((await one(engine, n)).duration_ms)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return runs / (time.perf_counter() - start), durations


async def paced(engine: ScriptEngine, runs: int, rate: float) -> list[float]:
    durations: list[float] = []
    for n in range(runs):
        started = time.perf_counter()
        durations.append((await one(engine, n)).duration_ms)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return durations


def percentiles(durations: list[float]) -> str:
    cuts = statistics.quantiles(durations, n=100)
    return f"p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms"


async def main(args: argparse.Namespace) -> None:
    engine = ScriptEngine(Limits(), max_concurrent=args.slots)
    try:
        await saturated(engine, 50, args.in_flight)  # warm-up: V8 start, first contexts
        quiet = await paced(engine, args.paced_runs, args.paced_rate)
        rate, busy = await saturated(engine, args.runs, args.in_flight)
    finally:
        await engine.aclose()
    print(f"cpus: {os.cpu_count()}, slots: {args.slots}, in flight: {args.in_flight}")
    print(f"throughput: {rate:.0f} trivial runs/s over {args.runs} runs (bar: >= 300/s)")
    print(f"overhead per run, paced at {args.paced_rate:.0f}/s: {percentiles(quiet)} (bar: p50 <= 3 ms)")
    print(f"overhead per run, saturated: {percentiles(busy)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--paced-rate", type=float, default=100.0)
    parser.add_argument("--paced-runs", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
