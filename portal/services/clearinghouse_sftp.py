"""SFTP to the clearinghouse: an authenticated session with the server's host key pinned on
first use, its file operations with plain-worded errors, and the connection test. The only
module importing paramiko. Uploads and downloads: clearinghouse_transfer.py.

- connect(conn) -> Session (a context manager); records the outcome on the connection row
  (last_ok_at, or last_error_code / last_error / last_error_at);
- check_connection(conn) -> CheckResult: the server's key and both folders' listings.

Every failure is a TransportError with a `code` (NOT_CONFIGURED, UNREACHABLE, TIMEOUT,
HOST_KEY_CHANGED, AUTH, SECRET, FOLDER, PERMISSION, DROPPED, REFUSED, PROTOCOL, and from
the transfers CONFLICT, BUSY, BAD_NAME, TOO_LARGE, CHANGED) and a message written for the
owner; none holds a secret.

Host keys: the first connection pins the server's key. A different key afterwards stops
every transfer before anything is sent, the login included, until the owner accepts the
new key (services.clearinghouse.accept_host_key); the key offered is kept for them to
compare with what the clearinghouse says.
"""

import dataclasses
import io
import logging
import posixpath
import socket
import stat
from contextlib import contextmanager

import paramiko
from flask import current_app

from portal import audit, secretbox
from portal.db import database
from portal.models.clearinghouse import AUTH_KEY
from portal.services import clearinghouse as ch

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20  # seconds, when the config has no CLEARINGHOUSE_TIMEOUT
LISTED = 50  # names shown per folder by the connection test
SETTINGS = "Settings → Clearinghouse"

(
    NOT_CONFIGURED,
    UNREACHABLE,
    TIMEOUT,
    HOST_KEY_CHANGED,
    AUTH,
    SECRET,
    FOLDER,
    PERMISSION,
    DROPPED,
    REFUSED,
    PROTOCOL,
    CONFLICT,
    BUSY,
    BAD_NAME,
    TOO_LARGE,
    CHANGED,
) = (
    "not_configured",
    "unreachable",
    "timeout",
    ch.HOST_KEY_CHANGED,
    "auth",
    "secret",
    "folder",
    "permission",
    "dropped",
    "refused",
    "protocol",
    "conflict",
    "busy",
    "bad_name",
    "too_large",
    "changed",
)


# Failures that may pass by themselves (a task queue retries these with backoff); the
# others need the owner (settings, a key to register or accept) or are final (a name
# already used for another file).
RETRYABLE = frozenset({UNREACHABLE, TIMEOUT, DROPPED, REFUSED, BUSY, CHANGED})
# Failures of one file, not of the connection (the server answered, took the login, listed).
ONE_FILE = frozenset({CONFLICT, BUSY, BAD_NAME, TOO_LARGE, CHANGED})


class TransportError(Exception):
    """A transfer that did not happen, with a code and a message for the owner."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def retryable(self):
        return self.code in RETRYABLE


@dataclasses.dataclass
class CheckResult:
    fingerprint: str
    pinned_now: bool
    upload_dir: str
    upload_names: list
    upload_count: int
    download_dir: str
    download_names: list
    download_count: int


def failing(conn):
    """True while the last connection failed (server, login, folders or key): nothing is
    sent or collected until one succeeds. A single file's trouble does not count."""
    return bool(
        conn is not None
        and conn.is_configured
        and conn.last_error_code
        and conn.last_error_code not in ONE_FILE
    )


def timeout_seconds():
    return float(current_app.config.get("CLEARINGHOUSE_TIMEOUT", DEFAULT_TIMEOUT))


# --- connecting -------------------------------------------------------------------------------


@contextmanager
def connect(conn, timeout=None):
    """An authenticated SFTP session to the practice's clearinghouse; records the outcome."""
    timeout = timeout or timeout_seconds()
    try:
        session = _open(conn, timeout)
    except TransportError as exc:
        _failed(conn, exc)
        raise
    try:
        yield session
    except TransportError as exc:
        _failed(conn, exc)
        raise
    else:
        ch.record_outcome(conn)
    finally:
        session.close()


def _failed(conn, exc):
    log.warning("clearinghouse of practice %s: %s (%s)", conn.practice_id, exc.message, exc.code)
    ch.record_outcome(conn, exc.code, exc.message)


