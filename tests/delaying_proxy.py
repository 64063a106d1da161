"""A TCP proxy that holds every byte sent through it for a while before passing it on: put in
front of the DynamoDB endpoint for one app instance, it makes that instance's writes land late
(as a tail latency or a retry would), while the other instances' writes are quick."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from parley.devstack.services import free_port


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: Callable[[], float]
) -> None:
    """Forward what `reader` gets to `writer`, each chunk `delay()` seconds after it arrived
    (chunks keep their order and do not wait for each other's delays)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(due - loop.time(), 0.0))
            if not chunk:
                writer.write_eof() if writer.can_write_eof() else writer.close()
                return
            writer.write(chunk)
            await writer.drain()

    forwarding = asyncio.create_task(forward())
    try:
        while True:
            chunk = await reader.read(65536)
            queue.put_nowait((loop.time() + delay(), chunk))
            if not chunk:
                break
        await forwarding
    except (ConnectionError, OSError):
        forwarding.cancel()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class DelayingProxy:
    """Listens on 127.0.0.1:`port` (in a thread of its own, so that a test blocking its event
    loop does not stall it) and forwards to `upstream`, delaying requests by `delay` s (which
    may be changed at any time; it applies to the bytes that arrive after)."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname is not None, upstream
        assert parts.port is not None, upstream
        self._target = (parts.hostname, parts.port)
        self.delay = delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            _pipe(client_r, server_w, lambda: self.delay),
            _pipe(server_r, client_w, lambda: 0.0),
        )

    def start(self) -> None:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, "127.0.0.1", self.port), self._loop
        )
        self._server = started.result(10)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def delaying_proxy(upstream: str, delay: float = 0.0) -> Iterator[DelayingProxy]:
    proxy = DelayingProxy(upstream, delay)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
