"""A message of thousands of lines pasted in data mode: every byte as typed, at paste speed.

Line by line, each pasted line cost work in proportion to the lines queued with it (the queue
looked through whole, the footer rebuilt), so a paste of a few thousand lines took minutes.
"""

from __future__ import annotations

import pytest

from smtpscope.conversation.send_queue import SendQueue
from tests.tui.test_key_order import SIZE, app_for, replies, until
from tests.tui.test_send_queue_tui import composer, ehlo, errors, paste
from tests.tui.wire_server import WireServer

LINES = 3000


def body() -> list[str]:
    """Ordinary lines, with those a message needs checked: empty, dotted, stuffed, 8-bit."""
    lines = [f"line {n} " + "x" * (n % 60) for n in range(LINES)]
    lines[10], lines[20], lines[30], lines[40] = "", ".dot lost", "..stuffed", "héllo"
    return lines


async def test_a_pasted_message_goes_as_typed_then_the_commands_after_it(
        wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[int] = []  # the length of the queue, each time its state is worked out
    projected = SendQueue.projected_state

    def counted(queue: SendQueue, conn: object) -> object:
        looks.append(len(queue))
        return projected(queue, conn)  # type: ignore[arg-type]

    monkeypatch.setattr(SendQueue, "projected_state", counted)
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        lines = ["Subject: pasted", "", *body()]
        # The envelope, the message, its end and QUIT in one paste (as from a file).
        paste(app, "MAIL FROM:<a@x.test> BODY=8BITMIME\nRCPT TO:<b@x.test>\nDATA\n"
              + "\n".join(lines) + "\n.\nQUIT\n")
        await until(pilot, lambda: 221 in replies(app), timeout=60)
        assert wire.messages == ["".join(f"{line}\r\n" for line in lines).encode()]
        assert replies(app)[2:] == [250, 250, 354, 250, 221]
        transcript = app.screen.session.transcript
        content = [e for e in transcript if e.kind == "content"]
        assert len(content) == len(lines) + 1  # one entry per line, and the end
        notes = {e.raw: " ".join(e.notes) for e in content}
        assert "drops the first dot" in notes[b".dot lost\r\n"]
        assert notes[b"..stuffed\r\n"] == "" and notes["héllo\r\n".encode()] == ""
        assert composer(app).input.value == "" and not composer(app).data_mode
        assert errors(app) == []
    # The queue is looked through a few times for the whole paste, not once or more for
    # each of its lines (n * n lines looked at).
    assert sum(looks) < 20 * LINES, (len(looks), sum(looks))


async def test_lines_pasted_ahead_of_the_354_wait_for_it(wire: WireServer) -> None:
    wire.pipelining = False
    app = app_for(wire)
    async with app.run_test(size=SIZE) as pilot:
        await ehlo(pilot)
        lines = body()[:500]
        paste(app, "MAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\n" + "\n".join(lines)
              + "\n.\nNOOP\n")
        await until(pilot, lambda: len(replies(app)) == 7, timeout=60)
        assert wire.messages == ["".join(f"{line}\r\n" for line in lines).encode()]
        assert wire.commands()[1:] == ["MAIL FROM:<a@x.test>", "RCPT TO:<b@x.test>", "DATA",
                                       "NOOP"]
        assert replies(app)[2:] == [250, 250, 354, 250, 250]
