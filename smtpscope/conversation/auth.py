"""One AUTH stepper, sans-IO: the helper screen steps it by hand, ``authenticate`` runs it through.

The stepper turns each server reply into the next client move (the command, the line it
stands for, the mechanism's computation and the transcript mask) and knows when the exchange
is over; it never touches the network. :func:`authenticate` is the whole loop over a session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from smtpscope.auth import MECHANISMS, Mechanism, Step, b64
from smtpscope.conversation.errors import CleartextRefused, NotOffered
from smtpscope.protocol import Auth, AuthCancel, AuthResponse, Capabilities, Command, Raw, Reply
from smtpscope.session import Session
from smtpscope.session_types import ProtocolFailure, Stage

# A hostile or broken server can send 334 forever; no exchange runs past this many lines.
STEP_LIMIT = 12


class InitialResponse(StrEnum):
    """What goes on the AUTH line itself (RFC 4954 §4)."""

    COMPUTED = "ir"  # the mechanism's client-first message, when it has one
    NONE = "none"  # nothing: the server speaks first with 334
    EMPTY = "empty"  # "=": an empty initial response


@dataclass
class AuthMove:
    """One client line of the exchange and everything needed to show or send it."""

    command: Command
    line: str  # the client line as proposed: base64, "*", "" (no initial response) or "="
    initial: bool
    step: Step | None = None  # the mechanism's computation behind the line
    secret_mask: str | None = None  # what the transcript shows instead of the line
    challenge: bytes | None = None  # the decoded 334 this answers
    challenge_text: str = ""  # the 334 as sent (base64)
    challenge_error: str | None = None  # why the 334 did not decode
    notes: list[str] = field(default_factory=list)
    off_script: bool = False  # a typed line that is not base64: sent raw
    # The mechanism computed the line and it carries no secret (a LOGIN user name, a SCRAM
    # client-first): the transcript shows it as sent, whatever the position-based rule guesses.
    public: bool = False


class AuthStepper:
    """Drives one mechanism through one exchange: ``begin``, then ``receive`` each reply."""

    def __init__(self, mechanism: Mechanism, *, initial: InitialResponse = InitialResponse.COMPUTED,
                 policy: b64.Policy = b64.Policy.LENIENT) -> None:
        self.mechanism = mechanism
        self.initial = initial
        self.policy = policy
        self.moves: list[AuthMove] = []
        self.final: Reply | None = None
        self.outcome: Step | None = None  # the mechanism's account of the final reply
        # What the server did against RFC 4954 to end the exchange (our words), else None.
        self.violation: str | None = None

    @property
    def name(self) -> str:
        return self.mechanism.name

    @property
    def finished(self) -> bool:
        return self.final is not None

    def begin(self) -> AuthMove:
        """The AUTH line."""
        name, notes = self.name, []
        step: Step | None = None
        if self.initial is InitialResponse.COMPUTED and type(self.mechanism).client_first:
            step = self.mechanism.initial_response()
        if step is not None and step.response is not None:
            line = step.wire(initial=True).decode("ascii")
            command: Command = Auth(name, step.response)
        elif self.initial is InitialResponse.EMPTY:
            line, command = "=", Auth(name, b"")
            notes.append("Empty initial response: 'AUTH MECH =' (RFC 4954 §4).")
        else:
            line, command = "", Auth(name)
            if self.initial is InitialResponse.COMPUTED:
                notes.append(f"{name} has no initial response: the server speaks first (334).")
        move = AuthMove(command, line, True, step, self._mask(step), notes=notes,
                        public=self._public(step))
        self.moves.append(move)
        return move

    @property
    def cancelled(self) -> bool:
        """The last client line was ``*``: whatever the server answers ends the exchange."""
        return bool(self.moves) and isinstance(self.moves[-1].command, AuthCancel)

    def receive(self, reply: Reply) -> AuthMove | None:
        """The answer to ``reply``; None when the reply ends the exchange (``final`` is set)."""
        if self.cancelled and (reply.code == 334 or 200 <= reply.code < 300):
            # RFC 4954 §4: the server MUST answer "*" with 501. Another challenge is not a way
            # to go on (answering it could loop forever), and a success is no success: we
            # withdrew, often because the server failed to prove itself. Ended here, failed.
            self.final = reply
            what = ("sent another 334 challenge" if reply.code == 334
                    else f"accepted the exchange with {reply.code}")
            self.violation = (f"the server {what} after the client cancelled the AUTH "
                              "exchange with '*' (RFC 4954 §4: it must answer 501)")
            self.outcome = Step(None, (("final reply", str(reply.code)),), f"{self.name}: "
                                f"{self.violation}.", warnings=("Protocol violation.",))
            return None
        if reply.code != 334:
            self.final = reply
            self.outcome = self.mechanism.finish(reply.code, reply.text)
            return None
        text = b"".join(reply.lines).decode("ascii", "replace").strip()
        move: AuthMove
        try:
            challenge, tolerated = b64.decode(text, self.policy) if text else (b"", [])
        except ValueError as exc:
            # A challenge we cannot read is answered the only safe way: cancel (RFC 4954).
            step = Step(None, (), "The challenge is not valid base64: cancelling with '*'.",
                        cancel=True)
            move = AuthMove(AuthCancel(), "*", False, step, None, None, text, str(exc))
        else:
            step = self.mechanism.respond(challenge)
            if step.cancel or step.response is None:
                move = AuthMove(AuthCancel(), "*", False, step, None, challenge, text)
            else:
                move = AuthMove(AuthResponse(step.response), step.wire().decode("ascii"), False,
                                step, self._mask(step), challenge, text,
                                public=self._public(step))
            move.notes.extend(tolerated)
        if len(self.moves) >= STEP_LIMIT and not isinstance(move.command, AuthCancel):
            step = Step(None, (), f"More than {STEP_LIMIT} steps: cancelling with '*'.",
                        cancel=True)
            move = AuthMove(AuthCancel(), "*", False, step, None, move.challenge, text)
        self.moves.append(move)
        return move

    def edit(self, move: AuthMove, line: str) -> AuthMove:
        """``move`` with a hand-typed ``line`` instead of the computed one.

        A line that is not exactly base64 goes out byte for byte, off-script. A typed line is
        masked in the transcript unless it is empty, ``*`` or ``=``.
        """
        if line == move.line:
            return move
        command, raw = command_for(self.name, move.initial, line)
        mask = move.secret_mask
        if mask is None and line not in ("", "*", "="):
            mask = f"[{self.name} response hidden]"
        if line in ("", "*", "="):
            mask = None
        if line == "*" and not move.initial:  # F8, or '*' typed: a cancel, not an answer
            note = "Cancelled: '*' was sent instead of the computed line (RFC 4954 §4)."
        else:
            note = "Edited: the line you typed was sent instead of the computed one" + (
                " (not valid base64: sent raw, off-script)." if raw else ".")
        edited = AuthMove(command, line, move.initial, move.step, mask, move.challenge,
                          move.challenge_text, move.challenge_error, [*move.notes, note], raw)
        self.moves[self.moves.index(move)] = edited
        return edited

    def _mask(self, step: Step | None) -> str | None:
        return step.mask if step is not None and step.secret else None

    @staticmethod
    def _public(step: Step | None) -> bool:
        return step is not None and step.response is not None and not step.secret


def command_for(mechanism: str, initial: bool, line: str) -> tuple[Command, bool]:
    """The command for a typed line, and whether it goes out off-script (raw bytes).

    ``initial``: the line is the initial response on the AUTH line ("" none, "=" empty).
    Only exact base64 counts; anything else is sent byte for byte as typed.
    """
    if initial and line == "":
        return Auth(mechanism), False
    if initial and line == "=":
        return Auth(mechanism, b""), False
    if not initial and line == "*":
        return AuthCancel(), False
    try:
        data = b64.decode_strict(line, canonical=True)
    except ValueError:
        if initial:
            return Raw(f"AUTH {mechanism} {line}\r\n".encode("utf-8", "replace"),
                       note="AUTH line as typed (not valid base64)"), True
        return Raw(line.encode("utf-8", "replace") + b"\r\n",
                   note="AUTH response as typed (not valid base64)"), True
    return (Auth(mechanism, data) if initial else AuthResponse(data)), False


def pick_mechanism(requested: str, caps: Capabilities | None, *, exposed: bool = False) -> str:
    """The mechanism to use: ``requested``, or with ``auto`` the most preferred one offered
    (with ``exposed``, a link without TLS, only one that does not send readable credentials).

    Raises ``NotOffered`` (stage AUTH) when the server offers no AUTH or not that mechanism,
    and ``CleartextRefused`` when ``auto`` finds only readable ones on an exposed link.
    """
    from smtpscope.auth import CLEARTEXT_MECHANISMS, preferred

    offered = caps.auth_mechanisms if caps is not None else ()
    if not offered:
        raise NotOffered("the server does not offer AUTH here (after STARTTLS it may)",
                         Stage.AUTH)
    if requested.upper() == "AUTO":
        usable = [m for m in preferred(automatic=True) if m in offered]
        for choice in usable:
            if not (exposed and choice in CLEARTEXT_MECHANISMS):
                return choice
        if usable:
            raise CleartextRefused(
                f"not authenticating: the server offers only {', '.join(usable)} here, which "
                "would carry the credentials readable over a connection without TLS",
                Stage.AUTH)
        raise NotOffered(f"no supported mechanism offered ({', '.join(offered)})", Stage.AUTH)
    if requested.upper() not in offered:
        raise NotOffered(f"the server does not offer AUTH {requested.upper()} "
                         f"(offers {', '.join(offered)})", Stage.AUTH)
    return requested.upper()


def make_mechanism(name: str, session: Session, *, user: str, secret: str,
                   authzid: str = "") -> Mechanism:
    """A mechanism object for ``name`` bound to this session's server name and port."""
    cls = MECHANISMS[name.upper()]
    opts = session.options
    return cls(username=user, authzid=authzid,
               password="" if cls.token_based else secret,
               token=secret if cls.token_based else None,
               host=opts.tls_server_name, port=opts.port)


