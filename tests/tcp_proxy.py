"""A TCP proxy in front of a real store, for outages a test starts and ends: the shared local
servers are never stopped, an app is pointed at the proxy and the test cuts it instead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit


class TcpProxy:
    """Forwards 127.0.0.1:`port` to the store. `cut()` stops listening and drops every open
    connection (the store looks down); `restore()` listens on the same port again. `pause()`
    keeps the connections open but lets nothing through (a store too slow to answer) until
    `resume()`."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0  # chosen by the system on the first restore(), then kept
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    def url(self, store_url: str) -> str:
        """`store_url` with its host and port replaced by the proxy's (user info kept)."""
        parts = urlsplit(store_url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@127.0.0.1:{self.port}" if user else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._server = None

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def tcp_proxy(target_port: int, target_host: str = "127.0.0.1") -> AsyncIterator[TcpProxy]:
    """A listening proxy to target_host:target_port, cut on the way out if it is still up."""
    proxy = TcpProxy(target_port, target_host)
    await proxy.restore()
    try:
        yield proxy
    finally:
        if proxy.listening:
            await proxy.cut()


def address(store_url: str) -> tuple[int, str]:
    """(port, host) of a store URL, in the order tcp_proxy() takes them."""
    parts = urlsplit(store_url)
    assert parts.port is not None, store_url
    return parts.port, parts.hostname or "127.0.0.1"
