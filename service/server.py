"""`signoff serve`: the web app, the inbound SMTP server and the workers in one process.

Everything shares one event loop: uvicorn serves HTTP (Flask views run in its thread
pool), aiosmtpd takes replies, and the outbox worker runs beside them in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from .app import create_app
from .asgi import LongPollASGI
from .config import Settings
from .context import Runtime
from .mail_in.receiver import InboundProcessor
from .mail_in.smtpd import ReplyHandler, smtp_protocol_factory
from .mail_out.senders import sender_for
from .workers.outbox import OutboxWorker

log = logging.getLogger(__name__)

INBOUND_THREADS = 2


def serve(settings: Settings) -> None:
    runtime = Runtime.open(settings)
    try:
        asyncio.run(_serve_all(runtime))
    finally:
        runtime.close()


async def _serve_all(runtime: Runtime) -> None:
    settings = runtime.settings
    loop = asyncio.get_running_loop()
    inbound_pool = ThreadPoolExecutor(INBOUND_THREADS, thread_name_prefix="inbound")
    processor = InboundProcessor(runtime)

    def process_soon(inbound_id: int) -> None:
        inbound_pool.submit(_process_logged, processor, inbound_id)

    handler = ReplyHandler(runtime, on_stored=process_soon)
    smtp_server = await loop.create_server(
        smtp_protocol_factory(runtime, handler), settings.smtp_host, settings.smtp_port
    )
    outbox_worker = OutboxWorker(runtime, sender_for(settings, runtime.database))
    outbox_worker.start()
    inbound_pool.submit(processor.process_backlog)

    web = uvicorn.Server(
        uvicorn.Config(
            LongPollASGI(create_app(runtime), runtime.hub, runtime.async_wait_secret),
            host=settings.http_host,
            port=settings.http_port,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=75,
        )
    )
    log.info(
        "signoff: web on http://%s:%s, replies on smtp://%s:%s for @%s, outbound %s",
        settings.http_host,
        settings.http_port,
        settings.smtp_host,
        settings.smtp_port,
        settings.reply_domain,
        "to the dev mailbox at /dev/mail" if settings.uses_dev_mailbox else "via relay",
    )
    try:
        await web.serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()
        outbox_worker.stop()
        inbound_pool.shutdown(wait=True)


def _process_logged(processor: InboundProcessor, inbound_id: int) -> None:
    try:
        processor.process(inbound_id)
    except Exception:
        log.exception("inbound %s: processing failed", inbound_id)
