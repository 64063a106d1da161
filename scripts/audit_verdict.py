"""The verdict of scripts/audit, from the outputs it collected in one directory: pip.json and
pip.err (pip-audit), npm.json and npm.err (npm audit). Exit 1 on a known vulnerability; exit 1
also when advisory data could not be had, unless --offline-ok (then one line says so)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERIOUS_NPM = ("high", "critical")


@dataclass
class Verdict:
    lines: list[str] = field(default_factory=list)
    findings: bool = False
    unreachable: list[str] = field(default_factory=list)


def load(work: Path, name: str) -> Any:
    try:
        return json.loads((work / name).read_text())
    except (OSError, ValueError):
        return None


def last_error(work: Path, name: str) -> str:
    try:
        lines = [line for line in (work / name).read_text().splitlines() if line.strip()]
    except OSError:
        lines = []
    errors = [line for line in lines if re.search(r"error", line, re.IGNORECASE)] or lines
    return (errors[-1] if errors else "no output").strip()[:200]


def judge_python(work: Path, verdict: Verdict) -> None:
    """pip-audit's JSON lists each dependency with its vulns, or with a skip_reason when it could
    not be looked up (PyPI answered "not found" for the name and version)."""
    report = load(work, "pip.json")
    if not isinstance(report, dict):
        verdict.unreachable.append(f"pip-audit failed ({last_error(work, 'pip.err')})")
        return
    dependencies = report.get("dependencies", [])
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dependency in vulnerable:
        verdict.findings = True
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            verdict.lines.append(
                f"python: {dependency['name']} {dependency['version']}: {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''}, fixed in {fixes}"
            )
    audited = len(dependencies) - len(skipped)
    if skipped:
        verdict.unreachable.append(
            f"pip-audit found no advisory data for {len(skipped)} of {len(dependencies)} pinned "
            f"packages (PyPI's /pypi/<name>/<version>/json answered not found"
            f"{'' if audited else ' for every one'})"
        )
    if audited and not vulnerable:
        verdict.lines.append(
            f"python: {audited} of {len(dependencies)} pinned packages audited, none vulnerable"
        )


def npm_error(report: Any) -> str:
    if not isinstance(report, dict):
        return ""
    error = report.get("error")
    summary = error.get("summary") if isinstance(error, dict) else ""
    return str(report.get("message") or summary or "")


def judge_npm(work: Path, verdict: Verdict) -> None:
    """A report has auditReportVersion; a failed look-up is an error object instead."""
    report = load(work, "npm.json")
    if not (isinstance(report, dict) and "auditReportVersion" in report):
        verdict.unreachable.append(
            f"npm audit failed ({(npm_error(report) or last_error(work, 'npm.err'))[:200]})"
        )
        return
    serious = {
        name: entry
        for name, entry in report.get("vulnerabilities", {}).items()
        if entry.get("severity") in SERIOUS_NPM
    }
    for name, entry in sorted(serious.items()):
        verdict.findings = True
        fix = bool(entry.get("fixAvailable"))
        verdict.lines.append(
            f"npm: {name} ({entry['severity']}): {entry.get('range', '?')}, fix: {fix}"
        )
    counts = report.get("metadata", {}).get("vulnerabilities", {})
    levels = ("critical", "high", "moderate", "low")
    summary = ", ".join(f"{level} {counts.get(level, 0)}" for level in levels)
    verdict.lines.append(f"npm: production dependencies audited: {summary}")


def judge(work: Path, *, offline_ok: bool) -> tuple[list[str], int]:
    """The lines to print and the exit status."""
    verdict = Verdict()
    judge_python(work, verdict)
    judge_npm(work, verdict)
    lines = verdict.lines
    if verdict.unreachable:
        consequence = (
            "going on without it (make audit fails on this)"
            if offline_ok
            else "failing (make test goes on without it: scripts/audit --offline-ok)"
        )
        reasons = "; ".join(verdict.unreachable)
        lines.append(f"audit: vulnerability data unreachable: {reasons}: {consequence}")
    failed = verdict.findings or (bool(verdict.unreachable) and not offline_ok)
    return lines, 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("work", type=Path, help="directory with pip.json, npm.json, *.err")
    parser.add_argument("--offline-ok", action="store_true", help="unreachable data passes")
    args = parser.parse_args()
    lines, status = judge(args.work, offline_ok=args.offline_ok)
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
