"""Certificate work in a helper process, so that a short command never waits for its imports.

Reading a certificate and judging its chain need ``cryptography``, whose X.509 layer takes
about 30 ms to import: longer than a verified STARTTLS probe of a nearby server spends
talking to it. A thread cannot hide that (an import holds the interpreter lock), but another
core can. So ``smtpscope probe`` and ``send`` fork this helper first thing
(``smtpscope.launch``), before anything but the interpreter is loaded. The helper loads the
certificate code while the command loads its own and talks to the server. After a handshake
the command hands it the chain, the TLS policy and the names, and gets back what
``judge_here`` would have given: the helper runs exactly that code, on the same data.

The helper is used only where it can pay: with ``os.fork``, at least two usable CPUs, and
unless ``SMTPSCOPE_CERT_HELPER=off``. Should it fail (it died, it answered nothing in
``ANSWER_LIMIT`` seconds, it raised), the work is done here, with the same result or the same
error as without it.

It holds nothing of its parent's: its standard streams are ``/dev/null``, every other
descriptor it inherited is closed, and it ignores Ctrl+C (its parent handles that). It ends
when its parent closes the pipe, which the parent's exit does.
"""

from __future__ import annotations

import os

# Nothing but ``os`` is loaded before the fork (typing and threading alone cost a few ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from smtpscope.security.policy import TLSPolicy
    from smtpscope.transport.tls import TLSInfo

# Seconds the parent waits for one answer before it does the work itself.
ANSWER_LIMIT = 20.0
ENV_SWITCH = "SMTPSCOPE_CERT_HELPER"


