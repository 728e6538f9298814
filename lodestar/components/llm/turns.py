"""Turns at the in-process model, in arrival order: one answer keeps the model until it is done.

A llama.cpp context serves one request at a time and reuses the longest prefix of the prompt it
read last. When three people's answers take turns call by call (the answerability check, the
reply, each statement's check), every call reads its ~1,000-token prompt from scratch and all
three finish late. A `TurnQueue` hands the model to whole answers (or one kit question, one level
cell) in the order they asked: the first asker waits for nobody, the second for one answer.

A thread that holds the turn may call the model again and again (the turn is re-entrant per
thread); a model call made outside any turn takes a turn of its own. A waiting request learns its
place through `on_wait`, and leaves the queue when `on_wait` raises (Stop in the app, a closed
page): it never reaches the model.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# How often a waiting request is told its place (and may give up).
POLL_S = 0.5


@dataclass(eq=False)
class _Ticket:
    thread: int
    label: str
    depth: int = field(default=0)


class TurnQueue:
    """A first-come, first-served, per-thread re-entrant hold on one model."""

    def __init__(self, poll_s: float = POLL_S) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[_Ticket] = deque()
        self._holder: _Ticket | None = None
        self.poll_s = poll_s

    @contextmanager
    def turn(self, label: str = "", on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold the model for the body; wait in line first if someone else holds it.

        `on_wait(n)` is called while waiting, with the number of turns ahead (the one at the
        model included), whenever the line moves and every `poll_s`; if it raises, this request
        leaves the line and the exception propagates.
        """
        me = threading.get_ident()
        with self._changed:
            holder = self._holder
            if holder is not None and holder.thread == me:
                holder.depth += 1
                ticket = holder
            else:
                ticket = _Ticket(me, label)
                self._waiting.append(ticket)
        if ticket.depth == 0:
            self._wait_for(ticket, on_wait)
        try:
            yield
        finally:
            with self._changed:
                if ticket.depth > 0:
                    ticket.depth -= 1
                else:
                    self._holder = None
                    self._changed.notify_all()

    def _wait_for(self, ticket: _Ticket, on_wait: Callable[[int], None] | None) -> None:
        try:
            while True:
                with self._changed:
                    if self._take(ticket):
                        return
                    ahead = self._ahead(ticket)
                if on_wait is not None:
                    on_wait(ahead)  # outside the lock: it may draw on a page, or raise to leave
                with self._changed:
                    if self._take(ticket):
                        return
                    self._changed.wait(self.poll_s)
        except BaseException:
            with self._changed:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._changed.notify_all()
            raise

    def _take(self, ticket: _Ticket) -> bool:
        if self._holder is None and self._waiting[0] is ticket:
            self._waiting.popleft()
            self._holder = ticket
            return True
        return False

    def _ahead(self, ticket: _Ticket) -> int:
        return (self._holder is not None) + self._waiting.index(ticket)

    def waiting(self) -> list[str]:
        """Labels of the turn at the model (first) and those in line, in order."""
        with self._changed:
            held = [self._holder.label] if self._holder is not None else []
            return held + [t.label for t in self._waiting]
