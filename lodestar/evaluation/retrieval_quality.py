"""How often the passage that answers a question fits in the context the model reads.

A question counts as a hit when one passage holding all of its key strings (exact figures,
names) is among the passages packed into the answer budget (~800 tokens), in rank order, exactly
as the answer engine retrieves and packs them; the passage is checked as the model reads it
(numbered, with its "title › heading" line). Run:
`python -m lodestar.evaluation.retrieval_quality [--data-dir DIR] [--questions FILE]` on an index built
from knowledge/ or the raw seeds. eval/retrieval_questions.jsonl and retrieval_tuning_user.jsonl
(questions in a new lead's own words) hold the questions retrieval is tuned on;
eval/retrieval_heldout.jsonl holds questions written before tuning and never tuned on.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.answering.context import format_passage, pack_passages
from lodestar.evaluation.dataset import eval_dir
from lodestar.retrieval.hybrid import retrieve

if TYPE_CHECKING:
    from lodestar.components.services import Services

# The test sets, in the eval folder.
QUESTIONS = "retrieval_questions.jsonl"
TUNING_USER = "retrieval_tuning_user.jsonl"
HELDOUT = "retrieval_heldout.jsonl"


def question_file(name: str = QUESTIONS) -> Path:
    """A test set of the eval folder by name."""
    return eval_dir() / name


@dataclass
class QualityReport:
    """Hit rates overall and by question style, plus refusal counts and the misses."""

    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)
    wrongly_refused: list[str] = field(default_factory=list)
    out_of_scope_refused: int = 0
    out_of_scope_total: int = 0

    @property
    def hit_rate(self) -> float:
        """Share of answerable questions whose answer passage fits the budget."""
        total = sum(self.totals.values())
        return sum(self.hits.values()) / total if total else 0.0

    def rate(self, style: str) -> float:
        """Hit rate for one question style."""
        return self.hits[style] / self.totals[style] if self.totals[style] else 0.0


def load_questions(path: Path | None = None) -> list[dict[str, object]]:
    """The retrieval test set (default eval/retrieval_questions.jsonl)."""
    path = path or question_file()
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tiktoken_counter() -> object:
    """A tokenizer close to the local model's, without loading the model."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base")
    return lambda text: len(encoding.encode(text))


def measure(services: Services, budget: int = 800, questions: Path | None = None) -> QualityReport:
    """Run every question of a test set against the index behind `services`."""
    count = tiktoken_counter()
    report = QualityReport()
    for case in load_questions(questions):
        style = str(case["style"])
        result = retrieve(str(case["question"]), services, k=services.settings.answer.passages)
        if style == "out_of_scope":
            report.out_of_scope_total += 1
            report.out_of_scope_refused += int(not result.covered)
            continue
        report.totals[style] += 1
        if not result.covered:
            report.wrongly_refused.append(str(case["question"]))
        packed = pack_passages(result.passages, budget, count)  # type: ignore[arg-type]
        # Each passage as the model reads it, "[n] title › heading" line included.
        read = [format_passage(n, p) for n, p in enumerate(packed, start=1)]
        keys = [str(k) for k in case["keys"]]  # type: ignore[attr-defined]
        if any(all(key in text for key in keys) for text in read):
            report.hits[style] += 1
        else:
            report.misses.append(f"{case['id']}: {case['question']}")
    return report


def main() -> None:
    """Print the hit rates for the index in --data-dir."""
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings

    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--budget", type=int, default=800)
    parser.add_argument(
        "--questions", type=Path, help="a JSONL test set [default eval/retrieval_questions.jsonl]"
    )
    args = parser.parse_args()
    services = Services(get_settings().with_dirs(args.data_dir))
    report = measure(services, budget=args.budget, questions=args.questions)
    print(f"hit rate within {args.budget} tokens: {report.hit_rate:.3f}")
    for style in sorted(report.totals):
        print(f"  {style}: {report.hits[style]}/{report.totals[style]} = {report.rate(style):.3f}")
    print(f"out of scope refused: {report.out_of_scope_refused}/{report.out_of_scope_total}")
    for miss in report.misses:
        print(f"  miss {miss}")
    for question in report.wrongly_refused:
        print(f"  wrongly refused: {question}")


if __name__ == "__main__":
    main()
