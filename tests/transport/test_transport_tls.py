"""TLS: implicit TLS, STARTTLS, verification failure reasons, insecure mode, protocol errors."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import threading

import pytest
import trustme

from smtpscope.transport import (
    INSECURE_REASON,
    TLSError,
    TransportError,
    make_tls_context,
    open_connection,
)


async def tls_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 tls ready\r\n")
    await writer.drain()
    while line := await reader.readline():
        writer.write(b"echo " + line)
        await writer.drain()


def starttls_server(server_ctx: ssl.SSLContext, after_220: bytes = b""):
    """A minimal STARTTLS-speaking peer; ``after_220`` is plaintext it injects after its 220."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 plain\r\n")
        await writer.drain()
        if await reader.readline() != b"STARTTLS\r\n":
            return
        writer.write(b"220 go ahead\r\n" + after_220)
        await writer.drain()
        await writer.start_tls(server_ctx)
        await tls_echo(reader, writer)

    return handler


async def read_line(stream) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = await stream.read(timeout=30)
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


async def test_implicit_tls_verified(serve, server_ctx, client_ctx) -> None:
    port = await serve(tls_echo, ssl_context=server_ctx)
    stream = await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    try:
        info = stream.tls
        assert info is not None
        assert info.version in ("TLSv1.2", "TLSv1.3")
        assert info.cipher and info.bits >= 128
        assert info.verified and not info.insecure and info.verify_error is None
        assert info.server_hostname == "localhost" and info.sni == "localhost"
        assert info.hostname_checked
        assert info.alpn is None
        leaf = info.leaf
        assert leaf is not None and leaf.parse_error is None
        assert leaf.subject.startswith("CN=localhost,")
        assert leaf.san == ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:::1")
        assert leaf.not_after == "3000-01-01T00:00:00+00:00"
        assert len(leaf.fingerprint_sha256) == 64
        assert await read_line(stream) == b"220 tls ready\r\n"
        await stream.write(b"hello\r\n")
        assert await read_line(stream) == b"echo hello\r\n"
    finally:
        await stream.close()


async def test_ip_literal_sends_no_sni_but_checks_ip_san(serve, server_ctx, client_ctx) -> None:
    seen: list[str | None] = []
    server_ctx.sni_callback = lambda sslobj, name, ctx: seen.append(name)
    port = await serve(tls_echo, ssl_context=server_ctx)
    stream = await open_connection("127.0.0.1", port, implicit_tls=True, tls_context=client_ctx)
    assert stream.tls is not None
    assert stream.tls.verified and stream.tls.sni is None
    assert stream.tls.server_hostname == "127.0.0.1"
    assert seen == [None]
    await stream.close()


async def test_ipv6_implicit_tls(serve, ipv6, server_ctx, client_ctx) -> None:
    port = await serve(tls_echo, host="::1", ssl_context=server_ctx)
    stream = await open_connection("[::1]", port, implicit_tls=True, tls_context=client_ctx)
    assert stream.tls is not None and stream.tls.verified
    assert stream.tls.server_hostname == "::1"
    assert await read_line(stream) == b"220 tls ready\r\n"
    await stream.close()


async def test_full_chain_with_intermediate(serve, ca, client_ctx, make_server_ctx) -> None:
    intermediate = ca.create_child_ca()
    cert = intermediate.issue_cert("localhost")
    port = await serve(tls_echo, ssl_context=make_server_ctx(cert))
    stream = await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    info = stream.tls
    assert info is not None and info.verified
    assert info.chain_complete
    assert len(info.peer_chain) == 2
    leaf, inter = info.peer_chain
    assert leaf.issuer == inter.subject
    assert not leaf.self_issued and not inter.self_issued
    await stream.close()


async def test_cafile_option(serve, ca, server_ctx, tmp_path) -> None:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    port = await serve(tls_echo, ssl_context=server_ctx)
    context = make_tls_context(cafile=str(path))
    stream = await open_connection("localhost", port, implicit_tls=True, tls_context=context)
    assert stream.tls is not None and stream.tls.verified
    await stream.close()


