"""The side-by-side run's medians and its verdicts against the targets of issue #13, from the
phases bench/node_compare.py records (standard library only, so tests/unit can import it).

A phase is the dict bench/run.py's `FanoutRun.phase` returns; a round is {server: {"phases":
[phase, ...]}}, the phases in the order they ran (the listed rates, then the sweep)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The server judged, and the reference it is judged against.
JUDGED = "parley"
REFERENCE = "node"
RSS_PER_SOCKET_KIB = 30.0
HISTORY_P99_MS = 25.0

# Targets a scenario can carry (Scenario.targets in bench/node_compare.py).
P99_VS_NODE = "p99_vs_node"  # at each listed rate: delivery p99 no worse than the Node stack's
ZERO_LOSS = "zero_loss"  # at each listed rate: every send acked, none lost/duplicated/reordered
HIGHEST_VS_NODE = "highest_vs_node"  # highest zero-loss rate at least the Node stack's


def median(values: Iterable[Any]) -> float | None:
    ordered = sorted(float(v) for v in values if v is not None)
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return round((ordered[mid - 1] + ordered[mid]) / 2, 2)


def lower_median(values: list[float]) -> float | None:
    """The median of an odd count, the lower middle value of an even one: with 2 rounds, the
    rate every round reached (an average of two rates would be a rate nobody measured)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def highest_zero_loss(phases: list[dict[str, Any]]) -> float:
    """The highest offered rate passed with every lower rate measured passing too (0.0 when
    the lowest failed): a pass above a failure is noise, not a sustained rate."""
    best = 0.0
    for phase in sorted(phases, key=lambda p: p["offered_rate"]):
        if not phase["passed"]:
            break
        best = float(phase["offered_rate"])
    return best


def _cpu(phase: dict[str, Any], prefix: str) -> float:
    return float(sum(v for k, v in phase["cpu_percent"].items() if k.startswith(prefix)))


