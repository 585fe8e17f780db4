"""The demo's pretend clearinghouse, over SFTP: `make demo` starts it beside the portal
(scripts/serve.sh). It listens on 127.0.0.1 (port PORTAL_DEMO_SFTP_PORT), lets in the demo
practice's user (portal/demo/claims_money.py saved the same user and password in the
practice's clearinghouse settings), and every two seconds answers the 837P files the
portal uploaded with a 999, a 277CA (one claim rejected) and an 835 (the others paid):
portal/demo/fake_clearinghouse.py. Its folders are under instance/demo-clearinghouse/.

    python scripts/demo_clearinghouse.py [--port N] [--root FOLDER]

Needs asyncssh (the `demo` extra). Not for real use: it exists to show the round trip.
"""

import argparse
import asyncio
import functools
import os
import sys

import asyncssh

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from portal import create_app  # noqa: E402
from portal.demo import claims_money, fake_clearinghouse  # noqa: E402


class DemoServer(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return (username, password) == (
            claims_money.DEMO_SFTP_USER,
            claims_money.DEMO_SFTP_PASSWORD,
        )


class Jail(asyncssh.SFTPServer):
    def __init__(self, chan, root):
        super().__init__(chan, chroot=root.encode())


def host_key(root):
    """The server's key, made once and kept: the portal pins it on its first connection."""
    path = os.path.join(root, "host_key")
    if not os.path.exists(path):
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(path)
        os.chmod(path, 0o600)
    return path


async def serve(root, port, interval=2.0):
    for folder in ("inbound", "outbound"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    await asyncssh.listen(
        "127.0.0.1",
        port,
        server_host_keys=[host_key(root)],
        server_factory=DemoServer,
        sftp_factory=functools.partial(Jail, root=root),
        allow_scp=False,
    )
    print(f"Demo clearinghouse on sftp://127.0.0.1:{port} ({root})", flush=True)
    while True:
        for name, written in fake_clearinghouse.answer_folder(root):
            print(f"demo clearinghouse answered {name}: {', '.join(written)}", flush=True)
        await asyncio.sleep(interval)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=claims_money.sftp_port())
    parser.add_argument("--root", default=None, help="default: instance/demo-clearinghouse")
    args = parser.parse_args()
    root = args.root or os.path.join(create_app().instance_path, "demo-clearinghouse")
    try:
        asyncio.run(serve(os.path.abspath(root), args.port))
    except OSError as exc:
        print(f"The demo clearinghouse could not start on port {args.port}: {exc}", flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
