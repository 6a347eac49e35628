"""Growth: status reads and creates with 1,000 and with 1,000,000 stored requests, on SQLite and PostgreSQL.

For each store (a SQLite file; a fresh PostgreSQL database) `signoff db upgrade` makes the schema
and `signoff keys create` a key; one request is created through the API, and human_requests is
filled with copies of it by one INSERT ... SELECT (distinct call_ids and reply tokens; approved,
rejected, timed out, withdrawn or still waiting). The status read joins no other table, and the
create's rows in the audit trail and the outbox go at the end of those tables' indexes, so those
two are left to grow from the creates alone. `signoff web` is warmed up and measured with wrk at
the small size, the store grows to the large size under it, and it is measured again:

- GET  /humanlayer/v1/function_calls/seed-<n>   with n random over the whole table
- POST /humanlayer/v1/function_calls            with unique call_ids

    python bench/growth.py            # 1,000 then 1,000,000 requests, 5 s per measurement
    python bench/growth.py --quick    # 1,000 then 10,000, 1 s each
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import requests
from harness import (
    APPROVER,
    Load,
    RandomPaths,
    Results,
    Service,
    arguments,
    describe,
    fresh_postgres_database,
    function_call_body,
    function_call_template,
    run_wrk,
    service,
)
from sqlalchemy import Engine, TextClause, create_engine, select, text

from signoff_service.store.db import normalize_database_url
from signoff_service.store.models import HumanRequest

GOAL = 1.5
TEMPLATE_CALL_ID = "template"
SEEDED_PATHS = "/humanlayer/v1/function_calls/seed-{n}"
SECONDS_APART = 6  # seeded requests were made one every 6 s, back from now
OPERATOR = "operator@example.com"


@dataclass(frozen=True)
class Dialect:
    """The SQL that differs between the stores; the rest of the seeding is shared."""

    numbers: str  # a CTE numbers(n), n from :first to :last
    reply_token: str  # 30 random hex digits
    ago: str  # the timestamp {seconds} before now, in the form the store keeps timestamps
    explain: str  # the prefix that makes a query show its plan
    settle: str  # run once seeded: leave the store as a long-lived one would be
    bulk_settings: tuple[str, ...] = ()  # for the seeding connection only

    def before_now(self, seconds: str) -> str:
        return self.ago.format(seconds=seconds)


DIALECTS = {
    "postgresql": Dialect(
        numbers="WITH numbers(n) AS (SELECT generate_series(CAST(:first AS int), CAST(:last AS int)))",
        reply_token="substr(md5(random()::text || n::text), 1, 30)",
        ago="(now() AT TIME ZONE 'utc') - make_interval(secs => {seconds})",
        explain="EXPLAIN",
        # Autovacuum would have done this by now in a store that grew over months.
        settle="VACUUM ANALYZE human_requests",
    ),
    "sqlite": Dialect(
        numbers="WITH RECURSIVE numbers(n) AS "
        "(SELECT :first UNION ALL SELECT n + 1 FROM numbers WHERE n < :last)",
        reply_token="lower(hex(randomblob(15)))",
        ago="strftime('%Y-%m-%d %H:%M:%f000', 'now', printf('-%d seconds', {seconds}))",
        explain="EXPLAIN QUERY PLAN",
        # The seeding went into the write-ahead log; the service's own checkpoints would have
        # moved it into the database file by now.
        settle="PRAGMA wal_checkpoint(TRUNCATE)",
        # A seeding interrupted is started again, so it need not survive a crash; the cache
        # holds the indexes while a million random keys go into them.
        bulk_settings=("PRAGMA synchronous=OFF", "PRAGMA cache_size=-1048576"),
    ),
}

# n % 100 picks each seeded request's fate: 60 % approved, 20 % rejected, 5 % timed out,
# 5 % withdrawn, 10 % still waiting.
REQUESTS = """
{numbers}
INSERT INTO human_requests (project_id, kind, call_id, run_id, spec, recipients, reply_token,
    requested_at, responded_at, approved, comment, decided_by, decided_via, timed_out, withdrawn,
    steps_done)
SELECT t.project_id, t.kind, 'seed-' || CAST(n AS TEXT), 'run-' || CAST(n / 10 AS TEXT), t.spec,
    t.recipients, {reply_token}, {requested_at},
    CASE WHEN n % 100 < 90 THEN {responded_at} END,
    CASE WHEN n % 100 < 60 THEN TRUE WHEN n % 100 < 90 THEN FALSE END,
    CASE WHEN n % 100 < 60 THEN NULL
         WHEN n % 100 < 80 THEN 'not this account'
         WHEN n % 100 < 85 THEN 'No one responded to transfer_funds within 1 hour'
         WHEN n % 100 < 90 THEN 'The request to run transfer_funds was withdrawn by {operator}.' END,
    CASE WHEN n % 100 < 80 THEN :approver WHEN n % 100 < 85 THEN 'signoff'
         WHEN n % 100 < 90 THEN :operator END,
    CASE WHEN n % 100 < 80 THEN 'email' WHEN n % 100 < 85 THEN 'timeout'
         WHEN n % 100 < 90 THEN 'dashboard' END,
    n % 100 >= 80 AND n % 100 < 85,
    n % 100 >= 85 AND n % 100 < 90,
    0
