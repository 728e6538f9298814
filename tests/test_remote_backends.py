"""The openai_like backend against real HTTP servers on loopback: a canned one for every error
class, and a closed port. Errors become one clear message; the CLI prints no traceback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lodestar.answering.engine import AnswerEngine
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.core.errors import GenerationError, LLMUnavailableError
from lodestar.core.settings import LLMSettings, Settings


def asked_question(body: dict[str, Any]) -> str:
    """The question line of the answer prompt a chat request carries ("" when there is none)."""
    content = str(body["messages"][-1]["content"])
    if "Question: " not in content:
        return ""
    return content.rsplit("Question: ", 1)[1].split("\n", 1)[0]


class CannedServer:
    """An OpenAI-style chat endpoint that answers with a fixed status, or streams a reply; a
    request that does not stream (the verifier's yes/no checks) gets `verdict`.

    `reply_for(question)` makes the streamed reply depend on the question asked. With
    `together`, each streamed reply sends its first word and then waits at that barrier for
    the other streams, so they are open at once; a stream that waited in vain (the barrier
    timed out or was broken) has its question recorded in `alone` and finishes anyway.
    """

    def __init__(
        self,
        status: int,
        reply: str = "",
        verdict: str = "Yes",
        *,
        reply_for: Callable[[str], str] | None = None,
        together: threading.Barrier | None = None,
    ) -> None:
        self.status = status
        self.reply = reply
        self.verdict = verdict
        self.reply_for = reply_for
        self.together = together
        self.requests: list[dict[str, Any]] = []
        self.alone: list[str] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                canned.requests.append(body)
                if canned.status != 200:
                    payload = json.dumps({"error": {"message": f"canned {canned.status}"}}).encode()
                    self.send_response(canned.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if not body.get("stream"):
                    payload = json.dumps(
                        {
                            "id": "c1",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": canned.verdict},
                                    "finish_reason": "stop",
                                }
                            ],
                        }
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                question = asked_question(body)
                reply = canned.reply_for(question) if canned.reply_for else canned.reply
                for i, word in enumerate(reply.split(" ")):
                    chunk = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    if i == 0:
                        canned.wait_for_the_other_streams(question)
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_the_other_streams(self, question: str) -> None:
        """Hold this stream open until the others reach their first word too (with `together`)."""
        if self.together is None:
            return
        try:
            self.together.wait()
        except threading.BrokenBarrierError:
            self.alone.append(question)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned() -> Iterator[Callable[..., CannedServer]]:
    servers: list[CannedServer] = []

    def start(status: int, reply: str = "", verdict: str = "Yes", **options: Any) -> CannedServer:
        servers.append(CannedServer(status, reply, verdict, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def remote_engine(
    knowledge_index: Path, url: str, embed_model: Any, timeout_s: float = 5
) -> AnswerEngine:
    llm = LLMSettings(
        backend="openai_like", api_base=url, model="canned", max_retries=0, timeout_s=timeout_s
    )
    return AnswerEngine(
        Services(Settings(data_dir=knowledge_index, llm=llm), embed_model=embed_model)
    )


def test_openai_like_streams_a_cited_answer(
    canned: Callable[..., CannedServer], knowledge_index: Path, embed_model: Any
) -> None:
    server = canned(200, "Mentor the team and set goals [1].")
    answer = remote_engine(knowledge_index, server.url, embed_model).ask(
        "What should a new ML tech lead prioritise?"
    )
    assert answer.answer == "Mentor the team and set goals [1]."
    assert answer.backend == "openai_like"
    assert [c.n for c in answer.citations] == [1]
    assert server.requests[0]["model"] == "canned"
    assert server.requests[0]["messages"][0]["role"] == "system"
    # The remote model verified it: the answerability check, then one statement check, in words.
    checks = [r for r in server.requests if not r.get("stream")]
    assert len(checks) == 2
    assert "Before you answer" in checks[0]["messages"][-1]["content"]
    assert answer.verified["verified"] is True


def focus_reply(question: str) -> str:
    """A reply that names the last word of the question it answers, citing passage 1."""
    return f"Focus on {question.rstrip('?').split()[-1].lower()} first [1]."


def test_two_answers_stream_from_a_model_server_at_once(
    canned: Callable[..., CannedServer], knowledge_index: Path, embed_model: Any
) -> None:
    """Two people ask through one engine (as the app shares it): both answers stream at once.

    The server holds each streamed reply open after its first word until the other stream
    has started too (a barrier of two, 10 s), so this fails if the client sends the answers
    one after another (a lock or a queue in front of a model server): both questions end up
    in `server.alone`. The reply names a word of the question it was asked, so crossed
    streams show in the text, and each answer's citation must be passage [1] of its own
    prompt.
    """
    questions = {
        "What should a new ML tech lead prioritise?": "Focus on prioritise first [1].",
        "How much does an ML team lead earn?": "Focus on earn first [1].",
    }
    server = canned(200, reply_for=focus_reply, together=threading.Barrier(2, timeout=10))
    engine = remote_engine(knowledge_index, server.url, embed_model, timeout_s=30)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(engine.ask, questions))

    assert server.alone == [], "the two answers were not streamed at the same time"
    streamed = {asked_question(r): r for r in server.requests if r.get("stream")}
    assert sorted(streamed) == sorted(questions)
    for answer, (question, reply) in zip(answers, questions.items(), strict=True):
        assert answer.question == question
        assert answer.answer == reply
        assert answer.verified["verified"] is True
        assert [c.n for c in answer.citations] == [1]
        prompt = streamed[question]["messages"][-1]["content"]
        assert f"[1] {answer.citations[0].location}\n" in prompt
    # Different passages come first for the two questions, so crossed citations would show.
    assert answers[0].citations[0].location != answers[1].citations[0].location


def test_a_remote_verifier_that_does_not_answer_yes_or_no_never_verifies(
    canned: Callable[..., CannedServer], knowledge_index: Path, embed_model: Any
) -> None:
    server = canned(200, "Mentor the team and set goals [1].", verdict="Perhaps")
    with pytest.raises(GenerationError, match="not yes or no"):
        remote_engine(knowledge_index, server.url, embed_model).ask(
            "What should a new ML tech lead prioritise?"
        )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "rejected the API key"),
        (429, "rate-limiting"),
        (500, "answered 500"),
        (404, "does not know model"),
    ],
)
def test_http_errors_become_one_clear_message(
    canned: Callable[..., CannedServer],
    knowledge_index: Path,
    embed_model: Any,
    status: int,
    message: str,
) -> None:
    server = canned(status)
    with pytest.raises(LLMUnavailableError, match=message):
        remote_engine(knowledge_index, server.url, embed_model).ask(
            "What should a new ML tech lead prioritise?"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_in_the_cli_is_a_message_not_a_traceback(
    knowledge_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LODESTAR_LLM__API_BASE", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LODESTAR_LLM__MODEL", "anything")
    monkeypatch.setenv("LODESTAR_LLM__MAX_RETRIES", "0")
    from lodestar.core.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(
        app,
        [
            "ask",
            "What should a new ML tech lead prioritise?",
            "--backend",
            "openai_like",
            "--data-dir",
            str(knowledge_index),
        ],
    )
    assert result.exit_code == 2
    assert "cannot connect to the model server" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
