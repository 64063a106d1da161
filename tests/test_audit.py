"""The verdict of scripts/audit (scripts/audit_verdict.py) on canned pip-audit and npm audit
outputs: findings fail in both modes; advisory data that cannot be reached fails `make audit`
and is one line that `make test` (--offline-ok) goes on after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

VERDICT = Path(__file__).resolve().parents[1] / "scripts" / "audit_verdict.py"

PIP_CLEAN = {
    "dependencies": [
        {"name": "fastapi", "version": "0.115.0", "vulns": []},
        {"name": "redis", "version": "5.0.0", "vulns": []},
    ],
    "fixes": [],
}
PIP_VULNERABLE = {
    "dependencies": [
        {"name": "fastapi", "version": "0.115.0", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {
                    "id": "GHSA-h5c8-rqwp-cp95",
                    "fix_versions": ["3.1.3"],
                    "aliases": ["CVE-2024-22195"],
                    "description": "xmlattr accepts keys with spaces",
                }
            ],
        },
    ],
    "fixes": [],
}
# What PyPI's mirror without per-version JSON gives: every package skipped.
PIP_NO_DATA = {
    "dependencies": [
        {
            "name": name,
            "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)",
        }
        for name in ("fastapi", "redis")
    ],
    "fixes": [],
}
NPM_COUNTS = {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, "total": 0}
NPM_CLEAN = {
    "auditReportVersion": 2,
    "vulnerabilities": {},
    "metadata": {"vulnerabilities": NPM_COUNTS},
}


def npm_with(severity: str) -> dict[str, Any]:
    return {
        "auditReportVersion": 2,
        "vulnerabilities": {
            "cookie": {
                "name": "cookie",
                "severity": severity,
                "range": "<0.7.0",
                "fixAvailable": True,
            }
        },
        "metadata": {"vulnerabilities": {**NPM_COUNTS, severity: 1, "total": 1}},
    }


# The registry that answers 405 to npm's bulk advisory request (seen on the CI machine).
NPM_NO_DATA = {
    "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
    "statusCode": 405,
    "error": {"summary": "", "detail": ""},
}


def verdict(
    tmp_path: Path, *, pip: object, npm: object, offline_ok: bool, pip_err: str = ""
) -> tuple[int, list[str]]:
    for name, report in (("pip.json", pip), ("npm.json", npm)):
        if report is not None:
            (tmp_path / name).write_text(json.dumps(report))
    (tmp_path / "pip.err").write_text(pip_err)
    (tmp_path / "npm.err").write_text("npm error audit endpoint returned an error\n")
    command = [sys.executable, str(VERDICT), str(tmp_path)]
    done = subprocess.run(
        [*command, "--offline-ok"] if offline_ok else command,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stderr == ""
    return done.returncode, done.stdout.splitlines()


@pytest.mark.parametrize("offline_ok", [False, True])
def test_clean_reports_pass(tmp_path: Path, offline_ok: bool) -> None:
    status, lines = verdict(tmp_path, pip=PIP_CLEAN, npm=NPM_CLEAN, offline_ok=offline_ok)
    assert status == 0
    assert lines == [
        "python: 2 of 2 pinned packages audited, none vulnerable",
        "npm: production dependencies audited: critical 0, high 0, moderate 0, low 0",
    ]


@pytest.mark.parametrize("offline_ok", [False, True])
def test_a_python_vulnerability_fails(tmp_path: Path, offline_ok: bool) -> None:
    status, lines = verdict(tmp_path, pip=PIP_VULNERABLE, npm=NPM_CLEAN, offline_ok=offline_ok)
    assert status == 1
    assert "python: jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (CVE-2024-22195), fixed in 3.1.3" in lines


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_a_serious_npm_vulnerability_fails(tmp_path: Path, severity: str) -> None:
    status, lines = verdict(tmp_path, pip=PIP_CLEAN, npm=npm_with(severity), offline_ok=True)
    assert status == 1
    assert f"npm: cookie ({severity}): <0.7.0, fix: True" in lines


def test_a_moderate_npm_vulnerability_passes(tmp_path: Path) -> None:
    status, lines = verdict(tmp_path, pip=PIP_CLEAN, npm=npm_with("moderate"), offline_ok=False)
    assert status == 0
    assert (
        lines[-1] == "npm: production dependencies audited: critical 0, high 0, moderate 1, low 0"
    )


def test_unreachable_data_fails_the_strict_audit(tmp_path: Path) -> None:
    status, lines = verdict(tmp_path, pip=PIP_NO_DATA, npm=NPM_NO_DATA, offline_ok=False)
    assert status == 1
    [line] = lines
    assert line.startswith("audit: vulnerability data unreachable: ")
    assert "no advisory data for 2 of 2 pinned packages" in line
    assert "405 Method Not Allowed" in line
    assert line.endswith("failing (make test goes on without it: scripts/audit --offline-ok)")


def test_unreachable_data_is_one_line_with_offline_ok(tmp_path: Path) -> None:
    status, lines = verdict(tmp_path, pip=PIP_NO_DATA, npm=NPM_NO_DATA, offline_ok=True)
    assert status == 0
    [line] = lines
    assert line.startswith("audit: vulnerability data unreachable: ")
    assert line.endswith("going on without it (make audit fails on this)")


def test_pip_audit_that_failed_outright_counts_as_unreachable(tmp_path: Path) -> None:
    err = "ERROR:pip_audit._cli:Connection error: Max retries exceeded with url: /pypi/\n"
    for offline_ok, expected in ((False, 1), (True, 0)):
        status, lines = verdict(
            tmp_path, pip=None, npm=NPM_CLEAN, pip_err=err, offline_ok=offline_ok
        )
        assert status == expected
        assert "pip-audit failed (ERROR:pip_audit._cli:Connection error" in lines[-1]


def test_findings_fail_when_the_other_half_is_unreachable(tmp_path: Path) -> None:
    status, lines = verdict(tmp_path, pip=PIP_NO_DATA, npm=npm_with("high"), offline_ok=True)
    assert status == 1
    assert "npm: cookie (high): <0.7.0, fix: True" in lines
    assert lines[-1].startswith("audit: vulnerability data unreachable: pip-audit found no")
