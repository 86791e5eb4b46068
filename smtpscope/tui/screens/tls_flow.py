"""The session screen's TLS part: STARTTLS as s_client does it, the implicit-TLS hint, and the
F5 reconnect dialog where TLS mode, CA file and verification can be changed."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from smtpscope.protocol import StartTLS
from smtpscope.protocol.kinds import Kind
from smtpscope.sanitize import visible
from smtpscope.tls_hints import GREETING_HINT_AFTER, implicit_tls_hint
from smtpscope.tui.widgets.composer import Composer
from smtpscope.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from smtpscope.cli.tui_flags import ConnectFlags
    from smtpscope.protocol import Command, Reply
    from smtpscope.session import Session, SessionOptions
    from smtpscope.transport.tls import TLSInfo
    from smtpscope.tui.screens.session_control import SessionControl


def certificates_note(info: TLSInfo) -> str:
    """The certificates of a handshake, their fields and PEM as ``smtpscope send --show-certs``
    prints them, made visible for a note."""
    from smtpscope.security.report import chain_lines

    lines = [visible(line) for line in chain_lines(info, show_certs=True)]
    return "\n".join(["The server's certificates (--show-certs):", *lines])


#: The recording's outcome (and the history's) for a connection F5 closed.
RECONNECT_OUTCOME = "closed to reconnect"
#: How the note F5 leaves names what was still owed a reply, where the kind is no verb.
OWED_NAMES: dict[str, str] = {
    Kind.CONTENT: "the message", Kind.RAW: "raw bytes",
    Kind.AUTH_RESPONSE: "an AUTH response", Kind.AUTH_CANCEL: "an AUTH cancel",
}


class TlsFlow:
    """Mixin for the session screen (which provides the session, ``_run`` and ``_spawn``)."""

    _suggest_tls: str | None = None  # preselected in the F5 dialog after a hint
    #: Connections F5 closed: a step still waiting on one of them ends without an error toast.
    left_for_reconnect: WeakSet[Session]

    if TYPE_CHECKING:
        options: SessionOptions
        control: SessionControl
        flags: ConnectFlags
        session: Session | None
        target_label: str
        app: Any
        _bindings: Any

        def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
        def connect_session(self) -> Any: ...
        def _spawn(self, work: Coroutine[Any, Any, Any]) -> None: ...
        def _toast(self, message: str, **options: Any) -> None: ...
        def not_connected_text(self) -> str: ...
        def queue_starttls(self) -> None: ...
        async def _run(self, command: Command, *, force: bool = False,
                       then_ehlo: bool = False) -> Reply | None: ...

    def _greeting_late(self, session: Session) -> None:
        # The session notes it in the transcript; here it becomes a toast and F5's default.
        if session is self.session and session.greeting is None and session.is_open:
            why = f"no greeting after {GREETING_HINT_AFTER:g} s"
            self._implicit_tls_hint(session, why, note=False)

    def _implicit_tls_hint(self, session: Session, why: str, *, note: bool = True) -> None:
        """A plain client on an implicit-TLS port waits for a banner that never comes."""
        if self.options.security == "implicit":
            return
        self._suggest_tls = "implicit"
        text = implicit_tls_hint(self.options.host, self.options.port, why)
        if note:
            session.transcript.note(text, kind="warning")
        self._toast(text + " F5 reconnects with implicit TLS selected.",
                    title="Implicit TLS port?", severity="warning", timeout=15)

    def note_certificates(self, session: Session) -> None:
        """--show-certs: after each handshake, the certificates the server sent as a note,
        which the recording keeps too."""
        from smtpscope.security.policy import policy_for

        if session.tls is not None and policy_for(session.options).show_certs:
            session.transcript.note(certificates_note(session.tls))

    def starttls_usable(self) -> bool:
        """False once TLS is up, or once the greeting's reply lists no STARTTLS (LMTP and
        pipes often do not): F3 then has nothing to do. Before that nobody knows."""
        session = self.session
        if session is None or session.view.ended:
            return True  # F3 says it needs a connection, like any other key
        caps = session.view.capabilities
        return session.tls is None and (caps is None or caps.has("STARTTLS"))

    def show_starttls_key(self) -> None:
        """F3 is in the footer only while STARTTLS can be used. Hidden, it still answers (with
        why it does nothing), which a disabled binding could not: the key would just vanish."""
        usable = self.starttls_usable()
        table = self._bindings.key_to_bindings
        for key, bindings in table.items():
            if any(b.id == "session.starttls" and b.show != usable for b in bindings):
                table[key] = [replace(b, show=usable) if b.id == "session.starttls" else b
                              for b in bindings]

    def starttls_blocked(self) -> str | None:
        """Why F3 cannot act (None when it can, or cannot tell yet): it never sends what
        cannot work. Asked when F3 is pressed and again when its turn in the queue comes."""
        session = self.session
        if session is None or (session.greeting is None and not session.view.ended):
            return None  # still connecting: F3 waits in the queue for the greeting, as F2
        if session.view.ended:
            return self.not_connected_text()
        if session.tls is not None:
            return (f"TLS is already up on this connection ({session.tls.version}): F3 sends "
                    "nothing. To send STARTTLS anyway, type it and press Ctrl+O.")
        caps = session.view.capabilities
        if caps is not None and not caps.has("STARTTLS"):
            verb = session.greeting_command().kind
            return (f"The {verb} reply offers no STARTTLS: F3 sends nothing. To send it "
                    "anyway, type STARTTLS and press Ctrl+O.")
        return None

    def action_starttls(self) -> None:
        """STARTTLS and, when it worked, EHLO again: the usual pair, in one key, taking its
        place in the send queue behind what was typed before it."""
        blocked = self.starttls_blocked()
        if blocked is not None:
            self._toast(blocked, title="STARTTLS", severity="warning")
            return
        self.queue_starttls()

    async def _ehlo_starttls_ehlo(self) -> None:
        """EHLO if none was sent yet, STARTTLS, and EHLO again once TLS is up (the security
        mode ``starttls`` does this on connecting, before anything queued)."""
        session = self.session
        if session is None:
            return
        if session.view.capabilities is None:
            reply = await self._run(session.greeting_command())
            if reply is None or reply.code != 250:
                return
        reply = await self._run(StartTLS(), then_ehlo=True)
        if reply is not None and reply.code == 220 and session.is_open:
            await self._run(session.greeting_command())

    def action_reconnect(self) -> None:
        """F5: a dialog to reconnect, with TLS mode, CA file, verification, PROXY header and
        XCLIENT to change."""
        from smtpscope.tui.screens.reconnect import ReconnectDialog

        dialog = ReconnectDialog(self.options, suggest=self._suggest_tls, control=self.control)

        def chosen(options: SessionOptions | None) -> None:
            if options is not None:
                self.control = dialog.control  # shown again by the next F5
            self._reconnect_with(options)

        self.app.push_screen(dialog, chosen)

    async def leave_for_reconnect(self, session: Session) -> None:
        """Close the connection F5 replaces, saying so where it ends: its transcript and
        recording, with any command still owed a reply, and the outcome the history shows.
        What was awaiting a reply on it fails quietly: the user chose this."""
        self.left_for_reconnect.add(session)
        if session.closed_reason is None:
            owed = ", ".join(dict.fromkeys(OWED_NAMES.get(command.kind, str(command.kind))
                                           for command in session.conn.pending))
            cut = [f"no reply came to {owed}"] if owed else []
            if session.conn.message_open:  # after the 354, before the end of data
                cut.append("the message was left open (no end of data sent)")
            session.transcript.note("Disconnected to reconnect (F5)"
                                    + (": " + "; ".join(cut) if cut else ""),
                                    kind="warning" if cut else "note")
        await session.close(RECONNECT_OUTCOME)

    def _reconnect_with(self, options: SessionOptions | None) -> None:
        if options is None:
            return
        if options.preamble:  # a PROXY header claiming the old port as the server's
            from smtpscope.transport.proxy import retarget

            options.preamble = retarget(options.preamble, self.options.port, options.port)
        if (options.port, options.security) != (self.options.port, self.options.security):
            host = f"[{options.host}]" if ":" in options.host else options.host
            scheme = {"implicit": "smtps://", "starttls": "submission://"}.get(
                options.security, "")
            self.target_label = f"{scheme}{host}:{options.port}"
            self.query_one(StatusBar).target = self.target_label
            # History is kept per target: what is typed from now on belongs to the new one.
            self.query_one(Composer).target_key = self.target_label
        moved = options.port != self.options.port
        self.options = options
        self._suggest_tls = None

        async def again() -> None:
            if self.session is not None:
                await self.leave_for_reconnect(self.session)
            if moved:  # TLSA records are per port
                from smtpscope.cli.tui_flags import tlsa_for_new_port
                from smtpscope.dns.parallel import off_thread

                await off_thread(partial(tlsa_for_new_port, options, self.flags.resolver))
            self.connect_session()  # which shows the new connection from nothing

        self._spawn(again())