async def test_starttls_upgrade_discards_injected_plaintext(serve, server_ctx, client_ctx) -> None:
    port = await serve(starttls_server(server_ctx, after_220=b"250 INJECTED\r\n"))
    stream = await open_connection("localhost", port)
    try:
        assert await read_line(stream) == b"220 plain\r\n"
        await stream.write(b"STARTTLS\r\n")
        reply = await read_line(stream)
        assert reply.startswith(b"220 go ahead\r\n")
        injected = reply[len(b"220 go ahead\r\n") :]
        await asyncio.sleep(0.05)  # let any injected bytes still in flight arrive
        info = await stream.start_tls(client_ctx)
        assert stream.tls is info and info.verified
        # the injection reached us either with the 220 or in the buffer, never after TLS
        assert injected + stream.discarded_before_tls == b"250 INJECTED\r\n"
        assert await read_line(stream) == b"220 tls ready\r\n"
        await stream.write(b"EHLO x\r\n")
        assert await read_line(stream) == b"echo EHLO x\r\n"
        with pytest.raises(TransportError, match="already uses TLS"):
            await stream.start_tls(client_ctx)
    finally:
        await stream.close()



async def test_starttls_on_a_closed_stream_is_a_closed_handshake(serve, server_ctx,
                                                                 client_ctx) -> None:
    # A server that hangs up right after its 220 (and its injected bytes): the handshake
    # failed because the peer closed, which a front end tells apart from a certificate problem.
    port = await serve(starttls_server(server_ctx))
    stream = await open_connection("localhost", port)
    await stream.close()
    with pytest.raises(TLSError) as info:
        await stream.start_tls(client_ctx)
    assert info.value.kind == "closed"

async def test_server_hanging_up_after_its_220_is_a_closed_handshake(serve, client_ctx) -> None:
    # The FIN arrives before our hello: asyncio's start_tls then returns None instead of
    # raising, which is the peer closing, not the event loop going away.
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 plain\r\n")
        await reader.readline()
        writer.write(b"220 2.0.0 Ready to start TLS\r\n")
        await writer.drain()
        writer.close()

    port = await serve(hang_up)
    stream = await open_connection("localhost", port)
    await read_line(stream)
    await stream.write(b"STARTTLS\r\n")
    await read_line(stream)
    # woken by the FIN itself, so the handshake starts before the socket is torn down
    assert await stream.read(timeout=5) == b""
    with pytest.raises(TLSError) as info:
        await stream.start_tls(client_ctx)
    assert info.value.kind == "closed"
    assert "event loop" not in str(info.value)
    assert str(info.value).endswith("the connection is closed")
    assert stream.closed
    await stream.close()


async def _starttls_failure(serve, server_ctx, context, hostname=None) -> TLSError:
    port = await serve(starttls_server(server_ctx))
    stream = await open_connection("localhost", port)
    await read_line(stream)
    await stream.write(b"STARTTLS\r\n")
    await read_line(stream)
    with pytest.raises(TLSError) as info:
        await stream.start_tls(context, hostname)
    assert stream.closed and stream.tls is None
    await stream.close()  # still fine after a failure
    return info.value


async def test_unknown_ca_reason(serve, server_ctx) -> None:
    other = make_tls_context()
    trustme.CA().configure_trust(other)  # trusts a different CA only
    err = await _starttls_failure(serve, server_ctx, other)
    assert err.kind == "verify"
    assert err.verify_code == 20
    assert err.reason == "unable to get local issuer certificate"
    assert str(err).startswith("TLS certificate verification failed for localhost (127.0.0.1:")
    assert err.hint and "CA you do not trust" in err.hint


async def test_hostname_mismatch_reason(serve, server_ctx, client_ctx) -> None:
    err = await _starttls_failure(serve, server_ctx, client_ctx, "mx.wrong.example")
    assert err.kind == "verify"
    assert err.verify_code == 62
    assert "mx.wrong.example" in err.reason and "mismatch" in err.reason.lower()
    assert err.server_hostname == "mx.wrong.example"


async def test_expired_reason(serve, ca, client_ctx, make_server_ctx) -> None:
    past = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    cert = ca.issue_cert("localhost", not_before=past - dt.timedelta(days=1), not_after=past)
    err = await _starttls_failure(serve, make_server_ctx(cert), client_ctx)
    assert err.verify_code == 10
    assert err.reason == "certificate has expired"


