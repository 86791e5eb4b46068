"""Every SASL mechanism against real Dovecot auth behind Postfix, and no secret in any record."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from smtpscope.auth import MECHANISMS, Mechanism, Step
from smtpscope.conversation import InitialResponse, authenticate
from smtpscope.protocol import Auth, LocalProtocolError, MailFrom, Noop, Reply, explain
from smtpscope.record import read_recording, to_text
from smtpscope.session import Session, SessionOptions
from tests.peers.fixtures import Mta

pytestmark = pytest.mark.peer

NAMES = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]
# Mechanisms in which the server proves it knows the password too.
MUTUAL = {"DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}


class Run:
    """One AUTH exchange on a fresh submission session after STARTTLS, recorded to a file."""

    def __init__(self, mta: Mta, path: Path) -> None:
        self.mta = mta
        self.path = path
        self.session = Session(
            SessionOptions(mta.host, mta.submission, security="starttls",
                           cafile=str(mta.ca_file), server_hostname="localhost"),
            record_to=str(path),
        )
        self.steps: list[tuple[Step, Reply | None]] = []

    async def start(self, *, tls: bool = True) -> None:
        await self.session.connect()
        await self.session.ehlo()
        if tls:
            assert (await self.session.starttls()).code == 220
            await self.session.ehlo()

    async def auth(self, name: str, password: str, *, initial_response: bool = True
                   ) -> tuple[Mechanism, Reply]:
        mech = MECHANISMS[name](username="alice", password=password, host="localhost")
        reply = await authenticate(
            self.session, mech,
            initial=InitialResponse.COMPUTED if initial_response else InitialResponse.NONE,
            on_move=lambda move, reply: self.steps.append((move.step, reply))
            if move.step is not None else None,
        )
        return mech, reply

    def value(self, label: str) -> str:
        """A labelled intermediate the mechanism exposed (the last one with that label)."""
        found = [v for step, _ in self.steps for k, v in step.values if k == label]
        assert found, f"no step value {label!r}"
        return found[-1]

    def secrets(self, name: str, password: str) -> list[bytes]:
        """Everything that must never reach a view or a file for this exchange."""
        out = [password.encode(), base64.b64encode(password.encode())]
        sent = [step for step, _ in self.steps if step.secret]
        assert sent, "the mechanism marked no step as secret"
        for step in sent:
            assert step.response
            out += [step.response, base64.b64encode(step.response)]
        if name == "CRAM-MD5":
            out.append(self.value("HMAC-MD5 hex").encode())
        elif name == "DIGEST-MD5":
            response = self.value("response")
            out += [response.encode(), f"response={response}".encode()]
        elif name.startswith("SCRAM"):
            proof = self.value("ClientProof")
            out += [proof.encode(), f"p={proof}".encode()]
        return out

    def assert_nothing_leaked(self, name: str, password: str) -> None:
        secrets = self.secrets(name, password)
        text = to_text(self.session.transcript).encode()
        data = self.path.read_bytes()
        recording = read_recording(self.path)
        for secret in secrets:
            assert secret not in text, secret
            assert secret not in data, secret
            for entry in recording.entries:
                assert secret not in entry.raw and secret not in entry.text.encode(), secret
        masked = [e for e in recording.entries if e.redacted]
        assert masked and all(e.direction == "client" for e in masked)


@pytest.fixture
async def run(mta: Mta, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    runs: list[Run] = []

    def make() -> Run:
        runs.append(Run(mta, tmp_path / f"auth-{len(runs)}.jsonl"))
        return runs[-1]

    yield make
    for each in runs:
        await each.session.close()


@pytest.mark.parametrize("name", NAMES)
async def test_mechanism_succeeds_and_leaks_nothing(
        mta: Mta, run: Callable[[], Run], name: str) -> None:
    r = run()
    await r.start()
    password = mta.password("alice")
    mech, reply = await r.auth(name, password)
    assert reply.code == 235 and str(reply.enhanced) == "2.7.0"
    assert mech.server_verified is (True if name in MUTUAL else None)
    assert r.session.conn.authenticated
    # The engine left the AUTH state: a transaction may start.
    assert (await r.session.command(MailFrom(mta.address("alice")))).code == 250
    await r.session.quit()
    r.assert_nothing_leaked(name, password)


async def test_plain_without_initial_response(mta: Mta, run: Callable[[], Run]) -> None:
    r = run()
    await r.start()
    password = mta.password("alice")
    _mech, reply = await r.auth("PLAIN", password, initial_response=False)
    assert reply.code == 235
    sent = [e for e in r.session.transcript if e.direction == "client"]
    auth_at = [e.raw for e in sent].index(b"AUTH PLAIN\r\n")
    assert sent[auth_at + 1].redacted  # the credentials went after the 334, masked
    challenges = [e for e in r.session.transcript if e.code == 334]
    assert len(challenges) == 1 and challenges[0].raw == b"334 \r\n"
    [(step, challenge)] = r.steps
    assert challenge is not None and challenge.code == 334 and step.secret
    assert (await r.session.command(MailFrom(mta.address("alice")))).code == 250
    await r.session.quit()
    r.assert_nothing_leaked("PLAIN", password)


async def test_plain_with_initial_response_is_one_round_trip(
        mta: Mta, run: Callable[[], Run]) -> None:
    r = run()
    await r.start()
    _mech, reply = await r.auth("PLAIN", mta.password("alice"))
    assert reply.code == 235
    [(step, challenge)] = r.steps
    assert challenge is None and step.secret
    assert not any(e.code == 334 for e in r.session.transcript)
    [auth] = [e for e in r.session.transcript if e.raw.startswith(b"AUTH PLAIN ")]
    assert auth.redacted and auth.text == "AUTH PLAIN [PLAIN credentials for alice hidden]"


@pytest.mark.parametrize("name", NAMES)
async def test_wrong_password_is_535(mta: Mta, run: Callable[[], Run], name: str) -> None:
    r = run()
    await r.start()
    wrong = "not-" + mta.password("alice")
    mech, reply = await r.auth(name, wrong)
    assert reply.code == 535 and str(reply.enhanced) == "5.7.8"
    meaning = explain(reply)
    assert "credentials" in meaning.summary.lower()
    assert meaning.enhanced == "Authentication credentials invalid (RFC 4954)"
    assert mech.server_verified is not True
    assert not r.session.conn.authenticated
    assert (await r.session.command(Noop())).code == 250  # out of the AUTH state
    await r.session.quit()
    r.assert_nothing_leaked(name, wrong)


async def test_auth_before_starttls_on_submission(mta: Mta, run: Callable[[], Run]) -> None:
    r = run()
    await r.start(tls=False)
    assert not r.session.capabilities.has("AUTH")
    before = len(r.session.transcript)
    with pytest.raises(LocalProtocolError, match="AUTH"):
        await r.auth("PLAIN", mta.password("alice"))
    assert len(r.session.transcript) == before  # refused locally: nothing went out
    reply = await r.session.command(Auth("PLAIN"), force=True)
    assert reply.code == 530 and str(reply.enhanced) == "5.7.0"
    assert "STARTTLS" in reply.text
    meaning = explain(reply)
    assert meaning.basic == "Authentication required (RFC 4954)"
    assert meaning.summary.startswith("530 5.7.0 — ")
    [sent] = [e for e in r.session.transcript if e.raw == b"AUTH PLAIN\r\n"]
    assert sent.off_script
    assert (await r.session.command(Noop())).code == 250
