"""What the app's start-up built, handed to every request as Starlette's lifespan state
(https://www.starlette.io/lifespan/#lifespan-state) and read back here, typed."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from parley.container import Running

_KEY = "parley"


def lifespan_state(running: Running) -> Mapping[str, Running]:
    return {_KEY: running}


def running_in(scope: Scope) -> Running:
    running = scope["state"][_KEY]
    assert isinstance(running, Running)
    return running


def started(scope: Scope) -> Running | None:
    """None while the app has not started (an error before the lifespan ran)."""
    running = scope.get("state", {}).get(_KEY)
    return running if isinstance(running, Running) else None