FROM numbers, human_requests AS t
WHERE t.call_id = :template
"""


STORES: dict[str, Callable[[], AbstractContextManager[str | None]]] = {
    "SQLite": lambda: nullcontext(None),  # the service's own file in its working directory
    "PostgreSQL": lambda: fresh_postgres_database("signoff_bench_growth"),
}


@dataclass
class Grown:
    """What one store measured, at the small size and at the large one."""

    small: tuple[Load, Load]
    large: tuple[Load, Load]
    seed_seconds: float
    lookup_plan: str


def grow(
    database: AbstractContextManager[str | None], small: int, large: int, seconds: float, connections: int
) -> Grown:
    with database as url, service(url) as running:
        running.cli("db", "upgrade")
        headers = {"Authorization": f"Bearer {running.create_key()}"}
        running.start("web")
        created = requests.post(
            f"{running.api_url}/function_calls",
            json=function_call_body(TEMPLATE_CALL_ID),
            headers=headers,
            timeout=10,
        )
        created.raise_for_status()
        seed(running.database_url, 1, small, large)
        measure(running, headers, small, 1, connections)  # the first requests of a process are slow
        at_small = measure(running, headers, small, seconds, connections)
        started = time.monotonic()
        seed(running.database_url, small + 1, large, large)
        seed_seconds = time.monotonic() - started
        at_large = measure(running, headers, large, seconds, connections)
        return Grown(at_small, at_large, seed_seconds, lookup_plan(running.database_url))


def measure(
    running: Service, headers: dict[str, str], stored: int, seconds: float, connections: int
) -> tuple[Load, Load]:
    """Status reads of seeded requests picked at random, then creates."""
    get = run_wrk(
        running.base_url, seconds, connections, headers, random_paths=RandomPaths(SEEDED_PATHS, stored)
    )
    post = run_wrk(
        f"{running.api_url}/function_calls", seconds, connections, headers, function_call_template()
    )
    return get, post


@contextmanager
def store_engine(url: str) -> Iterator[Engine]:
    engine = create_engine(normalize_database_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


def seed(url: str, first: int, last: int, newest: int) -> None:
    """Add requests seed-<first>..seed-<last>, copies of the template request.

    `newest` is the number of the most recent request of the run (made now; the others before it).
    """
    with store_engine(url) as engine:
        dialect = DIALECTS[engine.dialect.name]
        with engine.begin() as connection:
            for pragma in dialect.bulk_settings:
                connection.exec_driver_sql(pragma)
            connection.execute(requests_insert(dialect), request_values(first, last, newest))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(dialect.settle)


def requests_insert(dialect: Dialect) -> TextClause:
    ago = f"(:newest - n) * {SECONDS_APART}"
    return text(
        REQUESTS.format(
            numbers=dialect.numbers,
            reply_token=dialect.reply_token,
            requested_at=dialect.before_now(f"{ago} + 300"),
            responded_at=dialect.before_now(ago),
            operator=OPERATOR,
        )
    )


def request_values(first: int, last: int, newest: int) -> dict[str, object]:
    return {
        "first": first,
        "last": last,
        "newest": newest,
        "template": TEMPLATE_CALL_ID,
        "approver": APPROVER,
        "operator": OPERATOR,
    }


def lookup_plan(url: str) -> str:
    """The store's plan for the status read's lookup (by project, kind and call_id; one project)."""
    lookup = select(HumanRequest).where(
        HumanRequest.project_id == 1, HumanRequest.kind == "function_call", HumanRequest.call_id == "seed-1"
    )
    with store_engine(url) as engine, engine.connect() as connection:
        dialect = DIALECTS[engine.dialect.name]
        query = str(lookup.compile(engine, compile_kwargs={"literal_binds": True}))
        rows = connection.exec_driver_sql(f"{dialect.explain} {query}").all()
    return "; ".join(str(row[-1]).strip() for row in rows)


def slowdown(small: Load, large: Load) -> tuple[float, str]:
    """How many times slower at the large size: by req/s (judged), and by p50 latency (shown)."""
    by_rate = small.requests_per_second / large.requests_per_second
    return by_rate, f"{by_rate:.2f}× (p50 {large.p50_ms / small.p50_ms:.2f}×)"


def report(results: Results, store: str, grown: Grown, small: int, large: int) -> None:
    sizes = (f"{small:,}", f"{large:,}")
    for index, verb in enumerate(("GET status", "POST create")):
        at_small, at_large = grown.small[index], grown.large[index]
        results.add(f"{store} {verb}, {sizes[0]} stored", describe(at_small))
        results.add(f"{store} {verb}, {sizes[1]} stored", describe(at_large))
        ratio, shown = slowdown(at_small, at_large)
        results.add(f"{store} {verb} slowdown, {sizes[1]} ÷ {sizes[0]}", shown, f"≤ {GOAL}×", ratio <= GOAL)
        if at_small.errors or at_large.errors:
            results.notes.append(f"{store} {verb}: the service answered some requests with an error")
    results.add(f"{store} seeding {large - small:,} requests", f"{grown.seed_seconds:.1f} s")
    results.notes.append(f"{store} status lookup at {sizes[1]}: {grown.lookup_plan}")


def main() -> None:
    args = arguments(__doc__.splitlines()[0], small=1_000, large=1_000_000, seconds=5, connections=4)
    large = 10_000 if args.quick else args.large
    seconds = 1 if args.quick else args.seconds
    results = Results(
        "6. Growth: status reads and creates as the store grows",
        f"`signoff web`; wrk, 1 thread, {args.connections} connections, {seconds} s each; "
        f"{args.small:,} then {large:,} stored requests (60 % approved, 20 % rejected, "
        "5 % timed out, 5 % withdrawn, 10 % waiting); status reads of random ones among them",
    )
    started = time.monotonic()
    for store, database in STORES.items():
        grown = grow(database(), args.small, large, seconds, args.connections)
        report(results, store, grown, args.small, large)
    results.add("wall clock, both stores, seeding included", f"{time.monotonic() - started:.0f} s")
    results.publish(args)


if __name__ == "__main__":
    main()
