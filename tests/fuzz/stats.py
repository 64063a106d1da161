"""The fuzz suites' count of examples run and how each was answered, shown in the test run's
summary. Under pytest-xdist each worker counts its own and sends them to the controller when
it finishes, where the summary is written (a plugin of tests/conftest.py, so the controller,
which collects nothing itself, loads it too)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pytest


@dataclass
class FuzzStats:
    examples: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: FuzzStats) -> None:
        self.examples += other.examples
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count


# Per test (node id): the examples run and how they were answered.
FUZZ_STATS: dict[str, FuzzStats] = {}


def record_example(nodeid: str) -> FuzzStats:
    stats = FUZZ_STATS.setdefault(nodeid, FuzzStats())
    stats.examples += 1
    return stats


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller writes the summary
        workeroutput["fuzz_stats"] = {nodeid: asdict(s) for nodeid, s in FUZZ_STATS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    for nodeid, stats in getattr(node, "workeroutput", {}).get("fuzz_stats", {}).items():
        FUZZ_STATS.setdefault(nodeid, FuzzStats()).add(FuzzStats(**stats))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FUZZ_STATS:
        return
    terminalreporter.section("fuzz examples run")
    for nodeid, stats in sorted(FUZZ_STATS.items()):
        terminalreporter.write_line(f"{stats.examples:6d}  {nodeid}")
        if stats.outcomes:
            outcomes = ", ".join(f"{k!r}: {v}" for k, v in sorted(stats.outcomes.items()))
            terminalreporter.write_line(f"        answers: {outcomes}")
    total = sum(stats.examples for stats in FUZZ_STATS.values())
    terminalreporter.write_line(f"{total:6d}  in all")
