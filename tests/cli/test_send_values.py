"""``smtpscope send`` refuses before connecting what no SMTP command may carry, and still sends
what is valid but odd: a server's answer to that is what a tester came for."""

from __future__ import annotations

import pytest

from tests.cli.conftest import free_port

FROM_TO = ("--from", "a@x.test", "--to", "b@y.test")


@pytest.mark.parametrize("args, error", [
    (("--dsn-notify", "sucess"), "--dsn-notify: NOTIFY=SUCESS: must be NEVER or a comma list of "
     "SUCCESS, FAILURE, DELAY (did you mean 'SUCCESS'?)"),
    (("--dsn-notify", "success,delya"), "--dsn-notify: NOTIFY=SUCCESS,DELYA: must be NEVER or a "
     "comma list of SUCCESS, FAILURE, DELAY (did you mean 'DELAY'?)"),
    (("--dsn-notify", "never,success"), "--dsn-notify: NOTIFY=NEVER,SUCCESS: must be NEVER or a "
     "comma list of SUCCESS, FAILURE, DELAY"),
    (("--envid", "a=b"), "--envid: value of ENVID must be non-empty, without spaces, '=' or "
     "controls"),
    (("--envid", "caf\u00e9"), "--envid: ENVID=caf\u00e9: must be xtext (printable ASCII, '+XX' "
     "hex escapes)"),
    (("--helo", "my host"), "--helo: the domain 'my host' contains white space"),
    (("--protocol", "lmtp", "--helo", "my host"), "--helo: the domain 'my host' contains white "
     "space"),
    (("--from", "a b@x.test"), "--from: the address 'a b@x.test' contains white space"),
    (("--from", "<a@x.test>"), "--from: the address '<a@x.test>' contains '<' or '>'"),
    (("--cc", 'c"@y.test'), "--cc: the address 'c\"@y.test' has an unclosed quote"),
    (("--bcc", "d e@y.test"), "--bcc: the address 'd e@y.test' contains white space"),
    (("--to", "b c@y.test"), "--to: the address 'b c@y.test' contains white space"),
])
def test_invalid_values_are_usage_errors_before_connecting(cli, args: tuple[str, ...],
                                                           error: str) -> None:
    # Nothing listens on the port: had the options been let through, the exit would be 2.
    result = cli("send", f"127.0.0.1:{free_port()}", *FROM_TO, *args)
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[0] == f"smtpscope send: {error}"


def test_the_check_comes_before_the_password_prompt(cli, monkeypatch) -> None:
    monkeypatch.delenv("SMTPSCOPE_TEST_PW", raising=False)  # asking for it would fail first
    result = cli("send", f"127.0.0.1:{free_port()}", *FROM_TO, "--dsn-notify", "sucess",
                 "--auth", "plain", "--user", "u", "--password-env", "SMTPSCOPE_TEST_PW")
    assert result.code == 1
    assert result.err.startswith("smtpscope send: --dsn-notify:")


def test_only_what_the_run_sends_is_judged(make_server, cli) -> None:
    server = make_server()
    result = cli("send", server.target, "--from", "a b@x.test", "--to", "c d@y.test",
                 "--quit-after", "ehlo")
    assert result.code == 0, result.err
    stopped = cli("send", server.target, "--from", "a@x.test", "--to", "c d@y.test",
                  "--dsn-notify", "sucess", "--quit-after", "mail")
    assert stopped.code == 0, stopped.err
    assert "C: MAIL FROM:<a@x.test> SIZE=" in stopped.out


def test_valid_but_odd_values_go_on_the_wire(make_server, cli) -> None:
    server = make_server()
    # --data: a message given as is, so no From header has to be made of the odd sender.
    odd = cli("send", server.target, "--from", "odd..@[bad", "--to", "b@y.test",
              "--data", "Subject: odd\\n\\nbody")
    assert "C: MAIL FROM:<odd..@[bad> SIZE=" in odd.out, odd.err
    assert odd.code == 23  # the server's refusal, not ours
    long_local = "x" * 600  # a line past RFC 5321's 512 octets: the server's to judge
    long = cli("send", server.target, "--from", "a@x.test", "--bcc", f"{long_local}@y.test",
               "--quit-after", "rcpt")
    assert f"C: RCPT TO:<{long_local}@y.test>" in long.out.splitlines(), long.err
