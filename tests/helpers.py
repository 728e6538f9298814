"""Helpers for building test inputs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any


def write(path: Path, text: str | bytes) -> Path:
    """Write a test file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return bool(reply.read() == b"ok")
    except OSError:
        return False


@contextmanager
def running_server(
    command: list[str], health_url: str, log: Path, timeout_s: float = 90, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` started in a session of its own (output to `log`) until `health_url` answers
    "ok"; stopped, with everything it started, on the way out."""
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers_ok(health_url):
            if server.poll() is not None or time.monotonic() > deadline:
                output = log.read_text(encoding="utf-8", errors="replace")
                raise AssertionError(f"{' '.join(command)} did not start:\n{output}")
            time.sleep(0.5)
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page (no PDF writer needed)."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, text in enumerate(pages):
        content_id = page_ids[i] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def kit_question(
    text: str,
    signals: tuple[str, ...] = (
        "Hires and mentors ML engineers",
        "Sets technical standards and best practices",
        "Takes ML systems from prototype to production",
    ),
    follow_up: str = "What would you change next time?",
) -> str:
    """A valid interview-question reply (JSON), as the model must produce it; the default
    signals are all in knowledge/ml-engineering-manager.md's passages on leadership."""
    import json

    return json.dumps({"question": text, "signals": list(signals), "follow_up": follow_up})


class QueuedLLM:
    """Factory for a deterministic fake chat LLM that returns queued replies and records calls."""

    @staticmethod
    def make(*replies: str, judge: Any = 1.0, turns: bool = False) -> Any:
        """`judge` answers every yes/no check (answerability, verification): a P(yes), or a
        function of the chat's messages returning one, or an exception to raise.

        With `turns`, the fake takes turns at the model as the local llama.cpp model does
        (`turn()`, and every call inside one), and records which thread made each call."""
        from llama_index.core.base.llms.types import (
            ChatMessage,
            ChatResponse,
            CompletionResponse,
            LLMMetadata,
            MessageRole,
        )
        from llama_index.core.llms.custom import CustomLLM
        from pydantic import PrivateAttr

        class _Queued(CustomLLM):
            _replies: list[str] = PrivateAttr(default_factory=list)
            _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)
            _judge: Any = PrivateAttr(default=1.0)
            _judged: list[list[Any]] = PrivateAttr(default_factory=list)
            _threads: list[str] = PrivateAttr(default_factory=list)
            _turns: Any = PrivateAttr(default=None)

            @property
            def metadata(self) -> LLMMetadata:
                return LLMMetadata(model_name="queued-fake", is_chat_model=True)

            @property
            def calls(self) -> list[dict[str, Any]]:
                return self._calls

            @property
            def judged(self) -> list[list[Any]]:
                return self._judged

            def _hold(self, label: str) -> Any:
                return self._turns.turn(label) if self._turns else nullcontext()

            @property
            def threads(self) -> list[str]:
                return self._threads

            def yes_probability(self, messages: Any) -> float:
                with self._hold("judge"):
                    self._threads.append(threading.current_thread().name)
                    return self._judge_now(messages)

            def _judge_now(self, messages: Any) -> float:
                self._judged.append(list(messages))
                if isinstance(self._judge, BaseException):
                    raise self._judge
                return float(self._judge(messages) if callable(self._judge) else self._judge)

            def _next(self, messages: Any, kwargs: dict[str, Any]) -> str:
                with self._hold("call"):
                    self._threads.append(threading.current_thread().name)
                    return self._pop(messages, kwargs)

            def _pop(self, messages: Any, kwargs: dict[str, Any]) -> str:
                self._calls.append({"messages": list(messages), "kwargs": kwargs})
                if not self._replies:
                    raise AssertionError("the fake LLM was called more often than replies queued")
                return self._replies.pop(0)

            def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
                text = self._next(messages, kwargs)
                return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

            def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
                text = self._next(messages, kwargs)
                words = text.split(" ")

                def gen() -> Any:
                    so_far = ""
                    with self._hold("stream"):
                        for i, word in enumerate(words):
                            delta = word if i == 0 else " " + word
                            so_far += delta
                            yield ChatResponse(
                                message=ChatMessage(role=MessageRole.ASSISTANT, content=so_far),
                                delta=delta,
                            )

                return gen()

            def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
                return CompletionResponse(text=self._next([prompt], kwargs))

            def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
                raise NotImplementedError

        class _Turning(_Queued):
            def turn(self, label: str = "", on_wait: Any = None) -> Any:
                return self._turns.turn(label, on_wait)

        llm = _Turning() if turns else _Queued()  # without turns, like a remote model
        llm._replies.extend(replies)
        llm._judge = judge
        if turns:
            from lodestar.components.llm.turns import TurnQueue

            llm._turns = TurnQueue(poll_s=0.02)
        return llm


def make_docx(blocks: list[tuple[str, Any]], title: str = "", path: Path | None = None) -> bytes:
    """A real .docx written with python-docx: ("title"|"h1".."h3"|"p"|"bullet", text) or
    ("table", rows)."""
    import io

    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, value in blocks:
        if kind == "title":
            document.add_heading(value, level=0)
        elif kind.startswith("h"):
            document.add_heading(value, level=int(kind[1:]))
        elif kind == "bullet":
            document.add_paragraph(value, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(value), cols=len(value[0]))
            for i, row in enumerate(value):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        else:
            document.add_paragraph(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SAVED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Onboarding new leads - Engineering - Confluence</title>
<link rel="stylesheet" href="styles.css"><style>body {{ font-family: sans-serif }}</style>
<script>window.dataLayer = [{{"event": "pageview", "tracking": "TRACKING-ID-123"}}];</script>
</head><body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header"><a href="/">ACME Wiki</a>
  <nav aria-label="Primary"><ul><li><a href="/spaces">Spaces</a></li><li><a href="/people">People</a>
  </li></ul></nav></header>
<div id="cookie-consent" class="banner">We use cookies to improve your experience.
  <button>Accept all cookies</button></div>
<div class="layout has-sidebar">
  <aside class="page-tree"><ul><li>Space home</li><li>Sibling page</li></ul></aside>
  <main id="main"><article>
    <header><h1>{title}</h1><p class="byline">Last edited by Ann</p></header>
    <div class="breadcrumbs">Engineering / Leads / Onboarding</div>
    <p>{body}</p>
    <h2>First week</h2>
    <ul><li>Meet every report one to one</li><li>Read the team charter</li></ul>
    <h2>Who to ask</h2>
    <table><tr><th>Topic</th><th>Contact</th></tr><tr><td>Hiring</td><td>Priya</td></tr></table>
    <div class="social-share">Share on LinkedIn</div>
  </article></main>
</div>
<footer><p>&copy; 2026 ACME Corp. Privacy policy. Terms of use.</p></footer>
<script src="analytics.js"></script><noscript>Enable JavaScript for the full site</noscript>
</body></html>
"""


def saved_page(
    title: str = "Onboarding new leads", body: str = "Pair a new lead with a buddy."
) -> str:
    """A web page as a browser saves it (or a wiki exports it): content inside site furniture."""
    return SAVED_PAGE.format(title=title, body=body)
