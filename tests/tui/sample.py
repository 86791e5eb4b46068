"""A deterministic recording (fixed clock, fixed text) for replay, history and snapshot tests."""

from __future__ import annotations

import itertools
from pathlib import Path

from smtpscope.record import Recorder, Redactor, Transcript, make_header

EHLO_PLAIN = (
    b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
    b"250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
    b"250 CHUNKING\r\n"
)
EHLO_TLS = EHLO_PLAIN.replace(
    b"250-STARTTLS\r\n", b"250-AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\n"
)
TLS_INFO = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256,
            "verified": True, "verify_error": None, "insecure": False,
            "server_hostname": "mx.example.test"}


def write_sample(path: Path) -> Path:
    """Write the sample session to ``path`` and return it."""
    ticks = itertools.count()
    transcript = Transcript(
        redactor=Redactor(),
        clock=lambda: 100.0 + next(ticks) * 0.125,
        wall_clock=lambda: 1_795_000_000.0,
    )
    recorder = Recorder(path, make_header("mx.example.test:25", role="client",
                                          security="plain"))
    recorder_header_time = 1_795_000_000.0  # noqa: F841 - the header's own time is irrelevant
    transcript.subscribe(recorder)

    def server(raw: bytes, **extra: object) -> None:
        transcript.add("server", "reply", raw, reply={"code": int(raw[:3])}, **extra)

    def client(line: str, **extra: object) -> None:
        transcript.add("client", "command", line.encode() + b"\r\n", **extra)

    transcript.note("Connecting to mx.example.test port 25")
    transcript.note("Connected to 127.0.0.1 port 25")
    server(b"220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n", latency=0.004)
    client("EHLO client.example")
    server(EHLO_PLAIN, latency=0.002)
    client("STARTTLS")
    server(b"220 2.0.0 Ready to start TLS\r\n", latency=0.001)
    transcript.tls_active = True
    transcript.add("local", "tls", b"", "TLS started: TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)"
                   " · certificate verified for mx.example.test", info=TLS_INFO)
    client("EHLO client.example")
    server(EHLO_TLS, latency=0.002)
    client("AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC1wdw==")
    server(b"235 2.7.0 Authentication successful\r\n", latency=0.011)
    client("MAIL FROM:<alice@example.test>")
    server(b"250 2.1.0 Ok\r\n", latency=0.001)
    client("RCPT TO:<nobody@example.test>")
    server(b"550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
           b"virtual mailbox table\r\n", latency=0.002)
    client("QUIT")
    server(b"221 2.0.0 Bye\r\n", latency=0.001)
    recorder.write_footer(outcome="closed by server")
    recorder.close()
    return path