def _open(conn, timeout):
    if not conn.is_configured:
        raise TransportError(
            NOT_CONFIGURED,
            "The clearinghouse connection is not set up yet: enter the host, the user and "
            f"a password or key under {SETTINGS}.",
        )
    if conn.host_key_changed:
        raise _key_changed(conn)
    secret = _secret(conn)
    where = f"{conn.host}:{conn.port}"
    transport = paramiko.Transport(_socket(conn, timeout, where))
    try:
        transport.banner_timeout = transport.handshake_timeout = timeout
        transport.auth_timeout = timeout
        if conn.host_key:
            _prefer_key_type(transport, conn.host_key.split()[0])
        key = _handshake(transport, timeout, where)
        line = f"{key.get_name()} {key.get_base64()}"
        pinned_now = False
        if not conn.host_key:
            pinned_now = ch.pin_host_key(conn, line, key.fingerprint)
        elif line != conn.host_key:
            ch.offer_host_key(conn, line, key.fingerprint)
            raise _key_changed(conn)
        _authenticate(transport, conn, secret, where)
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            sftp = None
            log.info("SFTP subsystem refused: %s", exc)
        if sftp is None:
            raise TransportError(
                PROTOCOL, f"{where} accepted the login but offers no SFTP to this user."
            )
        sftp.get_channel().settimeout(timeout)
    except BaseException:
        transport.close()
        raise
    return Session(conn, transport, sftp, pinned_now, timeout)


def _key_changed(conn):
    return TransportError(
        HOST_KEY_CHANGED,
        "The clearinghouse server's identity (its host key) has changed: it was "
        f"{conn.host_key_fingerprint}, it is now {conn.offered_host_key_fingerprint}. "
        "All transfers are stopped. Ask the clearinghouse whether they changed their server "
        f"key; if they did, accept the new key under {SETTINGS}.",
    )


def _secret(conn):
    is_key = conn.auth_method == AUTH_KEY
    try:
        return ch.open_private_key(conn) if is_key else ch.open_password(conn)
    except secretbox.SecretUnavailable as exc:
        todo = (
            "generate a new key and register its public half with the clearinghouse"
            if is_key
            else "enter the password again"
        )
        raise TransportError(
            SECRET,
            f"The stored {'private key' if is_key else 'password'} cannot be read ({exc}): "
            f"{todo} under {SETTINGS}.",
        ) from None


def _socket(conn, timeout, where):
    try:
        return socket.create_connection((conn.host, conn.port), timeout=timeout)
    except socket.gaierror:
        raise TransportError(
            UNREACHABLE,
            f"The server name “{conn.host}” was not found. Check the host name the "
            "clearinghouse gave you.",
        ) from None
    except ConnectionRefusedError:
        raise TransportError(
            UNREACHABLE,
            f"{where} refused the connection: nothing answers on port {conn.port}. "
            "Check the host and the port.",
        ) from None
    except TimeoutError:
        raise TransportError(
            TIMEOUT,
            f"No answer from {where} within {timeout:g} seconds. Check the host and port, "
            "and that this server's firewall lets it reach the clearinghouse.",
        ) from None
    except OSError as exc:
        raise TransportError(
            UNREACHABLE,
            f"{where} cannot be reached ({exc.strerror or exc}). Check the host and the network.",
        ) from None


def _prefer_key_type(transport, key_type):
    """Ask for the pinned key's type first, so a server holding several keys shows that one."""
    wanted = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}.get(key_type, (key_type,))
    options = transport.get_security_options()
    current = list(options.key_types)
    first = [k for k in wanted if k in current]
    options.key_types = first + [k for k in current if k not in first]


def _handshake(transport, timeout, where):
    """Negotiate the session; return the server's host key (before any login is sent)."""
    try:
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        text = str(exc)
        if isinstance(exc, TimeoutError) or "banner" in text or "No existing session" in text:
            raise TransportError(
                TIMEOUT,
                f"{where} accepted the connection but did not answer as an SFTP server "
                f"within {timeout:g} seconds. Check that this is the clearinghouse's SFTP "
                "host and port.",
            ) from None
        raise TransportError(
            PROTOCOL, f"{where} did not answer as an SFTP server ({text}). Check the host and port."
        ) from None


def _authenticate(transport, conn, secret, where):
    is_key = conn.auth_method == AUTH_KEY
    try:
        if is_key:
            transport.auth_publickey(
                conn.username, paramiko.Ed25519Key.from_private_key(io.StringIO(secret))
            )
        else:
            transport.auth_password(conn.username, secret)
    except paramiko.BadAuthenticationType as exc:
        allowed = ", ".join(exc.allowed_types) or "nothing the portal offers"
        raise TransportError(
            AUTH,
            f"{where} does not take a {'key' if is_key else 'password'} for this user "
            f"(it takes: {allowed}). Choose the other way to log in under {SETTINGS}.",
        ) from None
    except paramiko.AuthenticationException:
        check = (
            "that the public key shown under " + SETTINGS + " is registered with them"
            if is_key
            else "the password"
        )
        raise TransportError(
            AUTH,
            f"The clearinghouse's server refused the user “{conn.username}” with this "
            f"{'key' if is_key else 'password'}. Check the user name and {check}.",
        ) from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if "timeout" in str(exc).lower() or isinstance(exc, TimeoutError):
            raise TransportError(
                TIMEOUT, f"{where} did not answer the login within the time allowed."
            ) from None
        raise TransportError(DROPPED, f"{where} closed the connection during the login.") from None
    if not transport.is_authenticated():
        raise TransportError(
            AUTH,
            f"{where} asks for a second login step the portal cannot answer. Ask the "
            "clearinghouse for an SFTP login with a password or a key alone.",
        )


