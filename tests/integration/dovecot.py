"""Run a private, unprivileged Dovecot IMAP server for the tests (no systemd, no root needed).

`dovecot -F -c CONF` from a stand-alone config in a temp dir: loopback only, no TLS, plaintext
auth, one passwd-file user, maildir, special-use Sent/Drafts/Trash/Junk folders.
Traps handled here: `first_valid_uid = 1` (else login "succeeds" and the next command aborts),
the temp dir must be `chmod 755`, and the process must be waited for before a port is reused.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "Dovecot is required for the IMAP integration tests but `dovecot` was not found.\n"
    "Install it with:  sudo apt-get install -y dovecot-imapd\n"
    "(the system service is not needed: the tests start their own unprivileged instance;\n"
    " stop it with `sudo service dovecot stop` if the package started one)."
)

CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_plugins =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
  imap_idle_notify_interval = 1 secs
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
}}
"""


def free_port() -> int:
    """Return a TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DovecotServer:
    """One running Dovecot instance and the credentials of its single user."""

    base: Path
    port: int
    username: str
    password: str
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"

    def log(self) -> str:
        """Return Dovecot's log so far (for failure messages)."""
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop Dovecot and wait for the process (and its port) to go away."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _identity() -> tuple[str, str, int, int]:
    """Return (user, group, uid, gid) the mail processes run as (never uid 0)."""
    if os.getuid() != 0:
        uid, gid = os.getuid(), os.getgid()
        return pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name, uid, gid
    for name in ("dovecot", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid
    raise RuntimeError("running as root but neither a 'dovecot' nor a 'nobody' user exists")


def start_dovecot(
    base: Path, *, username: str = "agency", password: str = "s3cret-test", spare_users: int = 300
) -> DovecotServer:
    """Start Dovecot in `base` on a free loopback port and wait until it answers IMAP.

    Besides `username`, users `user1`…`user{spare_users}` (password `pw-userN`) exist so each
    test can take a fresh mailbox: passwd-file is not reliably re-read when appended to.
    """
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    user, group, uid, gid = _identity()
    base.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state", "home"):
        (base / sub).mkdir(exist_ok=True)
    for path in (base, base / "run", base / "state", base / "home"):
        path.chmod(0o755)
    os.chown(base / "home", uid, gid)  # Dovecot creates each user's home on first login
    users = [f"{username}:{{PLAIN}}{password}::::::"]
    users += [f"user{n}:{{PLAIN}}pw-user{n}::::::" for n in range(1, spare_users + 1)]
    (base / "passwd").write_text("\n".join(users) + "\n")
    port = free_port()
    conf = base / "dovecot.conf"
    conf.write_text(CONF.format(base=base, port=port, user=user, group=group))
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = DovecotServer(base=base, port=port, username=username, password=password, process=proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"dovecot exited with {proc.returncode}:\n{out}\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(64).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"dovecot did not answer on port {port} within 15 s:\n{server.log()}")
