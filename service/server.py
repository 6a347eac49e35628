"""The long-running processes: `signoff serve`, `web`, `smtpd` and `worker`.

`serve` is the embedded default: the web app, the inbound SMTP server and the outbox
worker on one event loop in one process. When scaled out, each role runs in processes of
its own, any number of each, against one PostgreSQL: they share nothing but the store,
and decisions reach other nodes' long-polls through `DecisionBroadcast`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import uvicorn

from .app import create_app
from .asgi import LongPollASGI, WithoutMcp
from .config import Settings, load_settings
from .context import Runtime
from .logs import configure_logging
from .mail_in.receiver import InboundProcessor
from .mail_in.smtpd import ReplyHandler, smtp_protocol_factory
from .mail_out.senders import sender_for
from .workers.outbox import OutboxWorker
from .workers.schedules import ScheduleWorker

if TYPE_CHECKING:
    from .mcp.http import McpMount

log = logging.getLogger(__name__)

INBOUND_THREADS = 2
KEEP_ALIVE_SECONDS = 75


def serve(settings: Settings) -> None:
    """Everything in one process (the embedded default)."""
    _run(settings, _serve_everything)


def web(settings: Settings, workers: int = 1) -> None:
    """HTTP only. With several workers, uvicorn forks them onto one listening socket."""
    if workers == 1:
        _run(settings, _serve_web_only)
        return
    uvicorn.run(
        f"{__name__}:web_app",
        factory=True,
        workers=workers,
        **_uvicorn_options(settings),
    )


def smtpd(settings: Settings) -> None:
    """Inbound mail only: takes replies, stores them before 250, turns them into answers."""
    _run(settings, _serve_smtp_only)


def worker(settings: Settings) -> None:
    """The outbox and the requests' timeouts."""
    _run(settings, _work_only)


def web_app() -> McpMount | WithoutMcp:
    """The ASGI app of one `signoff web --workers N` process (built in each of them)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.secrets)
    runtime = Runtime.open(settings)
    runtime.broadcast.start()
    return _asgi_app(runtime)


def _run(settings: Settings, role: object) -> None:
    runtime = Runtime.open(settings)
    try:
        asyncio.run(role(runtime))  # type: ignore[operator]
    finally:
        runtime.close()


async def _serve_everything(runtime: Runtime) -> None:
    async with AsyncExitStack() as parts:
        await _start_smtp(runtime, parts)
        _start_outbox(runtime, parts)
        _start_schedules(runtime, parts)
        runtime.broadcast.start()
        _log_listening(runtime, web=True, smtp=True)
        await _web_server(runtime).serve()


async def _serve_web_only(runtime: Runtime) -> None:
    runtime.broadcast.start()
    _log_listening(runtime, web=True, smtp=False)
    await _web_server(runtime).serve()


async def _serve_smtp_only(runtime: Runtime) -> None:
    async with AsyncExitStack() as parts:
        await _start_smtp(runtime, parts)
        _log_listening(runtime, web=False, smtp=True)
        await _until_signalled()


async def _work_only(runtime: Runtime) -> None:
    async with AsyncExitStack() as parts:
        outbox_worker = _start_outbox(runtime, parts)
        _start_schedules(runtime, parts)
        log.info("signoff worker %s: delivering the outbox, timing out requests", outbox_worker.name)
        await _until_signalled()


def _start_outbox(runtime: Runtime, parts: AsyncExitStack) -> OutboxWorker:
    outbox_worker = OutboxWorker(runtime, sender_for(runtime.settings, runtime.database))
    outbox_worker.start()
    parts.callback(outbox_worker.stop)
    return outbox_worker


def _start_schedules(runtime: Runtime, parts: AsyncExitStack) -> None:
    schedules = ScheduleWorker(runtime)
    schedules.start()
    parts.callback(schedules.stop)


async def _start_smtp(runtime: Runtime, parts: AsyncExitStack) -> None:
    settings = runtime.settings
    inbound_pool = ThreadPoolExecutor(INBOUND_THREADS, thread_name_prefix="inbound")
    parts.callback(inbound_pool.shutdown, wait=True)
    processor = InboundProcessor(runtime)

    def process_soon(inbound_id: int) -> None:
        inbound_pool.submit(_process_logged, processor, inbound_id)

    handler = ReplyHandler(runtime, on_stored=process_soon)
    server = await asyncio.get_running_loop().create_server(
        smtp_protocol_factory(runtime, handler), settings.smtp_host, settings.smtp_port
    )
    parts.push_async_callback(server.wait_closed)
    parts.callback(server.close)
    # Messages stored by a run that died before reading them; the row lock makes it once.
    inbound_pool.submit(processor.process_backlog)


def _web_server(runtime: Runtime) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(_asgi_app(runtime), **_uvicorn_options(runtime.settings)))


def _asgi_app(runtime: Runtime) -> McpMount | WithoutMcp:
    app = LongPollASGI(create_app(runtime), runtime.hub, runtime.async_wait_secret)
    # Imported here: the MCP SDK takes half a second to import, which the SMTP and worker
    # processes have no use for; and it is an extra that may not be installed.
    try:
        from .mcp.http import McpMount
    except ImportError:
        log.info("the MCP SDK is not installed (pip install 'signoff[mcp]'): /mcp is off")
        return WithoutMcp(app)
    return McpMount(runtime, app)


def _uvicorn_options(settings: Settings) -> dict[str, object]:
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        # The lifespan runs the MCP server's session manager (service/mcp/http.py).
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("signoff: stopping")


def _log_listening(runtime: Runtime, *, web: bool, smtp: bool) -> None:
    settings = runtime.settings
    if web:
        log.info("signoff: web on http://%s:%s", settings.http_host, settings.http_port)
    if smtp:
        log.info(
            "signoff: replies on smtp://%s:%s for @%s",
            settings.smtp_host,
            settings.smtp_port,
            settings.reply_domain,
        )
    log.info(
        "signoff: outbound %s",
        "to the dev mailbox at /dev/mail" if settings.uses_dev_mailbox else "via relay",
    )


def _process_logged(processor: InboundProcessor, inbound_id: int) -> None:
    try:
        processor.process(inbound_id)
    except Exception:
        log.exception("inbound %s: processing failed", inbound_id)