class _Helper:
    """The parent's end: the helper's pid and the two pipe ends."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid = pid
        self.requests = requests
        self.answers = answers
        self.idle = False  # it has answered, so it waits on the pipe: closing it ends it
        self.once = False  # the command judges one chain at most (see one_judgment)

    def send(self, message: tuple[Any, ...]) -> None:
        import pickle

        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(self.requests, len(data).to_bytes(4, "big") + data)

    def receive(self, limit: float) -> Any:
        import time

        self.idle = False
        answer = _read_message(self.answers, time.monotonic() + limit)
        self.idle = True
        return answer

    def release(self) -> None:
        """Close the pipe: an idle helper ends by itself (``stop`` collects it)."""
        import contextlib

        for fd in (self.requests, self.answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.requests = self.answers = -1

    def stop(self) -> None:
        """Close the pipe and collect the process, so none is left behind: an idle helper
        ends by itself at once; one still loading (or stuck) is killed."""
        import contextlib
        import signal
        import time

        self.release()
        with contextlib.suppress(OSError):
            deadline = time.monotonic() + (0.05 if self.idle else 0)
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() >= deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.0005)


_helper: _Helper | None = None
_released: _Helper | None = None  # let go after its one answer; collected by finish()


def usable() -> bool:
    """Whether a helper can pay here: fork, two CPUs or more, not switched off."""
    if os.environ.get(ENV_SWITCH, "").lower() in ("0", "off", "no", "false"):
        return False
    if not hasattr(os, "fork"):
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus >= 2


def start() -> bool:
    """Fork the helper (once); returns whether one serves this process now.

    Call it before any thread starts: a fork copies only the calling thread.
    """
    global _helper
    if _helper is not None:
        return True
    if not usable():
        return False
    requests_in, requests_out = os.pipe()
    answers_in, answers_out = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for fd in (requests_in, requests_out, answers_in, answers_out):
            os.close(fd)
        return False
    if pid == 0:  # the helper: it never returns from here
        try:
            _serve(requests_in, answers_out)
        finally:
            os._exit(0)
    os.close(requests_in)
    os.close(answers_out)
    _helper = _Helper(pid, requests_out, answers_in)
    from smtpscope.transport.tls import describe_chains_here

    describe_chains_here(False)
    return True


def running() -> bool:
    return _helper is not None


def load_anchors(cafile: str | None, capath: str | None) -> bool:
    """Ask the helper to read these trust anchors now; False when no helper took it.

    What ``ssl`` reads of them is read here (this process has ``ssl`` for its handshake), so
    the helper never loads it: about a third of what it would import.
    """
    if _helper is None:
        return False
    from smtpscope.security.anchor_source import anchor_source

    try:
        source = anchor_source(cafile, capath)
    except (OSError, ValueError):
        return True  # the helper meets (and reports) the same error when it judges
    try:
        _helper.send(("anchors", cafile, capath, source))
    except OSError:
        _give_up()
        return False
    return True


def one_judgment() -> None:
    """This command judges one chain at most: the helper is let go as soon as it has
    answered, so that it ends while the command finishes, not after."""
    if _helper is not None:
        _helper.once = True


def judge(policy: TLSPolicy, info: TLSInfo, host: str, port: int) -> TLSInfo:
    """``judge_here``'s answer, from the helper when one serves this process.

    One thread at a time: the command's main thread, or its event loop's."""
    if _helper is not None:
        try:
            # With one_judgment, the helper ends right after this answer, beside our last steps.
            _helper.send(("judge", policy._replace(), info, host, port, _helper.once))
            kind, answer = _helper.receive(ANSWER_LIMIT)
        except Exception:  # whatever went wrong (a pipe, a pickle), the work is done here
            _give_up()
        else:
            if _helper.once:
                _let_go()
            if kind == "judged":
                return answer  # type: ignore[no-any-return]
    return judge_here(policy, info, host, port)


def judge_here(policy: TLSPolicy, info: TLSInfo, host: str, port: int) -> TLSInfo:
    """Read the chain (if the handshake left it unread) and judge it by the policy."""
    return policy.evaluate(info.described(), host, port)


def finish() -> None:
    """The command is ending: end the helper and collect it."""
    global _helper, _released
    for helper in (_helper, _released):
        if helper is not None:
            helper.stop()
    _helper = _released = None


def _let_go() -> None:
    # No more chains to judge: the helper ends now, beside the command's last steps. A chain
    # that comes after all is read here, as without a helper.
    global _helper, _released
    if _helper is not None:
        _helper.release()
        _released, _helper = _helper, None
        from smtpscope.transport.tls import describe_chains_here

        describe_chains_here(True)


def _give_up() -> None:
    # From now on this process does the work itself, reading chains at the handshake again.
    global _helper
    helper, _helper = _helper, None
    if helper is not None:
        helper.stop()
    from smtpscope.transport.tls import describe_chains_here

    describe_chains_here(True)


# -- the helper's side ---------------------------------------------------------------------


def _serve(requests: int, answers: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, answers = _keep_only(requests, answers)
    import contextlib
    import gc
    import pickle

    gc.disable()  # a short life of imports and small answers: nothing to collect
    import smtpscope.transport.x509 as x509
    from smtpscope.security import pkix

    x509.preload()
    while True:
        try:
            message = _read_message(requests)
        except (OSError, EOFError):
            return
        if message[0] == "anchors":
            with contextlib.suppress(Exception):  # the parent meets the error when it judges
                pkix.remember_anchors(*message[1:])
            continue
        _, policy, info, host, port, last = message
        try:
            answer: tuple[str, Any] = ("judged", judge_here(policy, info, host, port))
        except Exception:  # the parent runs it again itself, and gets the error there
            answer = ("failed", None)
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(answers, len(data).to_bytes(4, "big") + data)
        except OSError:
            return
        if last:
            return


def _keep_only(requests: int, answers: int) -> tuple[int, int]:
    """Point the standard streams at /dev/null and close every other inherited descriptor;
    returns the pipe ends, moved to 3 and 4."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != null:
            os.dup2(null, fd)
    # Move the pipe ends above everything, then down to 3 and 4, so neither overwrites the other.
    high_requests = os.dup(requests)
    high_answers = os.dup(answers)
    os.dup2(high_requests, 3)
    os.dup2(high_answers, 4)
    try:
        limit = os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        limit = 1024
    os.closerange(5, max(limit, high_requests + 1, high_answers + 1, null + 1))
    return 3, 4


def _read_message(fd: int, deadline: float | None = None) -> Any:
    """One length-prefixed pickle from ``fd``; ``TimeoutError`` past ``deadline`` (monotonic),
    ``EOFError`` when the other end closed."""
    import pickle
    import select
    import time

    def take(size: int) -> bytes:
        buffer = bytearray()
        while len(buffer) < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise TimeoutError
            chunk = os.read(fd, size - len(buffer))
            if not chunk:
                raise EOFError
            buffer += chunk
        return bytes(buffer)

    return pickle.loads(take(int.from_bytes(take(4), "big")))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
