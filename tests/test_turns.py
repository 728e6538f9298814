"""Turns at the in-process model: whole answers in arrival order, places told, the cancelled
never reaching the model (the line in lodestar.components.llm.turns, a fake LLM that takes
turns as the local llama.cpp model does)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM

from lodestar.answering.engine import AnswerEngine
from lodestar.components.llm.turns import TurnQueue
from lodestar.components.services import Services

FIRST = "What should a new ML tech lead prioritise?"
SECOND = "How many engineers does an ML Engineering Manager lead?"
WAIT_S = 20


class Stopped(BaseException):  # noqa: N818 - stands for Streamlit's StopException (also Base)
    """What Streamlit raises in a script whose page was left or stopped."""


def in_thread(name: str, work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - the test reads what happened
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, outcome


def wait_until(condition: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(WAIT_S * 50):
        if condition():
            return
        done.wait(0.02)
    raise AssertionError("timed out")


def test_turns_are_given_in_arrival_order_and_are_reentrant() -> None:
    line = TurnQueue(poll_s=0.01)
    order: list[str] = []
    heard: dict[str, list[int]] = {"b": [], "c": []}
    release = threading.Event()

    def first() -> None:
        with line.turn("a"), line.turn("a, nested"):  # the holder calls again: no deadlock
            order.append("a")
            release.wait(WAIT_S)

    def later(name: str) -> Callable[[], None]:
        def take() -> None:
            with line.turn(name, on_wait=heard[name].append):
                order.append(name)
                if name == "b":  # hold on until c hears that it moved up
                    wait_until(lambda: 1 in heard["c"])

        return take

    a, _ = in_thread("a", first)
    wait_until(lambda: line.waiting() == ["a"])
    b, _ = in_thread("b", later("b"))
    wait_until(lambda: line.waiting() == ["a", "b"])
    c, _ = in_thread("c", later("c"))
    wait_until(lambda: line.waiting() == ["a", "b", "c"])
    release.set()
    for thread in (a, b, c):
        thread.join(WAIT_S)
    assert order == ["a", "b", "c"]
    assert heard["b"][0] == 1
    assert heard["c"][0] == 2
    assert heard["c"][-1] == 1  # told when the line moved
    assert line.waiting() == []


def test_a_request_that_gives_up_leaves_the_line_and_the_next_one_moves_up() -> None:
    line = TurnQueue(poll_s=0.01)
    release = threading.Event()
    order: list[str] = []

    def hold() -> None:
        with line.turn("a"):
            release.wait(WAIT_S)

    def give_up(ahead: int) -> None:
        raise Stopped

    def take(name: str, on_wait: Callable[[int], None] | None) -> Callable[[], None]:
        def run() -> None:
            with line.turn(name, on_wait=on_wait):
                order.append(name)

        return run

    a, _ = in_thread("a", hold)
    wait_until(lambda: line.waiting() == ["a"])
    b, b_outcome = in_thread("b", take("b", give_up))
    b.join(WAIT_S)
    c, _ = in_thread("c", take("c", None))
    wait_until(lambda: line.waiting() == ["a", "c"])
    release.set()
    c.join(WAIT_S)
    assert isinstance(b_outcome["error"], Stopped)
    assert order == ["c"]


def two_askers(
    knowledge_index: Path,
    make_services: Callable[..., Services],
    on_wait: Callable[[int], None],
    second_waited: threading.Event,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """FIRST asked, then SECOND while the first holds the model: the first answer's checks
    hold on until `second_waited` is set (by `on_wait`). The fake LLM and both outcomes."""
    reply = "Set a technical vision and mentor the team [1]."

    def judge(messages: Any) -> float:
        if threading.current_thread().name == "first":
            assert second_waited.wait(WAIT_S), "the second request never waited for the model"
        return 0.95

    llm = QueuedLLM.make(reply, reply, judge=judge, turns=True)
    engine = AnswerEngine(make_services(data_dir=knowledge_index, llm=llm))
    first, first_outcome = in_thread("first", lambda: engine.ask(FIRST))
    wait_until(lambda: bool(llm.threads))
    second, second_outcome = in_thread("second", lambda: engine.ask(SECOND, on_wait=on_wait))
    second.join(WAIT_S * 2)
    first.join(WAIT_S * 2)
    return llm, first_outcome, second_outcome


def test_two_answers_at_once_each_keep_the_model_until_they_are_done(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    """The first asker's calls (answerability, reply, statement checks) are not interleaved
    with the second's: the second waits, told its place, and then takes the model whole."""
    waited = threading.Event()
    places: list[int] = []

    def told(ahead: int) -> None:
        places.append(ahead)
        waited.set()

    llm, first, second = two_askers(knowledge_index, make_services, told, waited)
    assert "error" not in first
    assert "error" not in second
    assert not first["value"].refused
    assert not second["value"].refused
    calls = llm.threads
    assert calls.count("first") >= 3, calls
    assert calls.count("second") >= 3, calls
    assert calls == sorted(calls, key=["first", "second"].index), calls  # one after the other
    assert places
    assert places[0] == 1


def test_a_cancelled_waiting_request_never_reaches_the_model(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    """Stop (or a closed page) while waiting: the request leaves the line; the model never
    sees it, and the answer ahead of it finishes."""
    gave_up = threading.Event()

    def stop(ahead: int) -> None:
        gave_up.set()
        raise Stopped

    llm, first, second = two_askers(knowledge_index, make_services, stop, gave_up)
    assert isinstance(second.get("error"), Stopped)
    assert "second" not in llm.threads
    assert all(SECOND not in str(call["messages"]) for call in llm.calls)
    assert all(SECOND not in str(messages) for messages in llm.judged)
    assert not first["value"].refused
    assert llm._turns.waiting() == []


def test_remote_models_have_no_line(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    """A model server schedules its own requests: the answer path adds no wait."""
    services = make_services(data_dir=knowledge_index, llm=QueuedLLM.make())
    with services.model_turn("answer", on_wait=pytest.fail):
        pass
