"""Thumbs up/down on answers, kept in an append-only SQLite table in the data dir.

Thumbs-down items are exported as candidate evaluation cases in the golden dataset's JSONL
format (`eval/golden.jsonl`), for a person to complete with a reference answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lodestar.core.errors import LodestarError

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,
    backend TEXT NOT NULL,
    model TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS feedback_no_update BEFORE UPDATE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
CREATE TRIGGER IF NOT EXISTS feedback_no_delete BEFORE DELETE ON feedback
BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
"""


@dataclass
class FeedbackItem:
    """One rating of one answer, as stored."""

    id: int
    created_at: str
    rating: int
    comment: str
    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[dict[str, Any]]
    backend: str
    model: str

    def to_eval_case(self) -> dict[str, Any]:
        """A candidate case for eval/golden.jsonl; the reference fields are left for a person."""
        doc_ids = list(dict.fromkeys(Path(str(c.get("source", ""))).stem for c in self.citations))
        return {
            "id": f"feedback-{self.id:04d}",
            "category": "feedback",
            "question": self.question,
            "reference_answer": "",
            "reference_doc_ids": [],
            "reference_contexts": [],
            "key_facts": [],
            "must_refuse": False,
            "needs_review": True,
            "notes": self.comment,
            "feedback": {
                "created_at": self.created_at,
                "answer": self.answer,
                "refused": self.refused,
                "cited_doc_ids": [d for d in doc_ids if d],
                "backend": self.backend,
                "model": self.model,
            },
        }


class FeedbackStore:
    """Append-only feedback log (`DATA_DIR/feedback.sqlite3`)."""

    def __init__(self, path: Path) -> None:
        """Open (and create if needed) the database at `path`."""
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as conn:
                conn.executescript(SCHEMA)
                with conn:  # one transaction: committed on success, rolled back on error
                    yield conn
        except sqlite3.Error as exc:
            raise LodestarError(
                f"could not use the feedback store {self.path}: {exc}",
                hint="check that the data dir is writable",
            ) from exc

    def add(
        self, answer: dict[str, Any], rating: int, comment: str = "", *, question: str = ""
    ) -> int:
        """Record a rating (+1 / -1) of an answer (`Answer.to_json()`); return its id."""
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 (thumbs up) or -1 (thumbs down)")
        citations = [
            {key: c.get(key) for key in ("n", "source", "title", "heading", "page", "score")}
            for c in answer.get("citations", [])
        ]
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, standalone_question,"
                " answer, refused, citations, backend, model) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    rating,
                    comment.strip(),
                    question or answer.get("question", ""),
                    answer.get("standalone_question", ""),
                    answer.get("answer", ""),
                    int(bool(answer.get("refused"))),
                    json.dumps(citations, ensure_ascii=False),
                    answer.get("backend", ""),
                    answer.get("model", ""),
                ),
            )
            return int(cursor.lastrowid or 0)

    def items(self, rating: int | None = None) -> list[FeedbackItem]:
        """Stored items, oldest first; only those with `rating` if given."""
        if not self.path.exists():
            return []
        query = "SELECT * FROM feedback"
        params: tuple[Any, ...] = ()
        if rating is not None:
            query += " WHERE rating = ?"
            params = (rating,)
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
        return [
            FeedbackItem(
                **{
                    **dict(row),
                    "refused": bool(row["refused"]),
                    "citations": json.loads(row["citations"]),
                }
            )
            for row in rows
        ]
