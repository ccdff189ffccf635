"""Runtime-script engine: runs per second, and the overhead of one run.

Runs two scripts through ``ScriptEngine``, with its default context reuse (DESIGN §6: a context serves
further runs only after clean ones, scrubbed in between):

- trivial: reads a trigger ingredient and logs it;
- two calls: ``performQuery`` then ``runAction``, against a host function that answers at once;

and prints, for each:

- throughput: runs/s with the engine kept saturated (``--in-flight`` runs submitted at a time);
- overhead: p50/p95 of one run's duration (context taken, script started, steps, drains, result built;
  the host answers immediately, so this is all engine), both for runs paced below capacity
  (``--paced-rate``) and for the saturated runs;
- how many of the runs had a fresh context (the rest reused one).

    .venv/bin/python benchmarks/scripts.py [--runs 2000] [--in-flight 8] [--slots 4] [--warm N] [--paced-rate 100]

The bar (DESIGN §11): >= 300 trivial runs/s with p50 overhead <= 3 ms, on the 2-core reference machine.
"""

from dataclasses import dataclass
from typing import Any
import argparse
import asyncio
import os
import statistics
import time

from switchroom.hub.scripts import Limits, ScriptEngine, ScriptJob, ScriptResult

TRIVIAL = "console.log(Trigger.ingredients.n);"
TWO_CALLS = """
const found = await performQuery("videos.search_videos", { fields: { q: `clip ${Trigger.ingredients.n}` }, limit: 2 });
await runAction("messages.send_text", { fields: { text: `found ${found.responseBody.data.length}` } });
"""
VIDEOS = {"type": "list", "data": [{"id": "v1", "title": "Cats"}, {"id": "v2", "title": "Owls"}]}


async def host(kind: str, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return (200, VIDEOS) if kind == "query" else (204, None)


@dataclass
class Workload:
    name: str
    source: str
    calls: int

    async def one(self, engine: ScriptEngine, n: int) -> ScriptResult:
        result = await engine.run(ScriptJob(self.source, "bench.tick", {"n": n}), host)
        assert result.status == "ok", result.error
        assert len(result.calls) == self.calls, result.calls
        return result


async def saturated(engine: ScriptEngine, work: Workload, runs: int, in_flight: int) -> tuple[float, list[ScriptResult]]:
    pending = iter(range(runs))
    results: list[ScriptResult] = []

    async def worker() -> None:
        for n in pending:
            results.append(await work.one(engine, n))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return runs / (time.perf_counter() - start), results


async def paced(engine: ScriptEngine, work: Workload, runs: int, rate: float) -> list[ScriptResult]:
    results: list[ScriptResult] = []
    for n in range(runs):
        started = time.perf_counter()
        results.append(await work.one(engine, n))
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return results


def percentiles(results: list[ScriptResult]) -> str:
    cuts = statistics.quantiles([r.duration_ms for r in results], n=100)
    return f"p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms"


def fresh(results: list[ScriptResult]) -> str:
    return f"{sum(r.context_run == 1 for r in results)} of {len(results)} runs in a fresh context"


async def measure(work: Workload, args: argparse.Namespace) -> None:
    engine = ScriptEngine(Limits(), max_concurrent=args.slots, warm=args.warm)
    try:
        await saturated(engine, work, 50, args.in_flight)  # warm-up: V8 start, first contexts
        quiet = await paced(engine, work, args.paced_runs, args.paced_rate)
        rate, busy = await saturated(engine, work, args.runs, args.in_flight)
    finally:
        await engine.aclose()
    print(f"{work.name}:")
    print(f"  throughput: {rate:.0f} runs/s over {args.runs} runs ({fresh(busy)})")
    print(f"  overhead per run, paced at {args.paced_rate:.0f}/s: {percentiles(quiet)}")
    print(f"  overhead per run, saturated: {percentiles(busy)}")


async def main(args: argparse.Namespace) -> None:
    warm = args.slots if args.warm is None else args.warm
    print(f"cpus: {os.cpu_count()}, slots: {args.slots}, contexts kept warm: {warm}, in flight: {args.in_flight}")
    print("bar (DESIGN §11): trivial runs >= 300/s, paced p50 overhead <= 3 ms")
    await measure(Workload("trivial script", TRIVIAL, 0), args)
    await measure(Workload("script making two calls (performQuery, then runAction)", TWO_CALLS, 2), args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--warm", type=int, default=None, help="contexts kept ready (default: --slots)")
    parser.add_argument("--paced-rate", type=float, default=100.0)
    parser.add_argument("--paced-runs", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