async def test_self_signed_reason(serve, client_ctx, tmp_path) -> None:
    lonely = trustme.CA()  # its own root certificate, served as the server certificate
    pem = tmp_path / "self-signed.pem"
    pem.write_bytes(lonely.private_key_pem.bytes() + lonely.cert_pem.bytes())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pem))
    err = await _starttls_failure(serve, context, client_ctx)
    assert err.verify_code == 18
    assert err.reason == "self-signed certificate"
    assert err.hint and "self-signed" in err.hint


async def test_insecure_mode_succeeds_and_is_flagged(serve, server_ctx) -> None:
    port = await serve(tls_echo, ssl_context=server_ctx)
    context = make_tls_context(verify=False)
    stream = await open_connection(
        "localhost", port, implicit_tls=True, tls_context=context, server_hostname="other.example"
    )
    info = stream.tls
    assert info is not None
    assert info.insecure and not info.verified
    assert info.verify_error == INSECURE_REASON
    assert not info.hostname_checked
    assert info.leaf is not None and "DNS:localhost" in info.leaf.san
    await stream.close()


async def test_plaintext_server_on_implicit_tls(serve, client_ctx) -> None:
    async def plain(reader, writer) -> None:
        writer.write(b"220 plain smtp\r\n")
        await writer.drain()
        await reader.read()

    port = await serve(plain)
    with pytest.raises(TLSError) as info:
        await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    assert info.value.kind == "protocol"
    assert "did not answer with TLS" in str(info.value)


async def test_protocol_version_mismatch(server_cert, client_ctx, make_server_ctx) -> None:
    # A blocking OpenSSL server sends the protocol_version alert (asyncio's server side just
    # drops the connection), which is what real MTAs do.
    server = make_server_ctx(server_cert)
    server.minimum_version = ssl.TLSVersion.TLSv1_3
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(ssl.SSLError, OSError):
            server.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        with pytest.raises(TLSError) as info:
            await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    finally:
        thread.join(5)
        listener.close()
    assert info.value.kind == "protocol"
    assert info.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    assert str(info.value) == (
        f"TLS handshake with localhost (127.0.0.1:{port}) failed: "
        "the server rejected our TLS version"
    )


async def test_server_hangs_up_during_handshake(serve, client_ctx) -> None:
    async def rude(reader, writer) -> None:
        await reader.read(1)  # the ClientHello starts; leave without a word

    port = await serve(rude)
    with pytest.raises(TLSError) as info:
        await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    assert info.value.kind in ("closed", "protocol")
    assert "failed" in str(info.value)


async def test_handshake_timeout(serve, client_ctx) -> None:
    async def mute(reader, writer) -> None:
        await asyncio.sleep(30)

    port = await serve(mute)
    with pytest.raises(TLSError) as info:
        await open_connection(
            "localhost", port, implicit_tls=True, tls_context=client_ctx, tls_timeout=0.2
        )
    assert info.value.kind == "timeout"
    assert str(info.value) == (
        f"TLS handshake with localhost (127.0.0.1:{port}) did not finish within 0.2 s"
    )


async def test_clean_tls_eof(serve, server_ctx, client_ctx) -> None:
    async def one_line(reader, writer) -> None:
        writer.write(b"221 bye\r\n")
        await writer.drain()

    port = await serve(one_line, ssl_context=server_ctx)
    stream = await open_connection("localhost", port, implicit_tls=True, tls_context=client_ctx)
    assert await read_line(stream) == b"221 bye\r\n"
    assert await stream.read(timeout=30) == b""
    await stream.close()


async def test_dns_name_reaches_the_server_as_sni(serve, server_ctx, client_ctx) -> None:
    # The name is handed to ssl as ASCII bytes (no idna codec); the server must still see it.
    seen: list[str | None] = []
    server_ctx.sni_callback = lambda sslobj, name, ctx: seen.append(name)
    port = await serve(tls_echo, ssl_context=server_ctx)
    stream = await open_connection("127.0.0.1", port, implicit_tls=True, tls_context=client_ctx,
                                   server_hostname="localhost")
    assert stream.tls is not None and stream.tls.verified
    assert stream.tls.sni == "localhost"
    assert seen == ["localhost"]
    await stream.close()
