"""The aiosmtpd internals smtpscope's server hooks (smtpscope/server/smtp.py) are still there.

The server reads ``SMTP._reader._buffer`` (bytes a client sent past STARTTLS, and what was
left when it hung up), overrides ``_cb_client_connected`` to tap every line read, and tells the
STARTTLS handshake from the first connection by ``_original_transport``, and wraps each entry of
``_smtp_methods`` (the verb -> handler table) in its control-character check. It sets
``data_size_limit`` and the line limit around MAIL and DATA (server/size.py), parses paths
through ``_getaddr`` (server/mailbox.py), overrides the AUTH LOGIN prompt
attributes, and cancels ``_handler_coroutine`` when the server stops. None of that is public
API, so the dependency is pinned below the next minor version and this file fails loudly, naming
the hook, when an upgrade moves one of them.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from importlib.metadata import version

import aiosmtpd
from aiosmtpd.smtp import SMTP

from smtpscope.server.smtp import ScopeSMTP


def test_version_is_inside_the_pinned_range() -> None:
    installed = tuple(int(p) for p in re.findall(r"\d+", version("aiosmtpd"))[:3])
    assert (1, 4, 6) <= installed < (1, 5), (
        f"aiosmtpd {aiosmtpd.__version__} is outside >=1.4.6,<1.5: re-check the hooks in "
        "smtpscope/server/smtp.py before widening the pin in pyproject.toml")


def test_client_connected_callback_is_still_the_stream_hook() -> None:
    hook = getattr(SMTP, "_cb_client_connected", None)
    assert callable(hook), "aiosmtpd.smtp.SMTP._cb_client_connected is gone: the line tap breaks"
    assert list(inspect.signature(hook).parameters) == ["self", "reader", "writer"]
    assert ScopeSMTP._cb_client_connected is not SMTP._cb_client_connected


async def test_reader_buffer_and_original_transport_exist() -> None:
    server = SMTP(object())
    assert hasattr(server, "_original_transport"), \
        "SMTP._original_transport is gone: ScopeSMTP cannot tell the STARTTLS handshake apart"
    assert server._original_transport is None
    source = inspect.getsource(SMTP)
    assert "self._original_transport = " in source, "STARTTLS no longer records the transport"
    assert re.search(r"self\._reader\b", source), "SMTP no longer keeps its StreamReader as _reader"
    assert isinstance(asyncio.StreamReader()._buffer, bytearray), \
        "asyncio.StreamReader._buffer changed: leftover bytes cannot be shown"


def test_auth_hooks_used_by_the_mechanisms_exist() -> None:
    from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword, auth_mechanism

    assert callable(auth_mechanism) and MISSING is not None
    assert {"success", "handled", "message", "auth_data"} <= set(
        inspect.signature(AuthResult).parameters)
    assert {"login", "password"} <= set(LoginPassword._fields)
    assert "challenge" in inspect.signature(SMTP.challenge_auth).parameters


async def test_command_table_is_still_what_dispatch_reads() -> None:
    # ScopeSMTP wraps every handler in this table with its argument check; if aiosmtpd stopped
    # dispatching through it, control characters would reach the handlers unchecked.
    server = SMTP(object())
    table = getattr(server, "_smtp_methods", None)
    assert isinstance(table, dict) and "MAIL" in table and callable(table["MAIL"]), \
        "SMTP._smtp_methods is gone: serve's control-character check is not applied"
    assert "self._smtp_methods.get(" in inspect.getsource(SMTP._handle_client), \
        "SMTP._handle_client no longer dispatches through _smtp_methods"


def test_size_limit_is_read_where_size_py_sets_it() -> None:
    # SizeLimitMixin lifts data_size_limit around MAIL (so SIZE= reaches handle_MAIL) and sets
    # a memory bound around DATA; EHLO must still advertise it.
    data = inspect.getsource(SMTP.smtp_DATA)
    assert "limit: Optional[int] = self.data_size_limit" in data, \
        "smtp_DATA no longer takes its limit from data_size_limit when DATA starts"
    assert data.count("self.data_size_limit") == 1, \
        "smtp_DATA reads data_size_limit again inside its loop"
    assert "self.data_size_limit and int(size) > self.data_size_limit" in inspect.getsource(
        SMTP.smtp_MAIL), "smtp_MAIL no longer checks SIZE= against data_size_limit"
    assert "f'250-SIZE {self.data_size_limit}'" in inspect.getsource(SMTP.smtp_EHLO)


def test_auth_login_prompts_are_class_attributes_auth_login_sends() -> None:
    source = inspect.getsource(SMTP.auth_LOGIN)
    for name in ("AuthLoginUsernameChallenge", "AuthLoginPasswordChallenge"):
        assert isinstance(getattr(SMTP, name, None), str), f"SMTP.{name} is gone"
        assert f"self.challenge_auth(self.{name})" in source, f"auth_LOGIN no longer sends {name}"
    assert ScopeSMTP.AuthLoginUsernameChallenge == "Username:"


async def test_handler_task_is_what_connection_lost_cancels() -> None:
    # ScopeSMTP.shut_down cancels it, so nothing buffered is acted on behind the 421.
    assert SMTP(object())._handler_coroutine is None
    assert "self._handler_coroutine.cancel()" in inspect.getsource(SMTP.connection_lost)
    assert "self._handler_coroutine = self.loop.create_task(" in inspect.getsource(
        SMTP.connection_made)


def test_mail_and_rcpt_parse_their_path_with_getaddr() -> None:
    # AddressSyntaxMixin (server/mailbox.py) checks the path in _getaddr, on the text after
    # FROM:/TO:, and hands its MalformedPath to the handler hook as the address.
    assert list(inspect.signature(SMTP._getaddr).parameters) == ["self", "arg"]
    for method, keyword, verb in ((SMTP.smtp_MAIL, "FROM:", "MAIL"),
                                  (SMTP.smtp_RCPT, "TO:", "RCPT")):
        source = inspect.getsource(method)
        assert f"self._strip_command_keyword('{keyword}', arg)" in source
        assert "= self._getaddr(arg)" in source, f"smtp_{verb} no longer parses with _getaddr"
        assert f"self._call_handler_hook('{verb}', address, " in source


async def test_data_line_limit_is_the_readers_and_line_length_limit() -> None:
    # SizeLimitMixin._line_limit lets a DATA line run past 1000 octets by setting both for one
    # DATA: the StreamReader's _limit (read at each readuntil) and the length smtp_DATA checks.
    assert SMTP.line_length_limit == 1001
    assert "limit=self.line_length_limit" in inspect.getsource(SMTP.__init__)
    assert "len(line) > self.line_length_limit" in inspect.getsource(SMTP.smtp_DATA)
    reader = asyncio.StreamReader(limit=10)
    assert reader._limit == 10, "asyncio.StreamReader._limit is gone"
    assert "self._limit" in inspect.getsource(asyncio.StreamReader.readuntil)


def test_a_data_line_over_line_length_limit_drops_what_smtp_data_recorded() -> None:
    # SizeLimitMixin._stop_storing sets line_length_limit to 0 once a message passes --size:
    # smtp_DATA must read it for each whole line while recording, empty what it recorded,
    # record nothing more, and not call the handler (the reply gives way to 552 5.3.4).
    source = inspect.getsource(SMTP.smtp_DATA)
    check = source.index("if len(line) > self.line_length_limit:")
    assert "state = _DataState.TOO_LONG" in source[check:check + 400] and \
        "data *= 0" in source[check:check + 400], "a too-long DATA line no longer drops the data"
    assert source.rindex("if state == _DataState.NOMINAL:", 0, check) > source.index("while "), \
        "smtp_DATA no longer records only while the state is NOMINAL"
    reckoning = source.index("if state != _DataState.NOMINAL:")
    assert "self._set_post_data_state()\n            return" in source[reckoning:reckoning + 400]
    assert reckoning < source.index("_call_handler_hook"), \
        "smtp_DATA may call the DATA hook for a message it stopped recording"
