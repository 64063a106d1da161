"""Sampling profile of the server under load with py-spy (out of process, --nonblocking so the
server is never paused): a flame graph SVG to look at and the raw collapsed stacks, from which
the top functions by own time and by inclusive time are computed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    processes: list[subprocess.Popen[bytes]]
    svg: Path
    raw: Path
    log: Path

    def wait(self, timeout: float) -> None:
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(5)


def start(pid: int, seconds: float, svg: Path, raw: Path, rate: int = 100) -> Recording | None:
    """Two recorders side by side: the flame graph and the raw stacks (py-spy writes one format
    per run). Both aggregate by function (-F) and skip idle samples (py-spy's default)."""
    binary = py_spy()
    if binary is None:
        return None
    svg.parent.mkdir(parents=True, exist_ok=True)
    raw.parent.mkdir(parents=True, exist_ok=True)
    log = raw.with_suffix(".log")
    common = [
        "record", "--pid", str(pid), "--duration", str(max(int(seconds), 1)),
        "--rate", str(rate), "--nonblocking", "--function",
    ]  # fmt: skip
    processes = []
    with log.open("wb") as output:
        for fmt, path in (("flamegraph", svg), ("raw", raw)):
            processes.append(
                subprocess.Popen(
                    [binary, *common, "--format", fmt, "--output", str(path)],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
    return Recording(processes, svg, raw, log)


def _parse_frame(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match["func"], _short_path(match["file"])


def _short_path(path: str) -> str:
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    if "/parley/" in path:
        path = "parley/" + path.split("/parley/", 1)[1]
    return path


def hotspots(raw: Path, top: int = 10) -> dict[str, object]:
    """Own (leaf) and inclusive time per function, as % of the samples the server was busy."""
    own: Counter[tuple[str, str]] = Counter()
    inclusive: Counter[tuple[str, str]] = Counter()
    deepest_parley: Counter[tuple[str, str]] = Counter()
    task_roots: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_parse_frame(f) for f in stack.split(";") if f]
        if frames and frames[0][0].startswith("process ") and len(frames) > 1:
            frames = frames[1:]  # py-spy may prefix the process or thread
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        mine = [f for f in frames if f[1].startswith("parley/") and f[1] not in _ROOTS]
        deepest_parley[mine[-1] if mine else ("(not in Parley's code)", "")] += count
        task_roots[_task_root(frames)] += count

    def table(counter: Counter[tuple[str, str]], keep: int) -> list[dict[str, object]]:
        return [
            {"function": func, "file": file, "percent": round(100 * n / total, 1), "samples": n}
            for (func, file), n in counter.most_common(keep)
        ]

    path_frames = Counter(
        {
            key: n
            for key, n in inclusive.items()
            if key[1].startswith(("parley/", "socketio/", "engineio/", "bench/"))
            and key[1] not in _ROOTS
        }
    )
    packages: Counter[str] = Counter()
    for (_, file), n in own.items():
        packages[_package(file)] += n
    return {
        "samples": total,
        "top_own": table(own, top),
        "top_inclusive_message_path": table(path_frames, top * 2),
        "own_by_package": {name: round(100 * n / total, 1) for name, n in packages.most_common()},
        # Each sample charged to the innermost Parley function on its stack: a partition of
        # the time Parley's own code is on the stack (broadcast, store, ledger, session...).
        "by_deepest_parley_function": table(deepest_parley, top),
        # Each sample charged to the coroutine its asyncio task started with.
        "by_task": {name: round(100 * n / total, 1) for name, n in task_roots.most_common(top)},
    }


_ROOTS = ("parley/cli.py", "parley/__main__.py")


def _task_root(frames: list[tuple[str, str]]) -> str:
    """The first frame below the event loop's run call: the task's own coroutine."""
    for i, (func, file) in enumerate(frames):
        if func in ("Runner.run", "run_until_complete") and file.startswith("asyncio/"):
            if i + 1 < len(frames):
                return frames[i + 1][0]
            return "(event loop itself: uvloop, I/O callbacks)"
    return frames[0][0]  # py-spy could not walk to the loop (a task stack seen on its own)


def _package(file: str) -> str:
    head = file.split("/", 1)[0]
    if head in ("botocore", "aiobotocore", "boto3", "aioboto3"):
        return "botocore/aiobotocore"
    if head == "stdlib":
        parts = file.split("/")
        return f"stdlib {parts[1]}" if len(parts) > 2 else "stdlib"
    return head or "native/other"
