"""The one AUTH stepper (sans-IO) that the helper screen steps and ``send --auth`` runs, and
the mechanism registry whose metadata every other table derives from."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from smtpscope import auth
from smtpscope.auth import MECHANISMS, REGISTERED, b64
from smtpscope.conversation import AuthStepper, InitialResponse, NotOffered, pick_mechanism
from smtpscope.conversation.auth import STEP_LIMIT, command_for
from smtpscope.protocol import (
    Auth,
    AuthCancel,
    AuthResponse,
    Capabilities,
    Connection,
    Raw,
    Reply,
)

CHALLENGE = b"<1896.697170952@postoffice.reston.mci.net>"  # RFC 2195's example


def reply(code: int, text: str = "") -> Reply:
    """A reply as the engine would produce it, parsed from wire bytes."""
    conn = Connection()
    conn.receive_data(f"{code} {text}\r\n".encode())
    event = conn.next_event()
    assert isinstance(event, Reply)
    return event


def test_plain_initial_response_then_235() -> None:
    stepper = AuthStepper(MECHANISMS["PLAIN"](username="tim", password="tanstaaf"))
    move = stepper.begin()
    assert move.command == Auth("PLAIN", b"\0tim\0tanstaaf") and move.initial
    assert move.line == base64.b64encode(b"\0tim\0tanstaaf").decode()
    assert move.secret_mask is not None and "tanstaaf" not in move.secret_mask
    assert stepper.receive(reply(235, "2.7.0 ok")) is None
    assert stepper.finished and stepper.final is not None and stepper.final.code == 235
    assert stepper.outcome is not None and "succeeded" in stepper.outcome.explanation


def test_cram_md5_answers_the_challenge() -> None:
    stepper = AuthStepper(MECHANISMS["CRAM-MD5"](username="tim", password="tanstaaftanstaaf"))
    first = stepper.begin()
    assert first.command == Auth("CRAM-MD5") and first.line == ""
    move = stepper.receive(reply(334, base64.b64encode(CHALLENGE).decode()))
    assert move is not None and move.challenge == CHALLENGE
    digest = hmac.new(b"tanstaaftanstaaf", CHALLENGE, hashlib.md5).hexdigest()
    assert move.command == AuthResponse(b"tim " + digest.encode())
    assert digest == "b913a602c7eda7a495b4e6e7334d3890"  # RFC 2195 §2
    assert move.secret_mask is not None


def test_no_initial_response_and_empty_initial_response() -> None:
    none = AuthStepper(MECHANISMS["PLAIN"](username="u", password="p"),
                       initial=InitialResponse.NONE).begin()
    assert none.command == Auth("PLAIN") and none.line == ""
    empty = AuthStepper(MECHANISMS["PLAIN"](username="u", password="p"),
                        initial=InitialResponse.EMPTY).begin()
    assert empty.command == Auth("PLAIN", b"") and empty.line == "="


@pytest.mark.parametrize(("policy", "cancels"), [(b64.Policy.STRICT, True),
                                                 (b64.Policy.LENIENT, False)])
def test_challenge_policies(policy: b64.Policy, cancels: bool) -> None:
    """Strict (the helper) cancels on unpadded base64; lenient (the CLI) repairs and says so."""
    stepper = AuthStepper(MECHANISMS["CRAM-MD5"](username="tim", password="x"), policy=policy)
    stepper.begin()
    unpadded = base64.b64encode(b"<1.2@h>").decode().rstrip("=")
    move = stepper.receive(reply(334, unpadded))
    assert move is not None
    if cancels:
        assert move.command == AuthCancel() and move.challenge_error is not None
    else:
        assert isinstance(move.command, AuthResponse) and move.challenge == b"<1.2@h>"
        assert any("Padding" in note for note in move.notes)


def test_garbage_challenge_is_cancelled_under_either_policy() -> None:
    for policy in b64.Policy:
        stepper = AuthStepper(MECHANISMS["LOGIN"](username="u", password="p"), policy=policy)
        stepper.begin()
        move = stepper.receive(reply(334, "<not base64!>"))
        assert move is not None and move.command == AuthCancel() and move.line == "*"


def test_a_server_that_never_stops_challenging_is_cancelled() -> None:
    stepper = AuthStepper(MECHANISMS["LOGIN"](username="u", password="p"))
    move = stepper.begin()
    for _ in range(STEP_LIMIT + 5):
        move = stepper.receive(reply(334, base64.b64encode(b"Password:").decode()))
        assert move is not None
        if move.command == AuthCancel():
            break
    assert move.command == AuthCancel()
    assert len(stepper.moves) <= STEP_LIMIT + 1
    # A reason every front end shows and records (as it does a mechanism's own cancel).
    assert move.step is not None and move.step.cancel
    assert f"More than {STEP_LIMIT} steps" in move.step.explanation


def test_a_334_after_the_cancel_ends_the_exchange_as_a_violation() -> None:
    stepper = AuthStepper(MECHANISMS["PLAIN"](username="alice", password="pw"))
    stepper.begin()  # AUTH PLAIN <credentials>
    cancel = stepper.receive(reply(334))  # PLAIN has nothing more to say: "*"
    assert cancel is not None and cancel.command == AuthCancel() and stepper.cancelled
    assert stepper.violation is None and not stepper.finished
    assert stepper.receive(reply(334)) is None  # RFC 4954 §4 wants 501; the exchange is over
    assert stepper.finished and stepper.final is not None and stepper.final.code == 334
    assert stepper.violation is not None and "after the client cancelled" in stepper.violation
    assert stepper.outcome is not None and stepper.outcome.warnings
    assert len(stepper.moves) == 2  # nothing answers the second 334


def test_a_success_after_the_cancel_is_a_violation_not_a_login() -> None:
    """The client withdrew (here: nothing left to say; in life often a server proof that did
    not verify): a 235 to "*" is no success (RFC 4954 §4: the answer is 501)."""
    stepper = AuthStepper(MECHANISMS["PLAIN"](username="alice", password="pw"))
    stepper.begin()
    assert stepper.receive(reply(334)) is not None and stepper.cancelled
    assert stepper.receive(reply(235, "2.7.0 ok")) is None
    assert stepper.final is not None and stepper.final.code == 235
    assert stepper.violation is not None and "accepted the exchange with 235" in stepper.violation
    assert stepper.outcome is not None and "Protocol violation." in stepper.outcome.warnings


def test_the_501_to_a_cancel_is_an_ordinary_end() -> None:
    stepper = AuthStepper(MECHANISMS["PLAIN"](username="alice", password="pw"))
    stepper.begin()
    stepper.receive(reply(334))
    assert stepper.receive(reply(501, "5.7.0 cancelled")) is None
    assert stepper.final is not None and stepper.final.code == 501 and stepper.violation is None


def test_login_moves_say_which_carry_the_password() -> None:
    """A repeated "Username:" is answered with the user name again, which is public; only the
    password move is secret. Decided by the mechanism's steps, not by the transcript rule."""
    username, password = (base64.b64encode(w).decode() for w in (b"Username:", b"Password:"))
    stepper = AuthStepper(MECHANISMS["LOGIN"](username="alice", password="pw"))
    moves = [stepper.begin()]
    for prompt in (username, username, password):
        move = stepper.receive(reply(334, prompt))
        assert move is not None
        moves.append(move)
    assert [m.command for m in moves[1:]] == [AuthResponse(b"alice")] * 2 + [AuthResponse(b"pw")]
    assert [m.public for m in moves] == [True, True, True, False]
    assert [m.secret_mask for m in moves] == [None, None, None, "[LOGIN password hidden]"]
    edited = stepper.edit(moves[1], base64.b64encode(b"typed").decode())
    assert not edited.public and edited.secret_mask is not None  # typed lines stay masked


