"""A private Postfix on loopback for tests: SMTP in, every mail for `events.example` delivered
by LMTP to a port of our choosing (the `lmtp:` transport a real mail host would use)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.servers import _wait_for_port, free_port, unavailable

POSTFIX_BIN = os.environ.get("MAILBOT_TEST_POSTFIX", "/usr/sbin/postfix")
DOMAIN = "events.example"

_MAIN_CF = """\
# Written by tests/postfix_server.py: one throw-away Postfix per test.
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-mailbot-{smtp_port}
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.mailbot.test
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relay_domains = {domain}
transport_maps = texthash:{root}/etc/transport
default_transport = error:outbound mail disabled in test instance
smtpd_relay_restrictions = reject_unauth_destination
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
biff = no
"""

# every service unchained (column 5 "n"): the queue lives in a temp dir, not in a chroot
_MASTER_CF = """\
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """A Postfix instance in its own temp dir (`postfix -c`), relaying `events.example` by LMTP
    to 127.0.0.1:`lmtp_port`; needs root (it drops to the `postfix` user itself)."""

    def __init__(self, lmtp_port: int) -> None:
        self.host = "127.0.0.1"
        self.smtp_port = free_port()
        self.lmtp_port = lmtp_port
        # not under pytest's tmp_path: the postfix user must be able to walk to its files
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-postfix-"))
        os.chmod(self.root, 0o755)
        for sub in ("etc", "queue", "data"):
            (self.root / sub).mkdir(mode=0o755)
        shutil.chown(self.root / "data", "postfix")
        (self.root / "etc" / "main.cf").write_text(_MAIN_CF.format(
            root=self.root, smtp_port=self.smtp_port, domain=DOMAIN))
        (self.root / "etc" / "master.cf").write_text(_MASTER_CF.format(smtp_port=self.smtp_port))
        (self.root / "etc" / "transport").write_text(
            f"{DOMAIN}  lmtp:inet:127.0.0.1:{lmtp_port}\n")
        self._running = False

    @property
    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def _postfix(self, *args: str) -> None:
        proc = subprocess.run([POSTFIX_BIN, "-c", str(self.root / "etc"), *args],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}\n{self.log[-3000:]}")

    def start(self) -> None:
        self._postfix("check")  # creates the queue directories with their owners
        self._postfix("start")
        self._running = True
        _wait_for_port(self.host, self.smtp_port, 10.0, None, greeting=b"220")

    def stop(self) -> None:
        if self._running:
            self._running = False
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._postfix("stop")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def flush(self) -> None:
        """Ask the queue manager to retry deferred mail now (`postqueue -f`)."""
        subprocess.run(["postqueue", "-c", str(self.root / "etc"), "-f"],
                       capture_output=True, timeout=30, check=False)

    def wait_for_log(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in (log := self.log):
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix did not log {text!r} within {timeout} s:\n"
                                     f"{log[-4000:]}")
            time.sleep(0.05)
        return log


@contextlib.contextmanager
def running_postfix(lmtp_port: int) -> Iterator[Postfix]:
    if not os.access(POSTFIX_BIN, os.X_OK):
        unavailable(f"Postfix binary {POSTFIX_BIN} not found (apt-get install postfix)")
    if os.geteuid() != 0:
        unavailable("a private Postfix instance needs root (it drops to the postfix user)")
    server = Postfix(lmtp_port)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
