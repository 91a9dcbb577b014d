"""`mailbot export SLUG --format csv|xlsx -o FILE`: the participant list for spreadsheets."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from mailbot.commands.registrations import event_and_rows
from mailbot.errors import UserError
from mailbot.reports import export


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("-o", "--output", required=True)
    parser.set_defaults(func=cmd_export)


def _write_atomically(path: Path, data: bytes) -> None:
    """A half-written list must never replace a good one (the coordinator may have it open)."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise UserError(f"cannot write {path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".mailbot-export-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


def cmd_export(args: argparse.Namespace) -> int:
    s, ev, rows, _ = event_and_rows(args)
    lang = export.lang_of(ev)
    data = (export.to_xlsx(rows, lang, s.tz, ev.title) if args.format == "xlsx"
            else export.to_csv(rows, lang, s.tz))
    out = Path(args.output)
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name, e.g. -o {args.slug}.{args.format}")
    _write_atomically(out, data)
    print(f"{len(rows)} row(s) written to {out}")
    return 0