class Session:
    """An open SFTP session: file operations that raise TransportError with plain messages."""

    def __init__(self, conn, transport, sftp, pinned_now, timeout):
        self.conn, self.transport, self.sftp = conn, transport, sftp
        self.pinned_now, self.timeout = pinned_now, timeout
        self.fingerprint = conn.host_key_fingerprint

    def close(self):
        # After a dropped connection, closing the SFTP channel writes to a dead socket:
        # what matters then is the error that ended the session, not this one.
        try:
            self.sftp.close()
        except (EOFError, OSError, paramiko.SSHException):
            pass
        self.transport.close()

    @staticmethod
    def path(folder, name):
        return posixpath.join(folder, name) if folder else name

    def _call(self, what, fn, *args, missing=None):
        try:
            return fn(*args)
        except FileNotFoundError:
            raise TransportError(
                FOLDER, missing or f"Not found on the server while {what}."
            ) from None
        except PermissionError:
            raise TransportError(
                PERMISSION,
                f"The server does not allow {what}. Ask the clearinghouse to check this "
                "user's rights.",
            ) from None
        except TimeoutError:
            raise TransportError(
                TIMEOUT, f"The server stopped answering for {self.timeout:g} seconds while {what}."
            ) from None
        except (EOFError, paramiko.SSHException, OSError) as exc:
            if not self.transport.is_active() or isinstance(exc, EOFError | paramiko.SSHException):
                raise TransportError(
                    DROPPED,
                    f"The connection was lost while {what}. Nothing is half-done: it is "
                    "safe to try again.",
                ) from None
            raise TransportError(REFUSED, f"The server refused {what} ({exc}).") from None

    def stat(self, path):
        """The file's attributes, or None when there is no such file."""
        try:
            return self._call(f"looking for {path}", self.sftp.stat, path)
        except TransportError as exc:
            if exc.code == FOLDER:
                return None
            raise

    def listdir(self, folder, label):
        shown = folder or "(the login folder)"
        missing = (
            f"The {label} folder “{shown}” does not exist on the clearinghouse's server. "
            f"Check the folder names under {SETTINGS}."
        )
        return self._call(
            f"listing the {label} folder {shown}",
            self.sftp.listdir_attr,
            folder or ".",
            missing=missing,
        )

    def read(self, path):
        buf = io.BytesIO()
        self._call(f"downloading {path}", self.sftp.getfo, path, buf)
        return buf.getvalue()

    def put(self, data, path):
        missing = (
            f"The upload folder “{self.conn.upload_dir}” does not exist on the clearinghouse's "
            f"server. Check the folder names under {SETTINGS}."
        )
        self._call(
            f"uploading {path}",
            self.sftp.putfo,
            io.BytesIO(data),
            path,
            len(data),
            None,
            True,
            missing=missing,
        )

    def rename(self, old, new):
        self._call(f"renaming {old} to {new}", self.sftp.rename, old, new)

    def remove(self, path):
        self._call(f"removing {path}", self.sftp.remove, path)


@contextmanager
def reuse_or_connect(conn, session=None, timeout=None):
    """`session` when given (several operations on one connection), else a new one."""
    if session is not None:
        yield session
    else:
        with connect(conn, timeout) as s:
            yield s


# --- testing -------------------------------------------------------------------------------


def check_connection(conn, timeout=None):
    """Connect (pinning the host key on first use) and list both folders."""
    try:
        with connect(conn, timeout) as s:
            up = _names(s.listdir(conn.upload_dir, "upload"))
            down = _names(s.listdir(conn.download_dir, "download"))
    except TransportError as exc:
        _audit(conn, "clearinghouse.test", exc.code)
        raise
    _audit(conn, "clearinghouse.test", "ok")
    return CheckResult(
        fingerprint=s.fingerprint,
        pinned_now=s.pinned_now,
        upload_dir=conn.upload_dir,
        upload_names=up[:LISTED],
        upload_count=len(up),
        download_dir=conn.download_dir,
        download_names=down[:LISTED],
        download_count=len(down),
    )


def _names(entries):
    return sorted(
        e.filename + ("/" if stat.S_ISDIR(e.st_mode or 0) else "")
        for e in entries
        if e.filename not in (".", "..")
    )


def _audit(conn, action, detail):
    with database.atomic("IMMEDIATE"):
        audit.record(
            action,
            obj=conn,
            object_type=ch.CONN,
            detail=detail,
            practice_id=conn.practice_id,
        )