def rate_row(phases: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """One server at one offered rate: medians over the rounds that ran it, sums of counts."""
    return {
        "rounds_run": len(phases),
        "rounds_passed": sum(1 for p in phases if p["passed"]),
        "rounds": rounds,
        "deliveries_per_s": median(p["deliveries_per_s"] for p in phases),
        "p50_ms": median(p["delivery_ms"].get("p50") for p in phases),
        "p99_ms": median(p["delivery_ms"].get("p99") for p in phases),
        "ack_p99_ms": median(p["ack_ms"].get("p99") for p in phases),
        "planned": sum(p["planned"] for p in phases),
        "sent": sum(p["sent"] for p in phases),
        "acked": sum(p["acked"] for p in phases),
        "lost": sum(p["lost"] for p in phases),
        "duplicates": sum(p["duplicates"] for p in phases),
        "out_of_order": sum(p["out_of_order"] for p in phases),
        "server_cpu": median(_cpu(p, "server") for p in phases),
        "server_us_per_delivery": median(p.get("server_cpu_us_per_delivery") for p in phases),
        "loadgen_cpu": median(_cpu(p, "loadgen") for p in phases),
        "machine_cpu": median(p["cpu_percent"].get("machine") for p in phases),
        "load_average_1m": median(p.get("load_average_1m") for p in phases),
        "passed": [p["passed"] for p in phases],
    }


def summarize(rounds: list[dict[str, Any]], servers: Iterable[str]) -> dict[str, Any]:
    """Per server: a row per offered rate any round measured (ascending), the highest
    zero-loss rate of each round and their (lower) median."""
    out: dict[str, Any] = {}
    for name in servers:
        runs = [rnd[name]["phases"] for rnd in rounds if name in rnd]
        rates = sorted({p["offered_rate"] for phases in runs for p in phases})
        per_rate = {
            f"{rate:g}": rate_row(
                [p for phases in runs for p in phases if p["offered_rate"] == rate], len(runs)
            )
            for rate in rates
        }
        best = [highest_zero_loss(phases) for phases in runs]
        out[name] = {
            "rates": per_rate,
            "highest_zero_loss_per_round": best,
            "highest_zero_loss": lower_median(best),
        }
    return out


def clean(row: dict[str, Any]) -> bool:
    """Every planned send sent and acked, nothing lost, duplicated or reordered."""
    return bool(
        row["rounds_run"] == row["rounds"]
        and row["sent"] == row["planned"]
        and row["acked"] == row["sent"]
        and row["lost"] == 0
        and row["duplicates"] == 0
        and row["out_of_order"] == 0
    )


def verdicts(
    summary: dict[str, Any], targets: Iterable[str], listed_rates: Iterable[float]
) -> list[dict[str, Any]]:
    """[{"target", "ok": True | False | None (not measured), "detail"}] for the judged server
    against the reference, in the order of `targets`."""
    judged, reference = summary.get(JUDGED), summary.get(REFERENCE)
    out: list[dict[str, Any]] = []
    for target in targets:
        if target == HIGHEST_VS_NODE:
            mine = judged["highest_zero_loss"] if judged else None
            theirs = reference["highest_zero_loss"] if reference else None
            # Neither passing even the lowest step says nothing of the servers (the machine
            # or the endpoint was the limit): not judged, rather than met at 0 vs 0.
            ok = None if mine is None or theirs is None or mine == theirs == 0 else mine >= theirs
            detail = f"{_rate(mine)} vs {_rate(theirs)} msg/s"
            if mine == theirs == 0:
                detail += ": neither passed the lowest step"
            out.append(
                {"target": f"highest zero-loss rate ≥ {REFERENCE}'s", "ok": ok, "detail": detail}
            )
            continue
        for rate in listed_rates:
            key = f"{rate:g}"
            mine_row = judged["rates"].get(key) if judged else None
            if target == P99_VS_NODE:
                theirs_row = reference["rates"].get(key) if reference else None
                a = mine_row["p99_ms"] if mine_row else None
                b = theirs_row["p99_ms"] if theirs_row else None
                ok = None if mine_row is None or theirs_row is None else _no_worse(a, b)
                out.append(
                    {
                        "target": f"p99 ≤ {REFERENCE}'s at {key} msg/s",
                        "ok": ok,
                        "detail": f"{_ms(a)} vs {_ms(b)} ms",
                    }
                )
            elif target == ZERO_LOSS:
                ok = None if mine_row is None else clean(mine_row)
                detail = (
                    "not run"
                    if mine_row is None
                    else f"acked {mine_row['acked']}/{mine_row['planned']}, lost "
                    f"{mine_row['lost']}, dup {mine_row['duplicates']}, ooo "
                    f"{mine_row['out_of_order']}"
                )
                out.append(
                    {
                        "target": f"all acked, 0 lost/dup/reordered at {key} msg/s",
                        "ok": ok,
                        "detail": detail,
                    }
                )
            else:
                raise ValueError(f"unknown target {target!r}")
    return out


def _no_worse(mine: float | None, theirs: float | None) -> bool:
    """A p99 that is missing (nothing delivered) is worse than any; two missing ones tie."""
    if mine is None:
        return theirs is None
    return theirs is None or mine <= theirs


def process_targets(
    capacity: dict[str, Any] | None, history_p99_ms: float | None, login_p99_ms: float | None
) -> list[dict[str, Any]]:
    """The targets measured outside the side-by-side run (only in the full `make bench`)."""
    rss = capacity.get("rss_per_socket_kib") if capacity else None
    return [
        {
            "target": f"RSS per idle authenticated socket ≤ {RSS_PER_SOCKET_KIB:g} KiB",
            "ok": None if rss is None else rss <= RSS_PER_SOCKET_KIB,
            "detail": f"{_ms(rss)} KiB over {capacity['sockets']:,} sockets"
            if capacity and rss is not None
            else "not measured",
        },
        {
            "target": f"history page p99 < {HISTORY_P99_MS:g} ms (unloaded)",
            "ok": None if history_p99_ms is None else history_p99_ms < HISTORY_P99_MS,
            "detail": f"{_ms(history_p99_ms)} ms",
        },
        {
            # No reference in the run: the README's earlier figures are the comparison.
            "target": "login p99 (as before: compare with the README's)",
            "ok": None,
            "detail": f"{_ms(login_p99_ms)} ms",
        },
    ]


def flag(ok: bool | None) -> str:
    return "-" if ok is None else ("✅" if ok else "❌")


def verdict_line(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{flag(v['ok'])} {v['target']} ({v['detail']})" for v in items)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