async def authenticate(session: Session, mechanism: Mechanism, *,
                       initial: InitialResponse = InitialResponse.COMPUTED,
                       on_move: Callable[[AuthMove, Reply | None], None] | None = None,
                       ) -> Reply:
    """Run a whole AUTH exchange and return the final reply (235, 535, ... as data).

    ``on_move`` sees each client move with the reply it answers (None for the AUTH line).
    """
    stepper = AuthStepper(mechanism, initial=initial)
    move: AuthMove | None = stepper.begin()
    reply: Reply | None = None
    while move is not None:
        if on_move is not None:
            on_move(move, reply)
        note_move(session, stepper.name, move)
        reply = await session.command(move.command, secret_mask=move.secret_mask,
                                      public=move.public)
        move = stepper.receive(reply)
    assert reply is not None
    if stepper.violation is not None:
        raise ProtocolFailure(stepper.violation, Stage.AUTH)
    note_step(session, stepper.name, stepper.outcome)
    return reply


def note_move(session: Session, name: str, move: AuthMove) -> None:
    """Before ``move`` is sent as computed: a challenge that did not decode, and what the
    mechanism said about it (:func:`note_step`)."""
    if move.challenge_error is not None:
        session.transcript.note(f"AUTH challenge is not base64 ({move.challenge_error}): "
                                "cancelling", kind="warning")
    note_step(session, name, move.step)


def note_outcome(session: Session, stepper: AuthStepper) -> None:
    """Once the exchange has ended: what the final reply broke (a 235 or another 334 to our
    ``*``, said in full, as ``authenticate`` raises it), else what the mechanism made of it."""
    if stepper.violation is not None:
        session.transcript.note(f"{stepper.name}: protocol violation: {stepper.violation}",
                                kind="error")
    else:
        note_step(session, stepper.name, stepper.outcome)


def note_step(session: Session, name: str, step: Step | None) -> None:
    """Put what the mechanism found wrong where every view and the recording see it: why it
    cancels (a SCRAM nonce or signature that does not check, a malformed challenge), or what
    it warns about (a server that never proved itself). Steps never quote the secret."""
    if step is None:
        return
    for warning in () if step.cancel else step.warnings:
        session.transcript.note(f"{name}: {warning}", kind="warning")
    if step.cancel and step.explanation:
        session.transcript.note(step.explanation, kind="warning")