def test_edited_lines() -> None:
    stepper = AuthStepper(MECHANISMS["CRAM-MD5"](username="tim", password="x"))
    stepper.begin()
    move = stepper.receive(reply(334, base64.b64encode(CHALLENGE).decode()))
    assert move is not None
    typed = stepper.edit(move, "dGlt")  # exact base64: a real response, still masked
    assert typed.command == AuthResponse(b"tim") and not typed.off_script
    assert typed.secret_mask is not None and stepper.moves[-1] is typed
    raw = stepper.edit(typed, "not base64")
    assert isinstance(raw.command, Raw) and raw.off_script and raw.secret_mask is not None
    cancel = stepper.edit(raw, "*")
    assert cancel.command == AuthCancel() and cancel.secret_mask is None
    assert command_for("PLAIN", True, "=") == (Auth("PLAIN", b""), False)


def test_pick_mechanism_follows_metadata() -> None:
    conn = Connection()
    conn.receive_data(b"250-x\r\n250 AUTH LOGIN PLAIN CRAM-MD5 DIGEST-MD5 XOAUTH2\r\n")
    event = conn.next_event()
    assert isinstance(event, Reply)
    caps = Capabilities.parse(event)
    assert pick_mechanism("auto", caps) == "CRAM-MD5"  # DIGEST-MD5 is never automatic
    assert pick_mechanism("login", caps) == "LOGIN"
    with pytest.raises(NotOffered):
        pick_mechanism("SCRAM-SHA-256", caps)
    with pytest.raises(NotOffered):
        pick_mechanism("auto", None)


# -- the registry ---------------------------------------------------------------------------


def test_registry_lists_every_mechanism_once() -> None:
    """Adding a mechanism is one module in smtpscope/auth/ plus one line in REGISTERED."""
    assert [cls.name for cls in REGISTERED] == [
        "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2",
        "OAUTHBEARER",
    ]
    assert list(MECHANISMS) == [cls.name for cls in REGISTERED]
    package = Path(auth.__file__).parent
    for cls in REGISTERED:
        assert (package / f"{cls.__module__.rsplit('.', 1)[1]}.py").is_file()


def test_tables_derive_from_the_metadata() -> None:
    assert {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"} == auth.CLEARTEXT_MECHANISMS
    assert {"XOAUTH2", "OAUTHBEARER"} == auth.TOKEN_MECHANISMS
    assert auth.preferred() == ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "DIGEST-MD5",
                                "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2")
    assert auth.preferred(automatic=True) == ("SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5",
                                              "PLAIN", "LOGIN")
    from smtpscope.tui.widgets import auth_values

    assert auth.preferred() == auth_values.PREFERENCE
    assert auth_values.TOKEN_MECHANISMS is auth.TOKEN_MECHANISMS
    for cls in REGISTERED:
        assert cls.public_labels <= auth_values.PUBLIC_LABELS


def test_a_new_mechanism_registers_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new mechanism needs: a class with its metadata; the tables follow."""

    class Anonymous(auth.Mechanism):
        name = "ANONYMOUS"
        client_first = True
        preference = 1
        public_labels = frozenset({"trace"})

        def _initial(self) -> auth.Step:
            return auth.Step(b"trace", (("trace", "trace"),), "RFC 4505 trace information")

    registered = (*REGISTERED, Anonymous)
    monkeypatch.setattr(auth, "REGISTERED", registered)
    assert auth.preferred()[-1] == "ANONYMOUS"  # ranked by its metadata, nothing else
    assert "ANONYMOUS" not in auth.preferred(automatic=True)
    move = AuthStepper(Anonymous()).begin()
    assert move.command == Auth("ANONYMOUS", b"trace") and move.secret_mask is None
