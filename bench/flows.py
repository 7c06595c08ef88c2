"""``python -m bench.flows``: how long checking a flow takes as it grows, printed as a table.

The designer autosaves every few seconds and the API checks every save, so checking must stay linear in the size
of the flow; beyond ``MAX_NODES`` / ``MAX_EDGES`` a flow is refused before it is parsed. Each size is a chain of
Clarify nodes between Start and End (every node and edge is looked at), timed over a few runs.
"""

from __future__ import annotations

import argparse
import time


def chain(nodes: int) -> dict:
    ids = ["s"] + [f"n{i}" for i in range(nodes - 2)] + ["e"]
    types = ["start"] + ["clarify"] * (nodes - 2) + ["end"]
    return {"nodes": [{"id": i, "type": t} for i, t in zip(ids, types)],
            "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])]}


def main(argv: list[str] | None = None) -> int:
    from quantum_voice.services.flows.validation import MAX_NODES, check_flow

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"50,100,250,{MAX_NODES},2000,20000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'nodes':>7} {'check (ms)':>11}  result")
    for size in (int(s) for s in args.sizes.split(",")):
        flow, best, problems = chain(size), float("inf"), []
        for _ in range(args.runs):
            started = time.perf_counter()
            problems = check_flow(flow).problems
            best = min(best, (time.perf_counter() - started) * 1000)
        result = problems[0].code if problems else "valid"
        print(f"{size:>7} {best:>11.1f}  {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
