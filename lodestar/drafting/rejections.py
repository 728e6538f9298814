"""Why a drafted reply is not used: what the next attempt is told and what a reader is shown."""

from __future__ import annotations


class Rejected(Exception):
    """A reply that is not usable. `str()` is what the next attempt is told: the `problem`, and
    the `instruction` after it when there is one; `problem` alone is what a person reading a
    kit's notes is shown."""

    def __init__(self, problem: str, instruction: str = "") -> None:
        super().__init__(f"{problem}; {instruction}" if instruction else problem)
        self.problem = problem


class FinalRejection(Rejected):
    """A rejection that ends the attempts: written again, the reply would come back the same."""
