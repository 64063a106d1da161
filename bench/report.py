"""The results as a markdown table (for the README) and a PNG plot of delivery latency
percentiles against offered rate, Parley beside the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.compare_summary import flag as _flag


def _ms(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return "-" if value is None else f"{value:g}"


def _x(value: Any) -> str:
    return "-" if value is None else f"{value:g}x"


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    p, b, c = results["parley"], results["baseline"], results["comparison"]
    pm, bm = p["fanout"]["main"], b["fanout"]["main"]
    lines = [
        f"### Parley benchmark ({results['mode']}, {results['date']})",
        "",
        f"Machine: {m['cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, "
        f"Python {m['python']}, {m['platform']}; server, Redis, moto's DynamoDB server and the "
        "load generator all share these cores.",
        f"Load generator: {s['loadgen']}. Server: `parley serve` (uvicorn, 1 process) with "
        "`PARLEY_BCRYPT_ROUNDS=4`, message limit raised to "
        f"{s['message_rate_limit']}/s; baseline: `bench/baseline_server.py` (bare python-socketio "
        "ASGI app under uvicorn, no auth, no storage, in-memory manager).",
        "",
        f"**Fan-out**: {s['clients']} clients in {s['rooms']} room(s), {s['senders']} senders, "
        f"{s['rate']:g} msg/s offered for {s['duration']:g} s "
        f"({s['text_size']}-character texts).",
        "",
        "| | Parley | baseline | Parley / baseline |",
        "|---|---:|---:|---:|",
    ]
    busiest = max(pm["cpu_percent"].get("others", 0), bm["cpu_percent"].get("others", 0))
    if busiest > 25:
        lines[-2:-2] = [
            f"> Other processes used up to {busiest:g}% CPU (of {100 * m['cores']}%) during "
            "these runs: the machine was shared, so the absolute figures are pessimistic and "
            "noisy, and so are the ratios (Parley and the baseline run minutes apart). Re-run "
            "on an idle machine before quoting them.",
            "",
        ]

    def row(label: str, pv: Any, bv: Any, r: Any = None) -> None:
        lines.append(f"| {label} | {pv} | {bv} | {r if r is not None else ''} |")

    row("sent / acked", f"{pm['sent']:,} / {pm['acked']:,}", f"{bm['sent']:,} / {bm['acked']:,}")
    row(
        "deliveries: expected / actual",
        f"{pm['expected_deliveries']:,} / {pm['deliveries']:,}",
        f"{bm['expected_deliveries']:,} / {bm['deliveries']:,}",
    )
    row(
        "lost / duplicated / out of order",
        f"{pm['lost']} / {pm['duplicates']} / {pm['out_of_order']}",
        f"{bm['lost']} / {bm['duplicates']} / {bm['out_of_order']}",
    )
    pd, bd = pm["delivery_ms"], bm["delivery_ms"]
    for key in ("p50", "p90", "p99", "max"):
        r = _ratio(pd.get(key), bd.get(key))
        row(f"delivery latency {key} (ms)", _ms(pd, key), _ms(bd, key), _x(r))
    for key in ("p50", "p99"):
        r = _ratio(pm["ack_ms"].get(key), bm["ack_ms"].get(key))
        row(f"ack latency {key} (ms)", _ms(pm["ack_ms"], key), _ms(bm["ack_ms"], key), _x(r))
    row(
        "deliveries per second",
        _n(pm["deliveries_per_s"]),
        _n(bm["deliveries_per_s"]),
        _x(c["deliveries_per_s_ratio"]),
    )
    row(
        "CPU % (server / loadgen)",
        _cpu(pm["cpu_percent"]),
        _cpu(bm["cpu_percent"]),
    )
    row(
        "CPU % (Redis / DynamoDB endpoint)",
        f"{pm['cpu_percent'].get('redis', 0):g} / {pm['cpu_percent'].get('dynamodb', 0):g}",
        "-",
    )
    row(
        "CPU % of other processes on the machine",
        f"{pm['cpu_percent'].get('others', 0):g}",
        f"{bm['cpu_percent'].get('others', 0):g}",
    )
    pc, bc = p["fanout"]["connect"], b["fanout"]["connect"]
    row(
        "connect + join all clients (s)",
        f"{pc['connect_seconds']:g} + {pc['join_seconds']:g}",
        f"{bc['connect_seconds']:g} + {bc['join_seconds']:g}",
    )

    lines += [
        "",
        f"**Offered-rate sweep** (same clients, {s['sweep_duration']:g} s per step; sustained = "
        f"no loss, duplicate, reordering or failed ack, p99 < {s['sweep_p99_ms']:g} ms, "
        "rate actually offered; stops at the first failing step):",
        "",
        "| offered msg/s | Parley p50 / p99 (ms) | Parley lost | Parley | "
        "baseline p50 / p99 (ms) | baseline lost | baseline |",
        "|---:|---:|---:|:-:|---:|---:|:-:|",
    ]
    p_steps = {step["offered_rate"]: step for step in p["fanout"]["sweep"]}
    b_steps = {step["offered_rate"]: step for step in b["fanout"]["sweep"]}
    for rate in sorted(set(p_steps) | set(b_steps)):
        cells = []
        for steps in (p_steps, b_steps):
            step = steps.get(rate)
            if step is None:
                cells += ["-", "-", "-"]
                continue
            d = step["delivery_ms"]
            cells += [
                f"{_ms(d, 'p50')} / {_ms(d, 'p99')}",
                f"{step['lost']:,}",
                _flag(step["passed"]),
            ]
        lines.append(f"| {rate:g} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Highest sustained offered rate: Parley **{_n(p['fanout']['max_sustained_rate'])}** msg/s "
        f"({_deliveries(p, s)}), baseline **{_n(b['fanout']['max_sustained_rate'])}** msg/s "
        f"({_deliveries(b, s)}): {_x(c['max_sustained_rate_ratio'])}.",
        "",
    ]

    pc, bc = p["capacity"], b["capacity"]
    lines += [
        f"**Capacity**: {pc['sockets']:,} idle authenticated sockets from one load-generator "
        f"process ({pc['connect_concurrency']} handshakes in flight), held "
        f"{pc['hold_seconds']:g} s (Engine.IO pings answered); server fd limit "
        f"{pc['server_fd_limit']:,}.",
        "",
        "| | Parley | baseline | Parley / baseline |",
        "|---|---:|---:|---:|",
    ]
    row("connected", f"{pc['connected']:,}", f"{bc['connected']:,}")
    row(
        "connect rate (sockets/s)",
        _n(pc["connects_per_s"]),
        _n(bc["connects_per_s"]),
        _x(c["connect_rate_ratio"]),
    )
    row(
        "connect latency p50 / p99 (ms)",
        f"{_ms(pc['connect_ms'], 'p50')} / {_ms(pc['connect_ms'], 'p99')}",
        f"{_ms(bc['connect_ms'], 'p50')} / {_ms(bc['connect_ms'], 'p99')}",
    )
    row(
        "server RSS before → after (MiB)",
        f"{pc['rss_before_mib']:g} → {pc['rss_after_mib']:g}",
        f"{bc['rss_before_mib']:g} → {bc['rss_after_mib']:g}",
    )
    row(
        "RSS per socket (KiB)",
        f"**{pc['rss_per_socket_kib']:g}**",
        f"{bc['rss_per_socket_kib']:g}",
        _x(c["rss_per_socket_ratio"]),
    )
    pdf, bdf = p.get("capacity_deflate"), b.get("capacity_deflate")
    if pdf and bdf:
        row(
            f"RSS per socket with permessage-deflate offered, as browsers do "
            f"({pdf['sockets']:,} sockets) (KiB)",
            f"{pdf['rss_per_socket_kib']:g}",
            f"{bdf['rss_per_socket_kib']:g}",
            _x(_ratio(pdf["rss_per_socket_kib"], bdf["rss_per_socket_kib"])),
        )
    row(
        f"still connected after {pc['hold_seconds']:g} s",
        f"{pc['still_connected_after_hold']:,}",
        f"{bc['still_connected_after_hold']:,}",
    )

    http = p["http"]
    lines += [
        "",
        f"**HTTP** (closed loop, {s['http_duration']:g} s per endpoint and concurrency; history: "
        f"`GET /api/rooms/{http['history_room']}/messages?limit=50`, "
        f"{http['page_messages']} messages per page):",
        "",
        "| endpoint | concurrency | req/s | p50 (ms) | p99 (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for level in http["levels"]:
        for label in ("login", "history"):
            h = level[label]
            lines.append(
                f"| {label} | {level['concurrency']} | {h['rps']:,.1f} | "
                f"{_ms(h['latency_ms'], 'p50')} | {_ms(h['latency_ms'], 'p99')} | "
                f"{sum(h['errors'].values())} |"
            )

    ref = http.get("endpoint_alone")
    if ref:
        lines += [
            "",
            "The local DynamoDB endpoint alone (moto's server, serial calls from the load "
            f"generator): Query of 51 items p50 {_ms(ref['query_51_ms'], 'p50')} / p99 "
            f"{_ms(ref['query_51_ms'], 'p99')} ms, PutItem p50 {_ms(ref['put_item_ms'], 'p50')} / "
            f"p99 {_ms(ref['put_item_ms'], 'p99')} ms: the floor under the history page and "
            "under every send's ack on this machine (real DynamoDB has its own figures).",
        ]
    t = c["targets"]
    lines += [
        "",
        "**Targets**: "
        + "; ".join(
            [
                f"{_flag(t['fanout_zero_loss_dup_order'])} fan-out with zero lost/dup/reordered",
                f"{_flag(t['fanout_p99_within_1.5x_baseline'])} delivery p99 ≤ 1.5x baseline "
                f"({_x(c['delivery_p99_ratio'])})",
                f"{_flag(t['rss_per_socket_under_30_kib'])} RSS/socket < 30 KiB",
                f"{_flag(t['capacity_all_connected'])} all {pc['sockets']:,} sockets connected",
                f"{_flag(t['history_p99_under_25_ms'])} history p99 < 25 ms "
                f"({c['history_p99_unloaded_ms']} ms at concurrency "
                f"{c['history_concurrency_judged']})",
            ]
        ),
    ]
    for name, label in (("parley", "Parley"), ("baseline", "Baseline")):
        prof = results[name]["fanout"].get("profile", {})
        if not prof.get("top_own"):
            continue
        packages = ", ".join(f"{k} {v:g}%" for k, v in list(prof["own_by_package"].items())[:8])
        lines += [
            "",
            f"**{label} server profile** (py-spy, {prof['seconds']:g} s at {prof['rate']:g} "
            f"msg/s, {prof['samples']:,} busy samples; flame graph `{prof['svg']}`). Own time "
            f"by package: {packages}. Top functions by own time:",
            "",
            "| function | file | % of busy samples |",
            "|---|---|---:|",
        ]
        for spot in prof["top_own"]:
            lines.append(f"| `{spot['function']}` | {spot['file']} | {spot['percent']:g} |")
        tasks = ", ".join(f"`{k}` {v:g}%" for k, v in list(prof.get("by_task", {}).items())[:5])
        lines += ["", f"By asyncio task: {tasks}."]
        if name == "parley" and prof.get("by_deepest_parley_function"):
            path = [
                f"`{spot['function']}` {spot['percent']:g}%"
                for spot in prof["by_deepest_parley_function"]
                if spot["file"]
            ][:8]
            lines += [
                "Innermost Parley function on the stack (everything beneath it counted to it): "
                + ", ".join(path)
                + "."
            ]
    lines += ["", f"Plot: `{results.get('plot', '')}`; run time {results['elapsed_s']:g} s."]
    return "\n".join(lines)


def _cpu(cpu: dict[str, float]) -> str:
    loadgen = sum(v for k, v in cpu.items() if k.startswith("loadgen"))
    return f"{cpu.get('server', 0):g} / {loadgen:g}"


def _deliveries(part: dict[str, Any], settings: dict[str, Any]) -> str:
    rate = part["fanout"].get("max_sustained_rate")
    if rate is None:
        return "no step sustained"
    per_room = settings["clients"] / settings["rooms"]
    return f"≈{rate * per_room:,.0f} deliveries/s"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def _latency_axes(ax: Any, limit_ms: float, title: str) -> None:
    """Delivery latency (log) against offered rate, the p99 limit as a dotted line."""
    ax.axhline(limit_ms, color="gray", linestyle=":", label=f"{limit_ms:g} ms")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (messages/s)")
    ax.set_ylabel("delivery latency (ms)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def _mark_failed(ax: Any, failed: list[tuple[float, Any]], label: str, *, size: int) -> None:
    """A black x on each (rate, p99) of a step that did not pass."""
    if failed:
        ax.scatter(
            [f[0] for f in failed],
            [f[1] for f in failed],
            marker="x",
            s=size,
            color="black",
            zorder=5,
            label=label,
        )


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["settings"]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colors = {"p50": "tab:blue", "p90": "tab:orange", "p99": "tab:red"}
    for name, style in (("parley", "-"), ("baseline", "--")):
        steps = results[name]["fanout"]["sweep"]
        rates = [step["offered_rate"] for step in steps]
        for key, color in colors.items():
            values = [step["delivery_ms"].get(key) for step in steps]
            ax.plot(rates, values, style, marker="o", color=color, label=f"{name} {key}")
        failed = [
            (st["offered_rate"], st["delivery_ms"].get("p99")) for st in steps if not st["passed"]
        ]
        _mark_failed(ax, failed, f"{name}: not sustained", size=120)
    _latency_axes(
        ax,
        s["sweep_p99_ms"],
        f"Fan-out delivery latency: {s['clients']} clients, {s['rooms']} room(s), "
        f"{s['senders']} senders\nParley (solid) vs bare python-socketio (dashed), "
        f"{results['machine']['cores']} cores",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


SERVER_COLORS = {"parley": "tab:red", "node": "tab:green", "baseline": "tab:blue"}


def plot_compare(result: dict[str, Any], path: Path) -> None:
    """The side-by-side run (bench/node_compare.py): per scenario, each server's delivery p99
    (solid) and p50 (dashed) against offered rate, medians over rounds; a step that failed in
    any round is marked with a black x, and the p99 limit is the dotted line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    s = result["settings"]
    scenarios = result["scenarios"]
    fig, axes = plt.subplots(
        1, max(len(scenarios), 1), figsize=(7 * max(len(scenarios), 1), 5), dpi=110, squeeze=False
    )
    others = iter(["tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:gray"])
    colors = {name: SERVER_COLORS.get(name) or next(others, "black") for name in s["servers"]}
    for ax, sc in zip(axes[0], scenarios, strict=False):
        st = sc["settings"]
        failed_label = "failed in a round"
        for name in s["servers"]:
            rows = sc["summary"][name]["rates"]
            rates = sorted(float(k) for k in rows)
            for key, style in (("p99_ms", "-"), ("p50_ms", "--")):
                values = [rows[f"{r:g}"][key] for r in rates]
                ax.plot(
                    rates,
                    [float("nan") if v is None else v for v in values],
                    style,
                    marker="o",
                    markersize=4,
                    color=colors[name],
                    label=f"{name} {key[:3]}",
                )
            failed = [
                (r, rows[f"{r:g}"]["p99_ms"])
                for r in rates
                if not all(rows[f"{r:g}"]["passed"]) and rows[f"{r:g}"]["p99_ms"] is not None
            ]
            if failed:
                _mark_failed(ax, failed, failed_label, size=90)
                failed_label = "_nolegend_"
        _latency_axes(
            ax,
            s["p99_limit_ms"],
            f"{st['title']}: {st['clients']} users, 1 room, {st['senders']} sending\n"
            f"medians of {st['rounds']} round(s), {s['cpu_count']} cores",
        )
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
