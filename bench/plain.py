"""The yardstick between bare Flask and the portal: a plain Flask + Peewee page, served by
gunicorn on the portal's own settings like bench/hello.py.

It lists 25 clients of the bench database (id order, five columns, a link per row) through
a Jinja template (bench/templates/plain_clients.html), over Peewee's pooled connection:
what a page of a small Flask app costs on this machine with none of the portal's work (no
login, session, CSRF token, audit, layout or security headers). `make bench` prints its
ratio to bare Flask next to the portal's pages (target `plain_peewee_page`, no goal).
"""

import json
import os

from flask import Flask, render_template
from peewee import CharField, DateField, IntegerField, Model
from playhouse.db_url import connect
from playhouse.pool import PooledSqliteDatabase

with open(os.environ["PORTAL_BENCH_CONFIG"]) as fh:
    _config = json.load(fh)
_url = os.environ.get("PORTAL_DATABASE_URL")
if _url:
    db = connect(_url.replace("postgresql://", "postgresql+pool://", 1))
else:  # a pooled connection serves any thread, as the portal's does
    db = PooledSqliteDatabase(
        _config["DATABASE"], check_same_thread=False, pragmas={"journal_mode": "wal"}
    )


class Client(Model):
    practice_id = IntegerField()
    first_name = CharField()
    last_name = CharField()
    date_of_birth = DateField(null=True)
    phone = CharField()
    email = CharField()

    class Meta:
        database = db
        table_name = "client"


app = Flask(__name__)


@app.before_request
def _connect():
    db.connect(reuse_if_open=True)


@app.teardown_request
def _close(exc):
    if not db.is_closed():
        db.close()  # back to the pool


@app.route("/")
def clients():
    rows = (
        Client.select(
            Client.id,
            Client.first_name,
            Client.last_name,
            Client.date_of_birth,
            Client.phone,
            Client.email,
        )
        .where(Client.practice_id == 1)
        .order_by(Client.id)
        .limit(25)
    )
    return render_template("plain_clients.html", clients=list(rows))


@app.route("/clients/<int:client_id>")
def client(client_id):
    return str(client_id)
