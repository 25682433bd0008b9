"""Fetching media by URL without becoming a proxy into the private network (SSRF).

Each hop: http/https only, no credentials in the URL; the host is resolved once (through a hook,
so tests need no DNS) and every address it resolves to must be public (`AddressPolicy`); the
connection goes to exactly those addresses (aiohttp is handed a resolver that only answers with
them, so nothing is resolved a second time and DNS rebinding has nothing to race). Redirects are
followed by hand, at most `max_redirects`, each one checked like the first URL. The whole fetch
has a deadline and the body the same size cap as an upload.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from quartet.media.addresses import AddressPolicy, IPAddress
from quartet.media.errors import FetchFailedError, MediaTooLargeError, UrlNotAllowedError
from quartet.media.staging import StagedFile

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""`(host, port) -> addresses`: how a host name becomes IP addresses (tests pass their own)."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 5.0


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedResolver(AbstractResolver):
    """Answers aiohttp with the addresses already checked for each host, and nothing else."""

    def __init__(self) -> None:
        self.pinned: dict[str, list[IPAddress]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.pinned.get(host)
        if not addresses:
            raise OSError(f"{host} was not resolved and checked first")
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        self.pinned.clear()


def _parse(url: str | URL) -> URL:
    try:
        parsed = url if isinstance(url, URL) else URL(url)
        port = parsed.port
    except (ValueError, TypeError) as error:
        raise UrlNotAllowedError("The URL is malformed") from error
    if parsed.scheme not in ("http", "https"):
        raise UrlNotAllowedError("Only http and https URLs can be fetched")
    if parsed.user is not None or parsed.password is not None:
        raise UrlNotAllowedError("URLs with credentials are not fetched")
    if not parsed.host or port is None:
        raise UrlNotAllowedError("The URL has no host")
    return parsed


@dataclass(frozen=True)
class UrlFetcher:
    policy: AddressPolicy
    _: KW_ONLY
    resolver: Resolver = system_resolver
    timeout_s: float
    max_redirects: int
    user_agent: str

    async def fetch(self, url: str, sink: StagedFile) -> URL:
        """Stream the resource at `url` into `sink`; returns the URL it was finally read from."""
        target = _parse(url)
        pins = _PinnedResolver()
        connector = aiohttp.TCPConnector(resolver=pins, use_dns_cache=False, limit=1)
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S),
            auto_decompress=False,  # a gzip bomb must not inflate past the cap
            trust_env=False,  # no proxy from the environment
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"},
        )
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._follow(session, pins, target, sink)
        except TimeoutError as error:
            raise FetchFailedError(f"The URL did not answer within {self.timeout_s:g}s") from error
        except (aiohttp.ClientError, OSError) as error:
            raise FetchFailedError("The URL could not be fetched: connection failed") from error
        finally:
            await session.close()

    async def _follow(
        self, session: aiohttp.ClientSession, pins: _PinnedResolver, target: URL, sink: StagedFile
    ) -> URL:
        for _ in range(self.max_redirects + 1):
            assert target.host is not None
            assert target.port is not None
            if target.host not in pins.pinned:
                pins.pinned[target.host] = await self._checked_addresses(target.host, target.port)
            async with session.get(target, allow_redirects=False) as response:
                if response.status in REDIRECTS and "Location" in response.headers:
                    target = _parse(response.url.join(URL(response.headers["Location"])))
                    continue
                if response.status != 200:
                    raise FetchFailedError(f"The URL answered HTTP {response.status}")
                if (response.content_length or 0) > sink.max_bytes:
                    raise MediaTooLargeError(f"The file is larger than {sink.max_bytes} bytes")
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    await sink.write(chunk)
                return response.url
        raise FetchFailedError(f"More than {self.max_redirects} redirects")

    async def _checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        """The host's addresses, resolved once; all must be public or the URL is refused."""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                answers = await self.resolver(host, port)
            except OSError as error:
                raise FetchFailedError("The host name could not be resolved") from error
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
        if not addresses:
            raise FetchFailedError("The host name could not be resolved")
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason is not None:
                raise UrlNotAllowedError(f"The URL leads to a {reason} address, which is refused")
        return addresses
