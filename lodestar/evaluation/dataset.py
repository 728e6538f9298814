"""The evaluation's versioned inputs in eval/: golden cases, judge calibration items, controls.

Each file is JSONL, one record a line, validated with pydantic when read; a bad line is reported
with its file and line number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from lodestar.core.errors import ConfigurationError
from lodestar.core.settings import get_settings

# The eval/ folder of the source checkout this package runs from (absent from an installed wheel).
CHECKOUT_EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"


def eval_dir() -> Path:
    """The eval folder: LODESTAR_EVAL__DIR, or the checkout's eval/; an error when missing."""
    configured = get_settings().eval.dir
    folder = configured.expanduser() if configured is not None else CHECKOUT_EVAL_DIR
    if not folder.is_dir():
        raise ConfigurationError(
            f"no eval folder at {folder} (it holds the golden set, suites and thresholds)",
            hint="run from a Lodestar source checkout, or set LODESTAR_EVAL__DIR to an eval "
            "folder such as the checkout's eval/",
        )
    return folder


Category = Literal[
    "factual", "advice", "multi_doc", "comparison", "interview", "unanswerable", "adversarial"
]


class GoldenCase(BaseModel):
    """One question with what a correct answer must contain (the `eval/golden.jsonl` schema)."""

    id: str
    category: Category
    question: str
    reference_answer: str
    reference_doc_ids: list[str] = Field(default_factory=list)
    reference_contexts: list[str] = Field(default_factory=list)
    key_facts: list[str] = Field(default_factory=list)
    must_refuse: bool = False


class CalibrationItem(BaseModel):
    """A statement, a context and a person's verdict: is the statement supported by the context?"""

    id: str
    context: str
    statement: str
    supported: bool
    kind: str
    note: str = ""
    split: Literal["dev", "test"] = "dev"


class AnswerabilityQuestion(BaseModel):
    """A question and whether the knowledge base answers it (`eval/answerability.jsonl`)."""

    id: str
    question: str
    answerable: bool
    kind: str
    doc_ids: list[str] = Field(default_factory=list)
    evidence: str = ""
    split: Literal["dev", "test"]
    note: str = ""

    def as_item(self) -> CalibrationItem:
        """As a calibration item, so the same report measures it."""
        return CalibrationItem(
            id=self.id,
            context="",
            statement=self.question,
            supported=self.answerable,
            kind=self.kind,
            split=self.split,
        )


class ControlAnswer(BaseModel):
    """A planted answer with known (un)faithfulness, scored every run to prove the gate can fail."""

    id: str
    question: str
    contexts: list[str]
    answer: str
    expected: Literal["faithful", "unfaithful"]
    fabricated: list[str] = Field(default_factory=list)
    note: str = ""


Record = TypeVar("Record", bound=BaseModel)


def read_jsonl(path: Path, model: type[Record]) -> list[Record]:
    """Parse and validate every line of `path`; the first bad line is a ConfigurationError."""
    if not path.is_file():
        raise ConfigurationError(f"evaluation file {path} does not exist")
    records: list[Record] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigurationError(
                f"{path}:{number}: not a valid {model.__name__}: {exc}".splitlines()[0]
            ) from exc
    ids = [getattr(r, "id", None) for r in records]
    duplicates = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if duplicates:
        raise ConfigurationError(f"{path}: duplicate ids {duplicates}")
    return records


def load_golden(path: Path | None = None) -> list[GoldenCase]:
    """The golden dataset (default `eval/golden.jsonl`)."""
    return read_jsonl(path or eval_dir() / "golden.jsonl", GoldenCase)


def load_calibration(path: Path | None = None) -> list[CalibrationItem]:
    """The judge calibration set (default `eval/judge_calibration.jsonl`)."""
    return read_jsonl(path or eval_dir() / "judge_calibration.jsonl", CalibrationItem)


def load_answerability(path: Path | None = None) -> list[AnswerabilityQuestion]:
    """The answerability calibration questions (default `eval/answerability.jsonl`)."""
    return read_jsonl(path or eval_dir() / "answerability.jsonl", AnswerabilityQuestion)


def load_controls(path: Path | None = None) -> list[ControlAnswer]:
    """The planted control answers (default `eval/controls.jsonl`)."""
    return read_jsonl(path or eval_dir() / "controls.jsonl", ControlAnswer)


def normalize_text(text: str) -> str:
    """Lower case, one kind of dash and quote, whitespace collapsed: for containment checks."""
    text = text.lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def contains_fact(text: str, fact: str) -> bool:
    """Whether `fact` appears in `text`, tolerant of case, dashes, spacing around dashes and
    thousands separators ("5 - 20" and "5-20", "$172150" and "$172,150")."""

    def squeeze(value: str) -> str:
        value = normalize_text(value)
        value = re.sub(r"\s*-\s*", "-", value)
        return re.sub(r"(?<=\d),(?=\d{3})", "", value)

    return squeeze(fact) in squeeze(text)
