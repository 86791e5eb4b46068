"""State shared by every connection of one server: users, faults, Maildir, sessions, recording."""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smtpscope.record import Entry, Recorder, Redactor, Transcript, make_header
from smtpscope.server.config import ServerConfig
from smtpscope.server.faults import FaultInjector
from smtpscope.server.observe import MemoryBudget

EntryCallback = Callable[[int, Entry], None]
MessageCallback = Callable[["StoredMessage"], None]


@dataclass(frozen=True)
class StoredMessage:
    """A message the server accepted and wrote to the Maildir."""

    session_id: int
    path: Path
    mail_from: str
    rcpt_tos: tuple[str, ...]
    size: int  # as the client sent it, without the trace headers serve puts above it
    queue_id: str = ""


@dataclass
class SessionRecord:
    """One client connection: its id, transcript and (optional) recording."""

    session_id: int
    peer: str
    transcript: Transcript
    recorder: Recorder | None = None
    messages: int = 0
    closed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class MaildirWriter:
    """Deliver the client's exact bytes into a Maildir (tmp/ then an atomic rename into new/),
    below the trace headers (trace.py).

    ``mailbox.Maildir`` reads the result back, but its ``add`` rewrites line endings to
    ``os.linesep`` (and it only creates a folder that does not exist yet); a debugging server
    must keep the bytes it was sent.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")

    @staticmethod
    def queue_id() -> str:
        """A new message's id: upper-case hex as Postfix's short queue ids are (an RFC 5321
        Atom, as the ``id`` of a Received line must be), random rather than made of a time
        and an inode."""
        return secrets.token_hex(6).upper()

    def deliver(self, content: bytes, queue_id: str, trace: bytes = b"") -> Path:
        """Write ``trace`` then ``content``; the file's name holds ``queue_id`` (the random
        part of a Maildir name), so the id the client was told finds the file."""
        now = time.time()
        # The microseconds zero-padded: names sort as the messages arrived (`ls new/`).
        name = (
            f"{int(now)}.M{int(now * 1e6) % 1_000_000:06d}P{os.getpid()}"
            f"Q{next(self._counter)}R{queue_id}.{self._host}"
        )
        tmp = self.path / "tmp" / name
        # Mail is private like the recordings: 0600 from the moment the file exists.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(trace)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.path / "new" / name
        os.rename(tmp, final)
        return final


class ServerContext:
    """Everything connections share; callbacks run on the server's event loop thread."""

    def __init__(
        self,
        config: ServerConfig,
        maildir: Path,
        record_dir: Path | None,
        *,
        on_entry: EntryCallback | None = None,
        on_message: MessageCallback | None = None,
    ) -> None:
        self.config = config
        self.users = dict(config.users)
        self.injector = FaultInjector(config.faults, random.Random(config.fault_seed))
        self.maildir = MaildirWriter(maildir)
        self.record_dir = record_dir
        self.on_entry = on_entry
        self.on_message = on_message
        self.sessions: dict[int, SessionRecord] = {}
        self.connections: set[Any] = set()  # live ScopeSMTP protocols, closed on stop
        self._ids = itertools.count(1)
        self._salts: dict[str, bytes] = {}
        self.messages: list[StoredMessage] = []
        self.memory = MemoryBudget()  # what all transcripts together may keep (observe.py)
        self.auth_failures: collections.deque[float] = collections.deque(maxlen=4096)

    def scram_salt(self, user: str) -> bytes:
        """A random salt per user, fixed for the server's lifetime (unknown users get one too)."""
        return self._salts.setdefault(user, secrets.token_bytes(16))

    def open_session(self, peer: str, listen: str, tls_mode: str) -> SessionRecord:
        """Start a transcript (and recording) for a new connection."""
        session_id = next(self._ids)
        transcript = Transcript(redactor=Redactor())
        record = SessionRecord(session_id, peer, transcript)
        if self.config.record and self.record_dir is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            port = listen.rsplit(":", 1)[-1]
            path = self.record_dir / f"server-{stamp}-{port}-{os.getpid()}-{session_id:04d}.jsonl"
            header = make_header(
                peer, role="server", protocol="smtp", listen=listen, tls=tls_mode,
                session=session_id
            )
            try:
                record.recorder = Recorder(path, header)
            except OSError as exc:
                record.extra["record_error"] = f"cannot record to {path}: {exc.strerror or exc}"
        if record.recorder is not None:
            transcript.subscribe(self._recording_listener(record))
        if self.on_entry is not None:
            transcript.subscribe(self._live_listener(session_id))
        self.sessions[session_id] = record
        if "record_error" in record.extra:
            transcript.note(record.extra["record_error"], kind="error")
        return record

    def _recording_listener(self, record: SessionRecord) -> Callable[[Entry], None]:
        def write(entry: Entry) -> None:
            if record.recorder is None:
                return
            try:
                record.recorder(entry)
            except OSError:
                # A full disk must not take the SMTP session down; stop recording this one.
                record.recorder.close()
                record.recorder = None

        return write

    def _live_listener(self, session_id: int) -> Callable[[Entry], None]:
        def tell(entry: Entry) -> None:
            if self.on_entry is None:
                return
            # A broken view must not break the SMTP session it is showing.
            with contextlib.suppress(Exception):
                self.on_entry(session_id, entry)

        return tell

    def close_session(self, record: SessionRecord, outcome: str) -> None:
        """Write the footer and forget the session."""
        if record.closed:
            return
        record.closed = True
        if record.recorder is not None:
            try:
                record.recorder.write_footer(outcome=outcome, messages=record.messages)
            finally:
                record.recorder.close()
        self.sessions.pop(record.session_id, None)

    def stored(self, message: StoredMessage) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            with contextlib.suppress(Exception):  # same reason as the entry callback
                self.on_message(message)
