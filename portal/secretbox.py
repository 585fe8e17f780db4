"""Secrets the portal keeps but never shows again (the clearinghouse's SFTP password and the
private key the portal generated for it), and the SSH keys it generates. The only module
importing `cryptography`.

Sealed with AES-256-GCM under a key that lives outside the database, in the instance
folder (`instance/clearinghouse.key`, 0600, created on first use): a copy of the database
(a backup, a stolen disk image of the data file alone) holds only ciphertext. Each sealed
value is bound to its place (`context`, e.g. "clearinghouse_connection:3:password"), so a
value copied into another practice's row or column does not open there.

Losing the key file loses the sealed secrets, nothing else: the owner enters the password
again or generates a new key pair (the transport says so in plain words).
"""

import base64
import logging
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_FILE = "clearinghouse.key"
PREFIX = "v1."  # format version: "v1." + base64url(12-byte nonce + ciphertext and tag)
_keys = {}  # key file path -> key bytes (read once per process)


class SecretUnavailable(Exception):
    """A sealed value cannot be opened: the key file is missing or was replaced, or the
    value was changed or moved."""


def key_path(instance_path):
    return os.path.join(instance_path, KEY_FILE)


def _load_key(instance_path, create):
    path = key_path(instance_path)
    key = _keys.get(path)
    if key is not None:
        return key
    if not os.path.exists(path):
        if not create:
            raise SecretUnavailable(f"the key file {KEY_FILE} is missing from the instance folder")
        _create_key_file(path)
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o): chmod 600 it", path, mode)
    with open(path, "rb") as fh:
        raw = fh.read().strip()
    try:
        key = base64.urlsafe_b64decode(raw)
    except ValueError as exc:
        raise SecretUnavailable(f"the key file {KEY_FILE} is damaged") from exc
    if len(key) != 32:
        raise SecretUnavailable(f"the key file {KEY_FILE} is damaged")
    _keys[path] = key
    return key


def _create_key_file(path):
    """Write a complete key file aside and link it into place: atomic, and when several
    workers race on first use, one wins and every one reads the winner's key."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def seal(instance_path, plaintext, context):
    """`plaintext` (str or bytes) sealed for `context`: a short ASCII string to store."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode()
    nonce = os.urandom(12)
    sealed = AESGCM(_load_key(instance_path, create=True)).encrypt(
        nonce, plaintext, context.encode()
    )
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(instance_path, token, context):
    """The bytes sealed in `token` for `context`; SecretUnavailable when they cannot be had."""
    if not token or not token.startswith(PREFIX):
        raise SecretUnavailable("nothing is stored")
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :].encode("ascii"))
    except ValueError as exc:
        raise SecretUnavailable("the stored value is damaged") from exc
    if len(raw) < 12 + 16:  # a nonce and a tag at the least
        raise SecretUnavailable("the stored value is damaged")
    key = _load_key(instance_path, create=False)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode())
    except InvalidTag as exc:
        raise SecretUnavailable(
            f"the stored value does not open with this {KEY_FILE} (was the key file replaced?)"
        ) from exc


def forget_keys():
    """Drop the keys read so far (tests that replace a key file)."""
    _keys.clear()


# --- SSH keys ------------------------------------------------------------------------------


def new_ssh_key(comment):
    """A new ed25519 key pair: (private key in OpenSSH PEM format, public key as one
    OpenSSH line "ssh-ed25519 AAAA... comment")."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, f"{public.decode('ascii')} {comment}".strip()
