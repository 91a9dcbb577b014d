"""The Maildir mailbox (stdlib `mailbox.Maildir`): outcome folders are Maildir++ subfolders."""

from __future__ import annotations

import email.parser
import email.policy
import logging
import mailbox
import os
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from mailbot.config import parse_server_url
from mailbot.errors import MailboxError
from mailbot.mailbox.base import RawMessage
from mailbot.types import Outcome

log = logging.getLogger(__name__)

_SUBDIRS = ("new", "cur")


def _norm_id(value: str) -> str:
    return value.strip().strip("<>").strip()


def _key(filename: str) -> str:
    """The message key: the file name without the ":2,FLAGS" info part."""
    return filename.split(mailbox.Maildir.colon, 1)[0]


def _listing(directory: Path) -> list[Path]:
    try:
        return [directory / name for name in os.listdir(directory) if not name.startswith(".")]
    except FileNotFoundError:
        return []


class MaildirMailbox:
    """A local Maildir as a Mailbox: every message in new/ and cur/ of the inbox counts as new
    (flags are ignored); moves are renames into the outcome folder's cur/."""

    def __init__(self, url: str, folders: dict[Outcome, str] | None = None, *,
                 poll_interval: float = 0.2, create: bool = True) -> None:
        """`create=False` leaves the file system alone until a message is moved (for probe)."""
        parsed = parse_server_url(url, {}, "mailbox URL", ("maildir",))
        self.path = Path(parsed.path).expanduser().absolute()
        self.name = f"maildir://{self.path}"
        self.folders = dict(folders or {o: o.value for o in Outcome})
        self.poll_interval = poll_interval
        self._seen: set[str] = set()  # keys fetch_new handed out (for wait)
        self._opened: mailbox.Maildir | None = self._open() if create else None

    def _open(self) -> mailbox.Maildir:
        try:
            box = mailbox.Maildir(str(self.path), create=True)
            for sub in ("tmp", *_SUBDIRS):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailboxError(f"{self.name}: cannot open the Maildir ({exc.strerror})") from None
        return box

    @property
    def _inbox(self) -> mailbox.Maildir:
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def __repr__(self) -> str:
        return f"MaildirMailbox({self.name!r})"

    # -- listing -------------------------------------------------------------------------

    @staticmethod
    def _entries(root: Path) -> list[tuple[int, str, Path]]:
        """(mtime_ns, key, path) of every message in new/ and cur/, oldest first."""
        out = []
        for sub in _SUBDIRS:
            try:
                with os.scandir(root / sub) as it:
                    for entry in it:
                        if entry.name.startswith(".") or not entry.is_file():
                            continue
                        try:
                            mtime = entry.stat().st_mtime_ns
                        except FileNotFoundError:
                            continue  # moved away while we were listing
                        out.append((mtime, _key(entry.name), Path(entry.path)))
            except FileNotFoundError:
                continue
        out.sort()
        return out

    def _find(self, root: Path, key: str) -> Path | None:
        for sub in _SUBDIRS:
            directory = root / sub
            plain = directory / key
            if plain.exists():
                return plain
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                continue
            for name in names:
                if _key(name) == key:
                    return directory / name
        return None

    def fetch_new(self, limit: int = 100, max_bytes: int | None = None,
                  skip: Collection[str] = ()) -> Iterator[RawMessage]:
        try:
            entries = self._entries(self.path)
        except OSError as exc:
            raise MailboxError(f"{self.name}: cannot list the inbox ({exc.strerror})") from None
        self._seen &= {key for _mtime, key, _path in entries}
        total = 0
        for _mtime, key, path in [e for e in entries if e[1] not in skip][:limit]:
            if max_bytes is not None and total >= max_bytes:
                return
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # moved by someone else meanwhile
            except OSError as exc:
                raise MailboxError(f"{self.name}: cannot read {path.name} ({exc.strerror})"
                                   ) from None
            self._seen.add(key)
            total += len(data)
            yield RawMessage(self.name, 1, key, data)

    def backlog(self) -> int:
        return len(self._entries(self.path))

    # -- moving --------------------------------------------------------------------------

    def _folder(self, outcome: Outcome) -> Path:
        """The Maildir++ subfolder for `outcome` ("a/b" becomes ".a.b"), created when missing."""
        name = self.folders[outcome].strip("/").replace("/", ".")
        if name.upper() == "INBOX":
            return self.path
        try:
            if name not in self._inbox.list_folders():
                self._inbox.add_folder(name)
                log.info("%s: created folder .%s", self.name, name)
            root = self.path / ("." + name)
            for sub in ("tmp", *_SUBDIRS):
                (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailboxError(f"{self.name}: cannot create folder .{name} ({exc.strerror})"
                               ) from None
        return root

    def _move_file(self, source: Path, target_root: Path) -> None:
        name = source.name
        if source.parent.name == "new" and mailbox.Maildir.colon not in name:
            name += mailbox.Maildir.colon + "2,"  # files in cur/ carry an info part
        try:
            os.rename(source, target_root / "cur" / name)
        except FileNotFoundError:
            if source.exists():
                raise MailboxError(f"{self.name}: cannot move {source.name} into"
                                   f" {target_root}") from None
            # gone already (moved between commit and this call): nothing to do
        except OSError as exc:
            raise MailboxError(f"{self.name}: cannot move {source.name} ({exc.strerror})"
                               ) from None

    def move(self, msg: RawMessage, outcome: Outcome) -> None:
        target = self._folder(outcome)
        source = self._find(self.path, msg.uid)
        if source is None or target == self.path:
            return
        self._move_file(source, target)

    def move_many(self, msgs: Sequence[RawMessage], outcome: Outcome) -> None:
        target = self._folder(outcome)
        if not msgs or target == self.path:
            return
        # One listing for the whole batch instead of one per message.
        where = {_key(path.name): path for sub in _SUBDIRS for path in _listing(self.path / sub)}
        for msg in msgs:
            source = where.get(msg.uid)
            if source is not None:
                self._move_file(source, target)

    def move_from(self, outcome: Outcome, message_id: str, to: Outcome) -> bool:
        mid = _norm_id(message_id)
        source_root = self._folder(outcome)
        target = self._folder(to)
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        found = False
        for *_, path in self._entries(source_root):
            try:
                with path.open("rb") as fh:
                    value = parser.parse(fh).get("Message-ID")
            except FileNotFoundError:
                continue
            if value and _norm_id(str(value)) == mid:
                found = True
                if target != source_root:
                    self._move_file(path, target)
        return found

    # -- waiting -------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, ...]:
        stamps = []
        for sub in _SUBDIRS:
            try:
                stamps.append((self.path / sub).stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(0)
        return tuple(stamps)

    def _has_unseen(self) -> bool:
        return any(key not in self._seen for _mtime, key, _path in self._entries(self.path))

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + max(0.0, timeout)
        stamp = self._stamp()  # before the check, so a delivery right after it changes the stamp
        if self._has_unseen():
            return True
        polls = 0
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, self.poll_interval))
            polls += 1
            now = self._stamp()
            # Our own moves change the mtime too, so only keys nobody has fetched count; a
            # full look now and then covers two changes within one timestamp tick.
            if now != stamp or polls % 10 == 0:
                stamp = now
                if self._has_unseen():
                    return True
        return False

    def probe(self) -> str:
        """Is the folder there, and a Maildir? Nothing is created or moved."""
        if not self.path.is_dir():
            raise MailboxError(f"Maildir {self.path} does not exist")
        if not (self.path / "new").is_dir() and not (self.path / "cur").is_dir():
            raise MailboxError(f"{self.path} is not a Maildir (no new/ or cur/ inside)")
        return f"Maildir {self.path}"

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
