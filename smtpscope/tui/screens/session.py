"""The main screen: transcript, composer, capability inspector and status bar for one session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar
from weakref import WeakSet

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from smtpscope.cli.tui_flags import ConnectFlags
from smtpscope.protocol import (
    Command,
    Data,
    Ehlo,
    Lhlo,
    LocalProtocolError,
    Noop,
    Quit,
    Reply,
    Rset,
    StartTLS,
    State,
)
from smtpscope.record import Entry, to_text
from smtpscope.sanitize import visible
from smtpscope.session import Session, SessionError, SessionOptions
from smtpscope.transport.tls import TLSInfo
from smtpscope.tui.explain import explain_entry, selection_text
from smtpscope.tui.screens.connection_flow import ConnectionFlow
from smtpscope.tui.screens.layout import SidePanelLayout
from smtpscope.tui.screens.message_flow import MessageFlow
from smtpscope.tui.screens.queue_flow import QueueFlow
from smtpscope.tui.screens.session_control import SessionControl
from smtpscope.tui.screens.tls_flow import TlsFlow
from smtpscope.tui.screens.xclient_flow import XclientFlow
from smtpscope.tui.widgets.capabilities import CapabilityInspector
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.key_footer import KeyFooter
from smtpscope.tui.widgets.status import StatusBar
from smtpscope.tui.widgets.transcript import TranscriptView

BDAT_CHUNK = 64 * 1024
#: The closing reason (status bar, recording outcome) when the user refused the certificate.
UNTRUSTED_OUTCOME = "closed: certificate not trusted"


class SessionScreen(SidePanelLayout, ConnectionFlow, TlsFlow, QueueFlow, MessageFlow, XclientFlow,
                    Screen[None]):
    """One live SMTP session. The screen owns the session worker; widgets never do I/O."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SidePanelLayout.SIDE_BINDINGS,
        Binding("escape", "switch_focus", "Lines", priority=True, id="session.focus"),
        Binding("f2", "ehlo", "EHLO", id="session.ehlo"),
        Binding("f3", "starttls", "STARTTLS", id="session.starttls"),
        Binding("f4", "auth_helper", "Auth", id="session.auth"),
        Binding("ctrl+n", "new_message", "Message", id="session.new_message"),
        Binding("f5", "reconnect", "Reconnect", id="session.reconnect"),
        Binding("f6", "rset", "RSET", show=False, id="session.rset"),
        Binding("f7", "noop", "NOOP", show=False, id="session.noop"),
        Binding("f8", "quit_session", "QUIT", id="session.quit"),
        Binding("f9", "history", "History", show=False, id="session.history"),
        Binding("f10", "toggle_timestamps", "Times", show=False, id="session.timestamps"),
        Binding("f12", "auth_decoder", "Decoder", show=False, id="session.decoder"),
        Binding("ctrl+s", "save_recording", "Save", show=False, id="session.save"),
        Binding("ctrl+y", "copy_transcript", "Copy", show=False, id="session.copy"),
    ]

    def __init__(
        self,
        options: SessionOptions,
        *,
        target_label: str | None = None,
        record_to: str | None = None,
        hint: str | None = None,
        control: SessionControl | None = None,
        flags: ConnectFlags | None = None,
        history_key: str | None = None,
    ) -> None:
        super().__init__()
        if options.tls is None:  # report a bad certificate and ask, never refuse outright
            from smtpscope.security.policy import TLSPolicy

            options.tls = TLSPolicy(level="may", cafile=options.cafile,
                                    insecure=not options.verify)
        self.options = options
        # The PROXY/XCLIENT values as given, which F5 shows again (the options hold bytes).
        self.control = control or SessionControl(xclient=" ".join(options.xclient))
        self.target_label = target_label or f"{options.host}:{options.port}"
        # Names the composer history; a target whose port changes each run (the demo) keeps one.
        self.history_key = history_key
        self.record_to = record_to
        self.hint = hint
        # The command line's flags: F5 looks TLSA up again through their resolver.
        self.flags = flags or ConnectFlags()
        self.record_secrets = self.flags.record_secrets
        self.session: Session | None = None
        self.recording_path: Path | None = None
        self._caps_before: Any = None
        self._caps_stage = ""
        self._asked_about: TLSInfo | None = None  # the TLS session the dialog was shown for
        self._suggest_tls: str | None = None  # preselected in the F5 dialog after a hint
        self.left_for_reconnect: WeakSet[Session] = WeakSet()
        # Kept rather than queried for each entry: a query walks the screen's widgets, and a
        # pasted message adds thousands of entries in one go.
        self._transcript_view = TranscriptView(id="transcript")
        self._name_greeting_key()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield self._transcript_view
                yield Static("", id="explain", classes="-empty")
                yield Composer(id="composer")
            with VerticalScroll(id="side"):
                yield CapabilityInspector(id="capabilities")
        yield KeyFooter()

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.target = self.target_label
        view = self.query_one(TranscriptView)
        view.explain = explain_entry
        composer = self.query_one(Composer)
        composer.target_key = self.history_key or self.target_label
        self.setup_queue()
        self.set_interval(1.0, self._tick)
        self.connect_session()
        composer.focus()

    def _tick(self) -> None:
        self.query_one(StatusBar).now = time.monotonic()

    # -- what the session reports (ConnectionFlow opens each connection) ---------------------

    def _on_entry(self, entry: Entry) -> None:
        view = self._transcript_view
        if not view.is_attached:
            return  # the app is closing under a step still running
        view.add_entry(entry)
        self.xclient_hint(entry)
        if entry.kind == "tls" and self.session is not None:
            self._refresh_tls()
            self.note_certificates(self.session)  # right after the handshake's own line
        if entry.direction == "server":
            self.follow_envelope(entry)  # before the composer's hint reads it with the state
            self.follow_data_reply(entry)
            self.follow_envelope_reply()
            if entry.code == 235:
                # Some servers offer more after AUTH; the next EHLO is compared with this one.
                self._remember_caps("after AUTH")
            self._refresh_state()
            self.server_entry(entry)  # a reply may let queued lines go

    async def _confirm_tls(self) -> bool:
        """Ask about an untrusted certificate once per TLS session; False when disconnected."""
        from smtpscope.tui.screens.certificate import UntrustedCertificateScreen

        session = self.session
        info = session.tls if session is not None else None
        if session is None or info is None or info is self._asked_about or info.insecure \
                or not info.accepted or info.trust not in ("trusted", "untrusted"):
            return True
        self._asked_about = info
        decided: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self.app.push_screen(UntrustedCertificateScreen(info), decided.set_result)
        if await decided:
            # Not "whose certificate is trusted": posttls-finger's "Trusted" is a chain without
            # the host's name, which is what the user just chose to go on with.
            why = f" ({info.verify_error})" if info.verify_error else ""
            session.transcript.note("Continuing over TLS although the certificate is not "
                                    f"verified{why}: the session stays marked untrusted",
                                    kind="warning")
            return True
        session.transcript.note("Disconnected: the certificate was not trusted", kind="warning")
        # The reason is what the status bar and the history's outcome say, not a bare "closed".
        await session.close(UNTRUSTED_OUTCOME)
        return False

    def _refresh_state(self) -> None:
        shown = self.query(StatusBar)
        if self.session is None or not shown:
            return  # nothing yet, or the app is closing under a step still running
        conn = self.session.view
        status = shown.first()
        if self.session.closed_reason is None:
            status.state = conn.state.name.lower().replace("_", " ")
        open_ = self.session.closed_reason is None
        status.auth = (conn.auth_mechanism or "?") if open_ and conn.authenticated else None
        composer = self.query_one(Composer)
        composer.capabilities = conn.capabilities
        composer.state = conn.state
        composer.in_auth = conn.state is State.AUTH
        composer.auth_mechanism = conn.auth_mechanism
        inspector = self.query_one(CapabilityInspector)
        inspector.greeting = str(self.session.greeting_command().kind)
        self.show_starttls_key()
        self.refresh_bindings()  # F3 shows only while STARTTLS can be used
        if conn.capabilities is not inspector.capabilities:
            if conn.capabilities is not None:
                inspector.previous = self._caps_before
                inspector.stage = self._caps_stage
            inspector.capabilities = conn.capabilities

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run network work in a worker; whatever goes wrong is shown, never a crash.

        A debugger that dies on an unexpected reply loses the transcript the user needed.
        """

        async def guarded() -> None:
            try:
                await work
            except SessionError as exc:
                self._toast(str(exc), title=f"{exc.stage} failed", severity="error")
            except LocalProtocolError as exc:
                self._local_refusal(exc)
            except Exception as exc:
                if self.session is not None:
                    self.session.transcript.note(f"smtpscope error: {exc!r}", kind="error")
                self._toast(f"{type(exc).__name__}: {exc}", severity="error")
            finally:
                self._refresh_state()

        self.run_worker(guarded(), group="send")

    def _toast(self, message: str, **options: Any) -> None:
        """A notification with foreign text made visible and never read as markup."""
        self.notify(visible(message), markup=False, **options)

    def _local_refusal(self, exc: LocalProtocolError) -> None:
        """The engine refused to send: say why where the user is looking, send nothing."""
        if self.session is not None:
            self.session.transcript.note(f"Not sent: {exc}", kind="warning")
        self._toast(f"Not sent: {exc}", severity="warning")

    # -- sending ------------------------------------------------------------------------------

    def _remember_caps(self, stage: str) -> None:
        if self.session is not None and self.session.view.capabilities is not None:
            self._caps_before = self.session.view.capabilities
            self._caps_stage = stage

    async def _run(self, command: Command, *, force: bool = False,
                   then_ehlo: bool = False,
                   refused: Callable[[LocalProtocolError], None] | None = None) -> Reply | None:
        """Send one command the way a person would expect, handling the ones that need more."""
        session = self.session
        if session is None or not session.is_open:
            self._toast(self.not_connected_text(), severity="warning")
            return None
        try:
            if isinstance(command, StartTLS):  # forced too: a 220 must start TLS
                self._remember_caps("after STARTTLS")
                reply = await session.starttls(force=force)
                self._refresh_tls()
                if reply.code == 220 and not await self._confirm_tls():
                    return None
                if reply.code == 220 and not then_ehlo:
                    session.transcript.note("TLS is up: send EHLO again (F2) to see what "
                                            "the server offers now.")
                return reply
            if isinstance(command, Quit):
                return await session.quit()
            reply = await session.command(command, force=force)
        except SessionError as exc:
            if session not in self.left_for_reconnect:  # else F5 cut it short, and says so
                self._toast(str(exc), title=f"{exc.stage} failed", severity="error")
            return None
        except LocalProtocolError as exc:
            (refused or self._local_refusal)(exc)
            return None
        finally:
            self._refresh_state()
        if isinstance(command, Data) and reply.code == 354:
            self.data_mode_started(command, reply)
        return reply

    @on(Composer.Submitted)
    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        self._spawn(self._run(message.command, force=message.off_script))

    @on(Composer.RawSubmitted)
    def on_composer_raw(self, message: Composer.RawSubmitted) -> None:
        self.send_raw(message.data, message.label)

    def send_raw(self, data: bytes, label: str) -> None:
        """Send exact bytes (the line-ending lab's actions use this)."""
        self._spawn(self._raw(data, label))

    async def _raw(self, data: bytes, label: str) -> None:
        session = self.session
        if session is None or not session.is_open:
            self._toast(self.not_connected_text(), severity="warning")
            return
        try:
            # Inside an open message the bytes are message content: the engine owes a reply
            # only once <CRLF>.<CRLF> has gone, and matches an earlier one as the server
            # taking another end of data.
            await session.send_raw(data, note=label)
        except SessionError as exc:
            if session not in self.left_for_reconnect:
                self._toast(str(exc), severity="error")
        self._refresh_state()
        self.pump_queue()  # the composer's hint follows what the message now ends with

    # -- actions ------------------------------------------------------------------------------

    def action_switch_focus(self) -> None:
        """Escape moves between the composer and the transcript (to select and explain)."""
        view = self.query_one(TranscriptView)
        if view.has_focus:
            self.query_one(Composer).focus()
            view.resume_follow()  # back to typing: show what the next command brings
            return
        view.focus()
        if view.cursor_row < 0 and view.row_count:
            view.select_row(view.row_count - 1)

    def greeting(self) -> Command:
        """What F2 sends: EHLO, or LHLO on an LMTP session (known from the options before)."""
        if self.session is not None:
            return self.session.greeting_command()
        return (Lhlo if self.options.lmtp else Ehlo)(self.options.helo_name)

    def _name_greeting_key(self) -> None:
        """Label F2 in the footer with the command it sends (the id, so a keymap, stays)."""
        verb = str(self.greeting().kind)
        table = self._bindings.key_to_bindings
        for key, bindings in table.items():
            table[key] = [replace(b, description=verb) if b.id == "session.ehlo" else b
                          for b in bindings]

    def action_ehlo(self) -> None:
        self.queue_command(self.greeting())

    def action_rset(self) -> None:
        self.queue_command(Rset())

    def action_noop(self) -> None:
        self.queue_command(Noop())

    def action_quit_session(self) -> None:
        self.queue_command(Quit())

    def action_auth_helper(self) -> None:
        try:
            from smtpscope.tui.screens.auth_helper import AuthHelperScreen
        except ImportError:
            self._toast("The auth helper is not available in this build.", severity="warning")
            return
        if self.session is None or not self.session.is_open:
            self._toast(self.not_connected_text(), severity="warning")
            return
        self.app.push_screen(AuthHelperScreen(self.session, on_done=self._refresh_state))

    def action_auth_decoder(self) -> None:
        """Decode any base64 AUTH line or 334 challenge (the selected one, if any)."""
        from smtpscope.tui.screens.decoder import DecoderScreen

        blob = ""
        entry = self.query_one(TranscriptView).selected_entry
        if entry is not None and not entry.redacted:
            words = entry.text.strip().split()
            if entry.kind == "reply" and entry.code == 334 and len(words) > 1:
                blob = words[1]
            elif entry.direction == "client" and len(words) == 1:
                blob = words[0]
            elif entry.direction == "client" and len(words) == 3 and words[0].upper() == "AUTH":
                blob = words[2]
        self.app.push_screen(DecoderScreen(blob))

    def action_toggle_timestamps(self) -> None:
        view = self.query_one(TranscriptView)
        view.show_timestamps = not view.show_timestamps
        view.show_latency = view.show_timestamps

    def action_copy_transcript(self) -> None:
        if self.session is None:
            return
        # What the pane shows: every connection since start, not only this one's entries.
        shown = self.query_one(TranscriptView).entries
        self.app.copy_to_clipboard(to_text(self.session.transcript if shown is None else shown))
        self._toast("Transcript copied to the clipboard (redacted).")

    def action_save_recording(self) -> None:
        """Ctrl+S: the recording is in the recordings directory, flushed line by line; say
        where, in full."""
        if self.recording_path is None:
            return
        paths = [self.recording_path.resolve()]
        if self.record_copy is not None:
            paths.append(self.record_copy.resolve())
        missing = [p for p in paths if not p.exists()]
        if missing:
            self._toast(f"Recording not written: {missing[0]} does not exist", severity="error")
            return
        self._toast("Recording saved to " + " and ".join(str(p) for p in paths),
                    title="Saved", timeout=12)

    def action_history(self) -> None:
        from smtpscope.tui.screens.history import HistoryScreen

        live = [self.recording_path] if self.recording_path is not None and \
            self.session is not None and self.session.is_open else []
        self.app.push_screen(HistoryScreen(live=live))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Back in the composer (by Esc, a click or any other way): follow new output again."""
        composer = self.query_one(Composer)
        if event.widget is composer or composer in event.widget.ancestors:
            self.query_one(TranscriptView).resume_follow()

    @on(TranscriptView.EntrySelected)
    def on_entry_selected(self, message: TranscriptView.EntrySelected) -> None:
        view = self.query_one(TranscriptView)
        text = selection_text(message.entry, max(20, view.size.width - 4))
        panel = self.query_one("#explain", Static)
        panel.update(text)
        panel.set_class(not text.plain, "-empty")  # no blank row when nothing is selected

    async def on_unmount(self) -> None:
        if self.session is not None:
            self.session.on_close = None  # the widgets are going away
            await asyncio.shield(self.session.close())
