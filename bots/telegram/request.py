"""python-telegram-bot's HTTP client on aiohttp: :class:`AiohttpRequest`.

A drop-in replacement for PTB's default ``HTTPXRequest``, several times faster under
concurrency::

    bot = Bot(token, request=AiohttpRequest(), get_updates_request=AiohttpRequest(8))

It sends what ``HTTPXRequest`` sends (url-encoded ``RequestData.json_parameters``, or a
``multipart/form-data`` body when files are uploaded), honours the same timeouts with the same
``DEFAULT_NONE`` / ``None`` meaning, and raises the same errors: ``TimedOut`` for every timeout
(with httpx's wording for a pool timeout), ``NetworkError`` for other transport failures.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesIOPayload, BytesPayload, Payload, StringPayload
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

_LOGGER = logging.getLogger(__name__)
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_WRITE_CHUNK = 64 * 1024  # httpx writes uploads in 64 KiB pieces; each gets the write timeout
_BIG_FILE = 1 << 20  # aiohttp wants bytes above this as a (chunked, loop-friendly) BytesIO
#: the files of an upload, as `RequestData.multipart_data` gives them: name -> (file name,
#: content, MIME type); PTB's own alias for it lives in a private module
_Files = dict[str, tuple[str, bytes | IO[bytes], str]]
_POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class _TimedWriter:
    """aiohttp's stream writer, but every 64 KiB written must go out within ``timeout`` seconds.

    aiohttp has no write timeout of its own; this gives uploads httpx's per-write one.
    """

    __slots__ = ("_timeout", "_writer")

    def __init__(self, writer: AbstractStreamWriter, timeout: float) -> None:
        self._writer = writer
        self._timeout = timeout

    async def write(self, chunk: bytes | bytearray | memoryview, **kwargs: Any) -> None:
        view = memoryview(chunk)
        for start in range(0, len(view), _WRITE_CHUNK):
            async with asyncio.timeout(self._timeout):
                await self._writer.write(view[start : start + _WRITE_CHUNK], **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


class _FormData(aiohttp.MultipartWriter):
    """A ``multipart/form-data`` body whose writes are bounded by ``write_timeout``."""

    def __init__(self, write_timeout: float | None) -> None:
        super().__init__("form-data")
        self.write_timeout = write_timeout

    async def write(self, writer: AbstractStreamWriter, close_boundary: bool = True) -> None:
        if self.write_timeout is not None:
            writer = _TimedWriter(writer, self.write_timeout)  # type: ignore[assignment]
        await super().write(writer, close_boundary)


def _timeout(given: object, default: float | None) -> float | None:
    """A timeout passed to `do_request`: `default` when not passed (PTB's public way to tell is
    `given is BaseRequest.DEFAULT_NONE`), else seconds or None (no limit)."""
    if given is BaseRequest.DEFAULT_NONE:
        return default
    if given is None or (isinstance(given, (int, float)) and not isinstance(given, bool)):
        return given
    raise TypeError(f"a timeout is a number of seconds or None, not {type(given).__name__}")


async def _multipart(params: dict[str, str], files: _Files, write_timeout: float | None) -> _FormData:
    """Text fields then files, as httpx (and aiogram, with real Telegram) send them.

    Names are sent as raw UTF-8, not percent-quoted, exactly as httpx and browsers do.
    """
    form = _FormData(write_timeout)
    for name, value in params.items():
        field = StringPayload(value)
        field.set_content_disposition("form-data", quote_fields=False, name=name)
        form.append_payload(field)
    for name, (file_name, content, mime_type) in files.items():
        if not isinstance(content, (bytes, bytearray, memoryview)):  # InputFile(read_file_handle=False)
            content = await asyncio.to_thread(content.read)  # read, never closed: it is the caller's
        part: Payload = (
            BytesIOPayload(io.BytesIO(content), content_type=mime_type)
            if len(content) > _BIG_FILE
            else BytesPayload(content, content_type=mime_type)
        )
        part.set_content_disposition("form-data", quote_fields=False, name=name, filename=file_name)
        form.append_payload(part)
    return form


class AiohttpRequest(BaseRequest):
    """PTB's :class:`~telegram.request.BaseRequest` on one pooled :class:`aiohttp.ClientSession`.

    Args mirror ``HTTPXRequest``: ``connection_pool_size`` concurrent requests at most (waiting
    longer than ``pool_timeout`` for a free one raises ``TimedOut``); ``read_timeout`` bounds
    each wait for response bytes, ``connect_timeout`` establishing a connection (DNS, TCP,
    TLS, proxy), ``write_timeout`` (``media_write_timeout`` for uploads) each 64 KiB of an
    upload. ``None`` means no limit. ``proxy``: an ``http://`` proxy URL (SOCKS needs
    aiohttp-socks, not a dependency). ``keepalive_timeout``: seconds an idle connection is
    kept; ``ttl_dns_cache``: seconds DNS answers are cached. ``trust_env``: take proxies from
    ``HTTP(S)_PROXY`` / ``NO_PROXY`` (off by default, unlike httpx). ``session_kwargs`` go to
    ``aiohttp.ClientSession`` last, overriding the rest.

    The session is created in :meth:`initialize` (again after :meth:`shutdown`) and closed in
    :meth:`shutdown`; requests outside that window raise :class:`RuntimeError`.
    """

    __slots__ = (
        "_connect_timeout",
        "_default_timeout",
        "_keepalive_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_session_kwargs",
        "_slots",
        "_trust_env",
        "_ttl_dns_cache",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
        *,
        keepalive_timeout: float = 15.0,
        ttl_dns_cache: int | None = 300,
        trust_env: bool = False,
        session_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        if proxy is not None and urlsplit(proxy).scheme.lower() not in ("http", "https"):
            raise ValueError("only http(s):// proxies are supported (SOCKS needs aiohttp-socks)")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._keepalive_timeout = keepalive_timeout
        self._ttl_dns_cache = ttl_dns_cache
        self._trust_env = trust_env
        self._session_kwargs = dict(session_kwargs or {})
        self._default_timeout = aiohttp.ClientTimeout(connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(connection_pool_size)

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (see :attr:`BaseRequest.read_timeout`)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the connection pool and session (a no-op while one is open)."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            limit_per_host=0,
            ttl_dns_cache=self._ttl_dns_cache,
            keepalive_timeout=self._keepalive_timeout,
        )
        kwargs: dict[str, Any] = {
            "connector": connector,
            "headers": {"User-Agent": self.USER_AGENT},
            "timeout": self._default_timeout,
            "trust_env": self._trust_env,
        }
        if self._proxy is not None:  # ClientSession(proxy=...) needs aiohttp 3.10+; most never set it
            kwargs["proxy"] = self._proxy
        kwargs.update(self._session_kwargs)
        self._slots = asyncio.Semaphore(self._pool_size)
        self._session = aiohttp.ClientSession(**kwargs)

    async def shutdown(self) -> None:
        """Close the session and its connections (a no-op if not open)."""
        if self._session is None or self._session.closed:
            _LOGGER.debug("This AiohttpRequest is already shut down. Returning.")
            return
        await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`BaseRequest.do_request`: returns ``(HTTP status, body)``."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        write = _timeout(write_timeout, self._media_write_timeout if files else self._write_timeout)
        pool = _timeout(pool_timeout, self._pool_timeout)
        if read_timeout is BaseRequest.DEFAULT_NONE and connect_timeout is BaseRequest.DEFAULT_NONE:
            timeout = self._default_timeout
        else:
            timeout = aiohttp.ClientTimeout(
                connect=_timeout(connect_timeout, self._connect_timeout), sock_read=_timeout(read_timeout, self._read_timeout)
            )

        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            params = request_data.json_parameters  # JSON-encodes the values: read it once
            if files:
                data = await _multipart(params, files, write)
            elif params:
                data, headers = urlencode(params).encode(), _FORM_HEADERS

        slots = self._slots
        if slots.locked():  # every connection is busy: wait for one, as httpx's pool does
            try:
                async with asyncio.timeout(pool):
                    await slots.acquire()
            except TimeoutError as err:
                raise TimedOut(_POOL_TIMEOUT_MESSAGE) from err
        else:
            await slots.acquire()
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as err:  # also aiohttp's Connection/SocketTimeoutError
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            slots.release()
