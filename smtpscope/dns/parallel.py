"""Independent look-ups side by side: a resolver that does not answer then costs one timeout
for all of them, not one each. Results come back in the order asked, whatever order the
answers came in, so callers read them as they read a sequence of blocking calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import partial
from typing import Generic, TypeVar

from smtpscope.dns.resolver import DNSAnswer, Resolver

T = TypeVar("T")


#: Look-ups running on threads at once. A zone listing hundreds of MX hosts does not get
#: a thread (and a socket) for each: past this many, a look-up runs in the thread asking
#: for it, as it did before look-ups went side by side. Never a wait for a free slot, so
#: look-ups that start look-ups of their own cannot block each other.
MAX_THREADS = 48
_slots = threading.BoundedSemaphore(MAX_THREADS)


class Pending(Generic[T]):
    """``call`` running on a thread of its own (or, when ``MAX_THREADS`` are busy, run at
    once in this one); :meth:`result` waits for it.

    The thread is a daemon: a look-up nobody waits for any more (the route failed first, or
    Ctrl-C) ends at its own timeout without holding the process up.
    """

    __slots__ = ("_call", "_done", "_error", "_value")

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        if not _slots.acquire(blocking=False):
            self._run()
            return
        try:
            threading.Thread(target=self._threaded, name="smtpscope-lookup", daemon=True).start()
        except RuntimeError:  # no thread to be had: ask here
            _slots.release()
            self._run()

    def _threaded(self) -> None:
        try:
            self._run()
        finally:
            _slots.release()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # handed to whoever waits for the result
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> T:
        """What ``call`` returned, or the exception it raised, raised here."""
        self._done.wait()  # a Ctrl-C in the main thread interrupts the wait
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def side_by_side(calls: Sequence[Callable[[], T]]) -> list[T]:
    """The results of ``calls``, run at once, in their order. When some raise, the first of
    them by position is raised, as if they had run one after another (the rest are not
    waited for); a lone call runs in this thread."""
    if len(calls) == 1:
        return [calls[0]()]
    pending = [Pending(call) for call in calls]
    return [p.result() for p in pending]


def ask(resolver: Resolver, name: str, rdtype: str) -> Pending[DNSAnswer]:
    """The look-up of ``name``'s ``rdtype`` records, under way."""
    return Pending(partial(resolver.lookup, name, rdtype))


def lookup_all(resolver: Resolver, queries: Sequence[tuple[str, str]]) -> list[DNSAnswer]:
    """The answers to ``queries`` (name, type), asked side by side, in the order given."""
    return side_by_side([partial(resolver.lookup, name, rdtype) for name, rdtype in queries])


async def off_thread(call: Callable[[], T]) -> T:
    """``call`` on a daemon thread, awaited. Unlike ``asyncio.to_thread``, whose threads are
    joined when the event loop closes, a run ended by Ctrl-C (or a TUI that quits) does not
    wait for a look-up still under way: it ends at its own timeout, unheard."""
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value, error = call(), None
        except BaseException as exc:  # handed to the awaiting task
            value, error = None, exc
        with suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name="smtpscope-lookup", daemon=True).start()
    return await future
