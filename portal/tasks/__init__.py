"""The task queue: Huey, with SQLite storage under instance/ by default and Redis when
`PORTAL_TASKS_REDIS_URL` is set (the same task code for both).

Tasks live in this package, one module per area (routine.py: reminders, package expiry,
mail retries; clearinghouse.py: the fetch), declared at import with `@task(...)` or
`@periodic(crontab(...))`; nothing runs then. Views enqueue them; a task calls services
(views -> tasks -> services), so no service imports this package.

`init_app` builds the queue from the app's config and registers every declared task,
wrapped to run inside an app context with a database connection (mail a task queues is
sent when that context ends). Enqueue with `enqueue(func, *args)`: in the web process
that stores the call for the consumer (`flask --app wsgi tasks worker`); with
`TASKS_IMMEDIATE` (the tests) it runs at once, in-process.

Long work reports its progress through a `Job` row (portal/services/jobs.py), which a
page polls: the job survives a restart of the web server, and of the consumer (Huey's
SQLite queue is a file).
"""

import functools
import os

import click
from flask import current_app
from flask.cli import AppGroup
from huey import RedisHuey, SqliteHuey, crontab

from portal.db import database

_declared = {}  # task name -> (function, Huey task options, crontab or None)


def task(**options):
    """Declare a background task (Huey options: retries, retry_delay, priority ...)."""

    def declare(func):
        _declared[_name(func)] = (func, options, None)
        return func

    return declare


def periodic(schedule, **options):
    """Declare a task the consumer runs on a schedule (a huey.crontab)."""

    def declare(func):
        _declared[_name(func)] = (func, options, schedule)
        return func

    return declare


def _name(func):
    return f"{func.__module__}.{func.__name__}"


def make_queue(config, instance_path):
    """The Huey instance for this configuration (not yet holding any task)."""
    immediate = bool(config.get("TASKS_IMMEDIATE"))
    if config.get("TASKS_REDIS_URL"):
        return RedisHuey("portal", url=config["TASKS_REDIS_URL"], immediate=immediate)
    path = config["TASKS_DATABASE"]
    if not os.path.isabs(path):
        path = os.path.join(instance_path, path)
    return SqliteHuey("portal", filename=path, immediate=immediate)


def init_app(app):
    huey = make_queue(app.config, app.instance_path)
    registered = {}
    for name, (func, options, schedule) in _declared.items():
        run = _in_app_context(app, func)
        if schedule is None:
            registered[name] = huey.task(name=name, **options)(run)
        else:
            registered[name] = huey.periodic_task(schedule, name=name, **options)(run)
    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = registered
    app.cli.add_command(tasks_cli)


def _in_app_context(app, func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        # In the consumer each task gets its own connection; run in-process (immediate
        # mode, the tests) it shares the caller's, which it must not close.
        with app.app_context():
            opened = database.is_closed()
            if opened:
                database.connect()
            try:
                return func(*args, **kwargs)
            finally:
                if opened and not database.is_closed():
                    database.close()

    return run


def enqueue(func, *args, **kwargs):
    """Put a declared task on the queue; returns Huey's Result (None for no result)."""
    wrapper = current_app.extensions["huey_tasks"].get(_name(func))
    if wrapper is None:
        raise LookupError(f"{_name(func)} is not a declared task (use @tasks.task())")
    return wrapper(*args, **kwargs)


def queue():
    return current_app.extensions["huey"]


tasks_cli = AppGroup("tasks", help="The background task queue (Huey).")


@tasks_cli.command("worker")
@click.option("-w", "--workers", default=2, show_default=True, help="Worker count.")
@click.option(
    "-k",
    "--worker-type",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="process: uses every core (PDF batches); thread: lighter.",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the scheduled tasks; a second consumer for long work only needs none.",
)
def worker_cmd(workers, worker_type, periodic):
    """Run the consumer: queued tasks and the periodic ones (reminders, expiry ...)."""
    huey = queue()
    click.echo(f"Task queue: {huey.storage.__class__.__name__}, {workers} {worker_type}(s)")
    consumer = huey.create_consumer(workers=workers, worker_type=worker_type, periodic=periodic)
    consumer.run()


@tasks_cli.command("list")
def list_cmd():
    """List the declared tasks and their schedules."""
    for name, (_func, _options, schedule) in sorted(_declared.items()):
        click.echo(f"{name}  {'periodic' if schedule else 'on demand'}")


__all__ = ["crontab", "enqueue", "init_app", "periodic", "queue", "task"]

# The areas' tasks, declared once the decorators above exist.
from portal.tasks import claims, claims_paper, clearinghouse, documents, routine  # noqa: E402,F401
