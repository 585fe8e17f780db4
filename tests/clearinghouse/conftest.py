"""A real SFTP server on 127.0.0.1 playing the clearinghouse: asyncssh's server in its own
thread and event loop, jailed in a temporary folder, checking a password or public keys,
with an ed25519 host key. It can drop the connection at chosen moments (in the middle of
an upload, right after a rename) and counts what clients did, so tests can tell what was
sent and what was not.

Fixtures:
- `sftp_server`: the running server (root folder with inbound/ and outbound/);
- `conn`: practice a's clearinghouse connection pointing at it, by password;
- `side`: the `world` fixture's practice a (owner, staff, clients), for page tests.
"""

import asyncio
import functools
import os
import threading
from collections import Counter

import asyncssh
import pytest

from portal.services import clearinghouse as ch
from portal.services.claims import receivers

USER = "portal-practice"
PASSWORD = "Sftp-Pass-7f3a9c-not-in-any-page"
TIMEOUT = 5  # seconds: the tests' clearinghouse answers at once


class FakeClearinghouse:
    """The server and its switches. Every counter is per client operation."""

    def __init__(self, root):
        self.root = str(root)
        for folder in ("inbound", "outbound"):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        self.username, self.password = USER, PASSWORD
        self.authorized_keys = []  # asyncssh public keys
        self.counts = Counter()  # "connection", "auth_attempt", "open_write", "open_read", ...
        self.drop_after_writes = None  # abort the connection after this many write requests
        self.drop_after_rename = False  # rename, then abort before replying
        self.take_after_rename = False  # ... and "pick up" the file, as a clearinghouse does
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.listener = None
        self.port = None
        self.host_key = None

    # --- running -----------------------------------------------------------------------

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self, host_key=None, port=0):
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")

        async def listen():
            return await asyncssh.listen(
                "127.0.0.1",
                port,
                server_host_keys=[self.host_key],
                server_factory=functools.partial(_Server, self),
                sftp_factory=functools.partial(_Jail, self),
                allow_scp=False,
            )

        self.listener = self._run(listen())
        self.port = self.listener.sockets[0].getsockname()[1]
        return self

    def restart(self, host_key=None):
        """Stop and listen again on the same port (a new host key: a 'changed' server)."""
        self._close()
        return self.start(host_key=host_key, port=self.port)

    def _close(self):
        if self.listener is not None:

            async def close(listener):
                listener.close()
                await listener.wait_closed()

            self._run(close(self.listener))
            self.listener = None

    def stop(self):
        self._close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def fingerprint(self):
        return self.host_key.get_fingerprint("sha256")

    # --- files -------------------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def files(self, folder):
        return sorted(os.listdir(self.path(folder)))

    def read(self, folder, name):
        with open(self.path(folder, name), "rb") as fh:
            return fh.read()

    def put(self, folder, name, data, mtime=None):
        path = self.path(folder, name)
        with open(path, "wb") as fh:
            fh.write(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path


class _Server(asyncssh.SSHServer):
    def __init__(self, fake):
        self.fake = fake

    def connection_made(self, conn):
        self.fake.counts["connection"] += 1

    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return self.fake.password is not None

    def validate_password(self, username, password):
        self.fake.counts["auth_attempt"] += 1
        return username == self.fake.username and password == self.fake.password

    def public_key_auth_supported(self):
        return True

    def validate_public_key(self, username, key):
        self.fake.counts["auth_attempt"] += 1
        return username == self.fake.username and any(
            key.public_data == k.public_data for k in self.fake.authorized_keys
        )


class _Jail(asyncssh.SFTPServer):
    def __init__(self, fake, chan):
        self.fake = fake
        self.writes = 0
        super().__init__(chan, chroot=fake.root.encode())

    def open(self, path, pflags, attrs):
        write = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT))
        self.fake.counts["open_write" if write else "open_read"] += 1
        return super().open(path, pflags, attrs)

    def write(self, file_obj, offset, data):
        self.writes += 1
        limit = self.fake.drop_after_writes
        if limit is not None and self.writes > limit:
            self.fake.drop_after_writes = None  # only the first connection is dropped
            self.fake.counts["dropped"] += 1
            self.connection.abort()
            return 0
        return super().write(file_obj, offset, data)

    def rename(self, oldpath, newpath):
        self.fake.counts["rename"] += 1
        super().rename(oldpath, newpath)
        if self.fake.drop_after_rename:
            self.fake.drop_after_rename = False
            self.fake.counts["dropped"] += 1
            if self.fake.take_after_rename:
                os.remove(self.map_path(newpath))
            self.connection.abort()


@pytest.fixture(autouse=True)
def transport_only():
    """These tests are the transport's alone: the claims code's receivers (999, 277CA,
    835) are disconnected, so received files stay "new" unless a test connects its own.
    tests/claims/ runs the whole round trip."""
    with receivers.disconnected():
        yield


@pytest.fixture
def sftp_server(tmp_path):
    server = FakeClearinghouse(tmp_path / "sftp-root").start()
    yield server
    server.stop()


def settings(server, **overrides):
    values = dict(
        host="127.0.0.1",
        port=server.port,
        username=server.username,
        auth_method="password",
        upload_dir="inbound",
        download_dir="outbound",
        isa_sender_qualifier="ZZ",
        isa_sender_id="SUBMITTER01",
        isa_receiver_qualifier="ZZ",
        isa_receiver_id="CLEARHOUSE",
        gs_sender_code="SUBMITTER01",
        gs_receiver_code="CLEARHOUSE",
        submitter_id="SUBMITTER01",
        receiver_name="TEST CLEARINGHOUSE",
        receiver_id="CLEARHOUSE",
        usage_indicator="T",
    )
    values.update(overrides)
    return values


@pytest.fixture
def side(world):
    return world.a


@pytest.fixture
def conn(app, world, sftp_server):
    """Practice a's connection to the test server, by password; an app context is active."""
    app.config["CLEARINGHOUSE_TIMEOUT"] = TIMEOUT
    with app.test_request_context():
        connection, _ = ch.save_settings(
            world.a.practice.id, settings(sftp_server), password=sftp_server.password
        )
        yield connection
