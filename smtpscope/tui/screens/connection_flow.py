"""The session screen's connections: each one opened in a worker, recorded to files of its own,
and shown from its own session only (F5 starts from nothing: no TLS, no capabilities)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from smtpscope.session import Session, SessionError
from smtpscope.tls_hints import GREETING_HINT_AFTER, looks_like_tls
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.status import StatusBar, tls_label
from smtpscope.tui.widgets.transcript import TranscriptView

if TYPE_CHECKING:
    from smtpscope.record import Entry
    from smtpscope.session import SessionOptions
    from smtpscope.transport.tls import TLSInfo


class ConnectionFlow:
    """Mixed into SessionScreen, which provides the widgets and the steps after the banner."""

    session: Session | None
    options: SessionOptions
    record_to: str | None
    record_secrets: bool
    hint: str | None
    queue_hold: bool
    #: The automatic recording of the current connection (in the recordings directory).
    recording_path: Path | None = None
    #: The ``--record`` copy of the current connection: FILE first, then FILE-2, FILE-3...
    record_copy: Path | None = None
    _caps_before: Any
    _caps_stage: str
    _asked_about: TLSInfo | None

    if TYPE_CHECKING:  # provided by the screen and its other parts
        def query_one(self, *args: Any, **kwargs: Any) -> Any: ...
        def query(self, *args: Any, **kwargs: Any) -> Any: ...
        def set_timer(self, *args: Any, **kwargs: Any) -> Any: ...
        def _toast(self, message: str, **options: Any) -> None: ...
        def _on_entry(self, entry: Entry) -> None: ...
        def _refresh_state(self) -> None: ...
        def _greeting_late(self, session: Session) -> None: ...
        def _implicit_tls_hint(self, session: Session, why: str, *, note: bool = True
                               ) -> None: ...
        async def _confirm_tls(self) -> bool: ...
        async def _ehlo_starttls_ehlo(self) -> None: ...
        async def xclient_after_greeting(self) -> None: ...
        def pump_queue(self) -> None: ...
        @property
        def is_mounted(self) -> bool: ...

    @work(exclusive=True, group="connect")
    async def connect_session(self) -> None:
        """Open the connection and read the banner; entries stream into the transcript."""
        earlier = self.record_copy
        session = Session(self.options, record_to=self._recording_paths(),
                          record_secrets=self.record_secrets)
        session.on_close = lambda reason: self._on_session_closed(session, reason)
        self.session = session
        self.queue_hold = bool(self.options.xclient)  # released when XCLIENT is done
        session.transcript.subscribe(self._on_entry)
        self._show_new_connection(session)
        if earlier is not None and self.record_copy is not None:
            session.transcript.note(f"Recording this connection to {self.record_copy} "
                                    f"({earlier} holds the one before)")
        if self.hint:
            session.transcript.note(self.hint)
        status = self.query_one(StatusBar)
        late = self.set_timer(GREETING_HINT_AFTER, lambda: self._greeting_late(session))
        try:
            await session.connect()
        except SessionError as exc:
            status.state = f"failed: {exc.stage}"
            self._toast(str(exc), title="Connection failed", severity="error", timeout=8)
            if looks_like_tls(session):
                self._implicit_tls_hint(session, "the server answered with TLS bytes")
            return
        finally:
            late.stop()
        status.peer = self._peer_shown(session)
        self._refresh_state()
        await self._confirm_tls()  # implicit TLS: the certificate came before the banner
        if self.options.security == "starttls" and session.greeting is not None \
                and session.greeting.code == 220:
            # What `openssl s_client -starttls smtp` does: EHLO, STARTTLS, EHLO.
            await self._ehlo_starttls_ehlo()
        if self.options.xclient:
            await self.xclient_after_greeting()  # after STARTTLS, as smtpscope send does

    def _recording_paths(self) -> list[str]:
        """New files for a new connection: a recording holds one connection, and a reconnect
        within the same second, or to the ``--record`` file, must not overwrite the last."""
        from smtpscope.config import recordings_dir
        from smtpscope.record.store import unused_path

        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in self.options.host)
        self.recording_path = unused_path(
            recordings_dir() / f"{stamp}-{safe}-{self.options.port}.jsonl")
        if self.record_to:
            # The first connection writes the file named; later ones write beside it.
            self.record_copy = Path(self.record_to) if self.record_copy is None \
                else unused_path(Path(self.record_to))
        return [str(p) for p in (self.recording_path, self.record_copy) if p is not None]

    def _show_new_connection(self, session: Session) -> None:
        """Everything shown about "the connection" is now about ``session``: nothing that
        was learnt on the previous one (TLS, peer, capabilities, the selection) stays."""
        self._caps_before, self._caps_stage = None, ""
        self._asked_about = None
        status = self.query_one(StatusBar)
        status.peer = self._peer_shown(session)
        status.state = "connecting"
        status.started = time.monotonic()
        inspector = self.query_one(CapabilityInspector)
        inspector.previous, inspector.stage = None, ""
        # The old connection's lines stay for reference; a selected one (and its explanation
        # under the transcript) would read as being about this connection.
        self.query_one(TranscriptView).resume_follow()
        self._refresh_tls()
        self._refresh_state()

    def _peer_shown(self, session: Session) -> str:
        """The address connected, for the status bar: only TCP has one to add to the target
        (a UNIX socket's peer is its path, a pipe's its command)."""
        tcp = self.options.unix_path is None and self.options.pipe_command is None
        return (session.view.peer or "") if tcp else ""

    def _on_session_closed(self, session: Session, reason: str) -> None:
        if self.is_mounted and session is self.session:
            for status in self.query(StatusBar):
                # Shown as it is: every closing reason reads on its own ("closed after QUIT
                # (221)", "connection lost: ..."), as the history shows it from the footer.
                status.state, status.auth = reason, None
            self.pump_queue()  # lines waiting in the queue now wait for F5: say so

    def not_connected_text(self) -> str:
        """Why a key that needs the connection did nothing: still on the way, or gone."""
        session = self.session
        if session is None or (not session.view.ended and session.greeting is None):
            return "Still connecting: try again once the server has greeted."
        return "Not connected: press F5 to reconnect."

    def _refresh_tls(self) -> None:
        shown = self.query(StatusBar)
        if not shown:
            return  # the app is closing under a step still running
        status = shown.first()
        info = self.session.tls if self.session else None
        if info is None:
            status.tls, status.tls_ok = "plain", False
        else:
            status.tls, status.tls_ok = tls_label(info.version, insecure=info.insecure,
                                                  trust=info.trust, verified=info.verified)
