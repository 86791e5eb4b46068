"""The engine's value classes behave as the frozen dataclasses they replaced: constructor
(by position and keyword, defaults, checks), equality, hash, repr, immutability, match, copy."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from smtpscope.protocol.capabilities import Capabilities, Capability, CapabilityDiff
from smtpscope.protocol.checks import SessionView
from smtpscope.protocol.codes import Explanation
from smtpscope.protocol.commands import (
    Auth,
    AuthCancel,
    AuthResponse,
    Bdat,
    Command,
    Data,
    Ehlo,
    Etrn,
    Expn,
    Helo,
    Help,
    Lhlo,
    MailFrom,
    MessageContent,
    Noop,
    Quit,
    Raw,
    RcptTo,
    Rset,
    StartTLS,
    Vrfy,
    Xclient,
)
from smtpscope.protocol.connection import Sent
from smtpscope.protocol.errors import CommandSyntaxError
from smtpscope.protocol.events import Closed, EnhancedCode
from smtpscope.protocol.parser import ParsedCommand
from smtpscope.protocol.registry import KeywordInfo
from smtpscope.protocol.state import Rule, State

CAP = Capability("SIZE", ("10",), "Message size declaration", "RFC 1870", "SIZE 10")
F = frozenset

# (class, positional arguments, keyword arguments, the fields' values after __init__, repr)
CASES: list[tuple[type, tuple[Any, ...], dict[str, Any], tuple[Any, ...], str]] = [
    (Command, (), {}, (), "Command()"),
    (Helo, ("a.example",), {"domain": "a.example"}, ("a.example",), "Helo(domain='a.example')"),
    (Ehlo, ("a.example",), {"domain": "a.example"}, ("a.example",), "Ehlo(domain='a.example')"),
    (Lhlo, ("a.example",), {"domain": "a.example"}, ("a.example",), "Lhlo(domain='a.example')"),
    (MailFrom, ("a@b", (("size", "1"),)), {"address": "a@b", "params": (("size", "1"),)},
     ("a@b", (("SIZE", "1"),)), "MailFrom(address='a@b', params=(('SIZE', '1'),))"),
    (MailFrom, ("",), {"address": ""}, ("", ()), "MailFrom(address='', params=())"),
    (RcptTo, ("a@b",), {"address": "a@b"}, ("a@b", ()), "RcptTo(address='a@b', params=())"),
    (RcptTo, ("a@b", (("notify", "NEVER"),)), {"address": "a@b",
                                                "params": (("notify", "NEVER"),)},
     ("a@b", (("NOTIFY", "NEVER"),)), "RcptTo(address='a@b', params=(('NOTIFY', 'NEVER'),))"),
    (Data, (), {}, (), "Data()"),
    (Rset, (), {}, (), "Rset()"),
    (StartTLS, (), {}, (), "StartTLS()"),
    (Quit, (), {}, (), "Quit()"),
    (Noop, (), {}, (None,), "Noop(arg=None)"),
    (Noop, ("hi",), {"arg": "hi"}, ("hi",), "Noop(arg='hi')"),
    (Help, ("MAIL",), {"arg": "MAIL"}, ("MAIL",), "Help(arg='MAIL')"),
    (Vrfy, ("bob",), {"arg": "bob"}, ("bob",), "Vrfy(arg='bob')"),
    (Expn, ("list",), {"arg": "list"}, ("list",), "Expn(arg='list')"),
    (Etrn, ("@x",), {"arg": "@x"}, ("@x",), "Etrn(arg='@x')"),
    (Bdat, (), {}, (b"", False, 0), "Bdat(chunk=b'', last=False, size=0)"),
    (Bdat, (b"ab", True), {"chunk": b"ab", "last": True}, (b"ab", True, 2),
     "Bdat(chunk=b'ab', last=True, size=2)"),
    (Bdat, (b"", False, 7), {"size": 7}, (b"", False, 7), "Bdat(chunk=b'', last=False, size=7)"),
    (Auth, ("plain",), {"mechanism": "plain"}, ("PLAIN", None),
     "Auth(mechanism='PLAIN', initial_response=None)"),
    (Auth, ("PLAIN", b"x"), {"mechanism": "PLAIN", "initial_response": b"x"}, ("PLAIN", b"x"),
     "Auth(mechanism='PLAIN', initial_response=b'x')"),
    (AuthResponse, (b"r",), {"data": b"r"}, (b"r",), "AuthResponse(data=b'r')"),
    (AuthCancel, (), {}, (), "AuthCancel()"),
    (Xclient, ((("NAME", "x"),),), {"attributes": (("NAME", "x"),)}, ((("NAME", "x"),),),
     "Xclient(attributes=(('NAME', 'x'),))"),
    (Raw, (b"NOOP\r\n",), {"data": b"NOOP\r\n"}, (b"NOOP\r\n", "", True),
     "Raw(data=b'NOOP\\r\\n', note='', expect_reply=True)"),
    (Raw, (b"x", "n", False), {"data": b"x", "note": "n", "expect_reply": False},
     (b"x", "n", False), "Raw(data=b'x', note='n', expect_reply=False)"),
    (MessageContent, (b"hi",), {"body": b"hi"}, (b"hi", False, None),
     "MessageContent(body=b'hi', verbatim=False, terminator=None)"),
    (MessageContent, (b"hi", True, "lflf"),
     {"body": b"hi", "verbatim": True, "terminator": "lflf"}, (b"hi", True, "lflf"),
     "MessageContent(body=b'hi', verbatim=True, terminator='lflf')"),
    (Capability, ("SIZE", ("10",), "m", "RFC 1870", "SIZE 10"),
     {"keyword": "SIZE", "params": ("10",), "meaning": "m", "rfc": "RFC 1870", "raw": "SIZE 10"},
     ("SIZE", ("10",), "m", "RFC 1870", "SIZE 10", False, False),
     "Capability(keyword='SIZE', params=('10',), meaning='m', rfc='RFC 1870', raw='SIZE 10', "
     "legacy=False, malformed=False)"),
    (CapabilityDiff, ((CAP,), (), ()), {"added": (CAP,), "removed": (), "changed": ()},
     ((CAP,), (), ()), f"CapabilityDiff(added=({CAP!r},), removed=(), changed=())"),
    (Capabilities, ("mx", "hi", (CAP,)), {"domain": "mx", "greeting": "hi", "keywords": (CAP,)},
     ("mx", "hi", (CAP,)), f"Capabilities(domain='mx', greeting='hi', keywords=({CAP!r},))"),
    (EnhancedCode, (5, 7, 8), {"klass": 5, "subject": 7, "detail": 8}, (5, 7, 8),
     "EnhancedCode(klass=5, subject=7, detail=8)"),
    (Closed, (), {}, (b"",), "Closed(partial=b'')"),
    (Closed, (b"25",), {"partial": b"25"}, (b"25",), "Closed(partial=b'25')"),
    (Rule, (F({State.IDENT}), F({250}), State.MAIL, None),
     {"valid_in": F({State.IDENT}), "success": F({250}), "on_success": State.MAIL,
      "on_failure": None}, (F({State.IDENT}), F({250}), State.MAIL, None, F(), None, F()),
     "Rule(valid_in=frozenset({<State.IDENT: 'IDENT'>}), success=frozenset({250}), "
     "on_success=<State.MAIL: 'MAIL'>, on_failure=None, intermediate=frozenset(), "
     "on_intermediate=None, hoped=frozenset())"),
    (KeywordInfo, ("X", "RFC 1", "m"), {"keyword": "X", "rfc": "RFC 1", "meaning": "m"},
     ("X", "RFC 1", "m", "", ""),
     "KeywordInfo(keyword='X', rfc='RFC 1', meaning='m', params='', verbs='')"),
    (SessionView, (State.IDENT, State.MAIL, True, False, "MAIL", None),
     {"state": State.IDENT, "projected": State.MAIL, "greeted": True, "lmtp": False,
      "last_pending": "MAIL", "capabilities": None},
     (State.IDENT, State.MAIL, True, False, "MAIL", None),
     "SessionView(state=<State.IDENT: 'IDENT'>, projected=<State.MAIL: 'MAIL'>, greeted=True, "
     "lmtp=False, last_pending='MAIL', capabilities=None)"),
    (Sent, (Quit(), b"QUIT\r\n", False), {"command": Quit(), "data": b"QUIT\r\n",
                                          "off_script": False},
     (Quit(), b"QUIT\r\n", False, (), True),
     "Sent(command=Quit(), data=b'QUIT\\r\\n', off_script=False, notes=(), owes_reply=True)"),
    (Explanation, ("b", None, "s"), {"basic": "b", "enhanced": None, "summary": "s"},
     ("b", None, "s"), "Explanation(basic='b', enhanced=None, summary='s')"),
    (ParsedCommand, (Quit(),), {"command": Quit()}, (Quit(), ()),
     "ParsedCommand(command=Quit(), notes=())"),
]
IDS = [f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)]


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(cls.__match_args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("cls", "args", "kwargs", "values", "text"), CASES, ids=IDS)
def test_constructor_fields_and_repr(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any],
                                     values: tuple[Any, ...], text: str) -> None:
    by_position, by_keyword = cls(*args), cls(**kwargs)
    assert by_position == by_keyword
    assert tuple(getattr(by_position, name) for name in field_names(cls)) == values
    assert repr(by_position) == text


@pytest.mark.parametrize(("cls", "args", "kwargs", "values", "text"), CASES, ids=IDS)
def test_frozen_hashable_and_compared_within_one_class(
        cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], values: tuple[Any, ...],
        text: str) -> None:
    value = cls(*args)
    assert hash(value) == hash(cls(**kwargs)) == hash(values)
    assert value != values  # a tuple of the same values is another thing
    assert value.__eq__(values) is NotImplemented
    for name in field_names(cls):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, None)
        with pytest.raises(AttributeError):
            delattr(value, name)
    assert not hasattr(value, "__dict__")  # slots only


@pytest.mark.parametrize(("cls", "args", "kwargs", "values", "text"), CASES, ids=IDS)
def test_copy_and_pickle(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any],
                         values: tuple[Any, ...], text: str) -> None:
    value = cls(*args)
    for clone in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert clone == value
        assert type(clone) is cls


def test_match_args_name_the_fields_in_constructor_order() -> None:
    assert Ehlo.__match_args__ == ("domain",)
    assert MailFrom.__match_args__ == ("address", "params")
    assert Bdat.__match_args__ == ("chunk", "last", "size")
    assert Raw.__match_args__ == ("data", "note", "expect_reply")
    assert Command.__match_args__ == Quit.__match_args__ == ()
    match MailFrom("a@b"):
        case MailFrom(address, params):
            assert (address, params) == ("a@b", ())
    assert Ehlo.kind == "EHLO" and Ehlo("x").verb == "EHLO"  # kind is the class's, not a field


def test_verbs_sharing_a_shape_are_never_equal() -> None:
    assert Ehlo("x") != Helo("x") != Lhlo("x")
    assert Data() != Rset() and Data() == Data()
    assert Vrfy("x") != Expn("x")
    assert Noop() != Help()
    assert len({Ehlo("x"), Helo("x"), Ehlo("x")}) == 2


def test_required_arguments_and_unknown_keywords_are_refused() -> None:
    for make in (lambda: Ehlo(), lambda: MailFrom(), lambda: Capability("A"),  # type: ignore
                 lambda: Ehlo("x", "y"), lambda: Quit("x"),  # type: ignore
                 lambda: Raw(b"x", bogus=1)):  # type: ignore
        with pytest.raises(TypeError):
            make()


@pytest.mark.parametrize("make", [
    lambda: Ehlo(""),
    lambda: Ehlo("a b"),
    lambda: MailFrom("a b@c"),
    lambda: MailFrom("a@b", (("SIZE", "1"), ("size", "2"))),
    lambda: RcptTo(""),
    lambda: Noop(" "),
    lambda: Vrfy(""),
    lambda: Bdat("x"),  # type: ignore[arg-type]
    lambda: Bdat(b"", size=-1),
    lambda: Bdat(b"", size=True),
    lambda: Bdat(b"ab", size=3),
    lambda: Auth("not a mechanism"),
    lambda: Auth("PLAIN", "x"),  # type: ignore[arg-type]
    lambda: AuthResponse("x"),  # type: ignore[arg-type]
    lambda: Xclient(()),
    lambda: Xclient((("NAME", "a b"),)),
    lambda: Raw("x"),  # type: ignore[arg-type]
    lambda: MessageContent("x"),  # type: ignore[arg-type]
    lambda: MessageContent(b"x", terminator="nonsense"),
])
def test_constructors_check_their_fields(make: Any) -> None:
    with pytest.raises(CommandSyntaxError):
        make()


def test_behaviour_beside_the_fields() -> None:
    assert str(EnhancedCode(5, 7, 8)) == "5.7.8"
    assert not CapabilityDiff((), (), ()) and CapabilityDiff((CAP,), (), ())
    assert Capabilities("mx", "", (CAP,)).size == 10

