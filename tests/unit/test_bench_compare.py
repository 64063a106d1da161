"""bench/compare_summary.py: the side-by-side run's medians, highest zero-loss rates and verdicts
against the targets of issue #13 (the figures `make bench` reports are only as honest as these)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import compare_summary as cs


def phase(
    rate: float,
    *,
    passed: bool = True,
    p99: float | None = 100.0,
    p50: float | None = 20.0,
    planned: int = 100,
    acked: int | None = None,
    lost: int = 0,
    loadgen: float = 10.0,
) -> dict[str, Any]:
    return {
        "offered_rate": rate,
        "passed": passed,
        "planned": planned,
        "sent": planned,
        "acked": planned if acked is None else acked,
        "lost": lost,
        "duplicates": 0,
        "out_of_order": 0,
        "deliveries_per_s": rate * 10,
        "delivery_ms": {} if p99 is None else {"p50": p50, "p99": p99},
        "ack_ms": {"p99": 5.0},
        "cpu_percent": {"server": 40.0, "server2": 10.0, "loadgen0": loadgen, "machine": 120.0},
        "server_cpu_us_per_delivery": 30.0,
        "load_average_1m": 1.5,
    }


def test_highest_zero_loss_stops_at_the_first_failure_in_rate_order() -> None:
    steps = [phase(100), phase(50), phase(150, passed=False), phase(200)]
    assert cs.highest_zero_loss(steps) == 100.0
    assert cs.highest_zero_loss([phase(50, passed=False), phase(100)]) == 0.0
    assert cs.highest_zero_loss([]) == 0.0


def test_summary_gives_medians_per_rate_and_the_lower_median_of_the_highest_rates() -> None:
    rounds = [
        {
            "parley": {"phases": [phase(50, p99=100.0), phase(100, p99=300.0, passed=False)]},
            "node": {"phases": [phase(50), phase(100), phase(150)]},
        },
        {
            "parley": {"phases": [phase(50, p99=200.0), phase(100, p99=200.0, loadgen=30.0)]},
            "node": {"phases": [phase(50), phase(100), phase(150, passed=False)]},
        },
    ]
    summary = cs.summarize(rounds, ["parley", "node"])
    parley = summary["parley"]
    assert list(parley["rates"]) == ["50", "100"]
    row = parley["rates"]["100"]
    assert row["p99_ms"] == 250.0
    assert row["rounds_run"] == 2
    assert row["rounds_passed"] == 1
    assert row["passed"] == [False, True]
    assert row["server_cpu"] == 50.0  # every server process of the phase
    assert row["loadgen_cpu"] == 20.0
    assert parley["highest_zero_loss_per_round"] == [50.0, 100.0]
    assert parley["highest_zero_loss"] == 50.0  # reached in every round, not their mean
    assert summary["node"]["rates"]["150"]["rounds_run"] == 2
    assert summary["node"]["highest_zero_loss"] == 100.0


def test_a_rate_only_some_rounds_reached_is_not_clean() -> None:
    rounds = [
        {"parley": {"phases": [phase(50), phase(100)]}},
        {"parley": {"phases": [phase(50, passed=False)]}},
    ]
    row = cs.summarize(rounds, ["parley"])["parley"]["rates"]["100"]
    assert row["rounds_run"] == 1
    assert row["rounds"] == 2
    assert not cs.clean(row)


def summary_of(parley: list[dict[str, Any]], node: list[dict[str, Any]]) -> dict[str, Any]:
    return cs.summarize(
        [{"parley": {"phases": parley}, "node": {"phases": node}}], ["parley", "node"]
    )


def by_target(items: list[dict[str, Any]]) -> dict[str, bool | None]:
    return {v["target"]: v["ok"] for v in items}


def test_verdicts_judge_parley_against_node_at_each_listed_rate() -> None:
    summary = summary_of(
        [phase(50, p99=90.0), phase(100, p99=400.0, acked=99, passed=False)],
        [phase(50, p99=120.0), phase(100, p99=300.0), phase(150, passed=False)],
    )
    targets = (cs.P99_VS_NODE, cs.ZERO_LOSS, cs.HIGHEST_VS_NODE)
    got = by_target(cs.verdicts(summary, targets, [50.0, 100.0]))
    assert got == {
        "p99 ≤ node's at 50 msg/s": True,
        "p99 ≤ node's at 100 msg/s": False,
        "all acked, 0 lost/dup/reordered at 50 msg/s": True,
        "all acked, 0 lost/dup/reordered at 100 msg/s": False,
        "highest zero-loss rate ≥ node's": False,  # 50 against 100
    }


def test_a_lost_message_fails_zero_loss_and_nothing_delivered_is_the_worst_p99() -> None:
    summary = summary_of([phase(50, lost=1, passed=False)], [phase(50, p99=None)])
    got = by_target(cs.verdicts(summary, (cs.ZERO_LOSS, cs.P99_VS_NODE), [50.0]))
    assert got["all acked, 0 lost/dup/reordered at 50 msg/s"] is False
    assert got["p99 ≤ node's at 50 msg/s"] is True
    summary = summary_of([phase(50, p99=None)], [phase(50)])
    assert by_target(cs.verdicts(summary, (cs.P99_VS_NODE,), [50.0])) == {
        "p99 ≤ node's at 50 msg/s": False
    }


def test_equal_highest_rates_meet_the_target_and_a_missing_reference_is_not_judged() -> None:
    summary = summary_of([phase(50), phase(100)], [phase(50), phase(100)])
    assert by_target(cs.verdicts(summary, (cs.HIGHEST_VS_NODE,), [])) == {
        "highest zero-loss rate ≥ node's": True
    }
    summary = summary_of([phase(25, passed=False)], [phase(25, passed=False)])
    (nothing,) = cs.verdicts(summary, (cs.HIGHEST_VS_NODE,), [])
    assert nothing["ok"] is None  # 0 vs 0 is not a target met
    assert nothing["detail"] == "0 vs 0 msg/s: neither passed the lowest step"
    summary = summary_of([phase(25)], [phase(25, passed=False)])
    assert by_target(cs.verdicts(summary, (cs.HIGHEST_VS_NODE,), [])) == {
        "highest zero-loss rate ≥ node's": True
    }
    alone = cs.summarize([{"parley": {"phases": [phase(50)]}}], ["parley"])
    items = cs.verdicts(alone, (cs.HIGHEST_VS_NODE, cs.P99_VS_NODE), [50.0])
    assert [v["ok"] for v in items] == [None, None]
    assert cs.verdict_line(items).startswith("- highest zero-loss rate")


def test_an_unknown_target_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown target"):
        cs.verdicts(summary_of([phase(50)], [phase(50)]), ("p50_vs_node",), [50.0])


def test_process_targets_judge_rss_per_socket_and_the_history_page() -> None:
    met = cs.process_targets({"rss_per_socket_kib": 30.0, "sockets": 10_000}, 12.0, 40.0)
    assert [v["ok"] for v in met] == [True, True, None]
    assert met[0]["detail"] == "30 KiB over 10,000 sockets"
    missed = cs.process_targets({"rss_per_socket_kib": 30.1, "sockets": 10_000}, 25.0, None)
    assert [v["ok"] for v in missed] == [False, False, None]
    assert [v["ok"] for v in cs.process_targets(None, None, None)] == [None, None, None]


def test_the_command_line_runs_one_scenario_or_both_with_its_overrides() -> None:
    from bench import run

    cfg, _ = run.parse(["--node-only"])
    assert [sc.name for sc in cfg.node.scenarios] == ["fanout", "message"]
    message = cfg.node.scenarios[1]
    assert message.sending == message.clients == 100  # every user sends
    assert min(message.sweep) < 200  # a server passing below the target's range is found
    cfg, _ = run.parse(
        ["--node-only", "--node-scenario", "message", "--clients", "30", "--node-sweep", "10,20"]
    )
    (only,) = cfg.node.scenarios
    assert (only.name, only.clients, only.sending, only.sweep) == ("message", 30, 30, [10.0, 20.0])
    cfg, _ = run.parse(["--quick", "--node-scenario", "fanout", "--node-rounds", "3"])
    assert [sc.name for sc in cfg.node.scenarios] == ["fanout"]
    assert cfg.node.rounds == 3


def test_a_tag_names_the_results_without_overwriting_the_days_run() -> None:
    from bench import run

    full, args = run.parse(["--node-only", "--tag", "before-x2"])
    assert run.stem_of(full, "2026-11-30", args.tag) == "2026-11-30-before-x2"
    assert run.stem_of(full, "2026-11-30", None) == "2026-11-30"
    quick, _ = run.parse(["--quick"])
    assert run.stem_of(quick, "2026-11-30", "a") == "2026-11-30-quick-a"
    with pytest.raises(SystemExit):
        run.parse(["--tag", "../elsewhere"])
    with pytest.raises(SystemExit):
        run.parse(["--node-scenario", "message", "--node-sweep", ""])  # no rate left


def test_each_scenario_table_shows_the_loadgen_cpu_and_the_verdicts() -> None:
    from bench import node_compare

    rounds = [
        {
            "parley": {"phases": [phase(50, loadgen=12.5), phase(100, passed=False)]},
            "node": {"phases": [phase(50), phase(100)]},
        }
    ]
    summary = cs.summarize(rounds, ["parley", "node"])
    sc = node_compare.message_scenario()
    settings = {"title": sc.title, "clients": 100, "senders": 100, "rates": [], "duration": 15}
    settings |= {"sweep": [50.0, 100.0, 150.0], "sweep_duration": 8, "rounds": 1}
    text = "\n".join(
        node_compare.scenario_markdown(
            {
                "settings": settings,
                "summary": summary,
                "verdicts": cs.verdicts(summary, sc.targets, []),
            },
            ["parley", "node"],
        )
    )
    assert "| loadgen CPU |" in text
    assert (
        "| 50 msg/s | parley | 1/1 | 500 | 20 | 100 | 5 | 100 / 100 | 0 / 0 / 0 | 50 | 30 | 12.5 |"
        in text
    )
    assert "❌ highest zero-loss rate ≥ node's (50 vs 100 msg/s)" in text
