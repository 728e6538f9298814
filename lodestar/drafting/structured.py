"""Replies generated under a JSON schema: the schema as the backend takes it, and parsing.

Interview kits and the level guide both ask the model for small JSON objects; a reply that does
not parse or validate becomes `Rejected`, whose message is what the next attempt is told.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from lodestar.core.errors import LodestarError
from lodestar.drafting.rejections import Rejected

if TYPE_CHECKING:
    from lodestar.core.settings import LLMSettings

_Draft = TypeVar("_Draft", bound=BaseModel)


def parse_reply(model: type[_Draft], reply: str) -> _Draft:
    """The reply validated against `model`, or Rejected saying what was wrong."""
    try:
        return model.model_validate(json.loads(reply))
    except json.JSONDecodeError as exc:
        raise Rejected("the reply was not JSON.") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Rejected(f"{where}: {first['msg']}.") from exc


def response_format(llm: LLMSettings, model: type[BaseModel], name: str) -> dict[str, Any]:
    """The JSON schema the reply is generated under (llama.cpp grammar or OpenAI json_schema)."""
    schema = model.model_json_schema()
    for prop in schema["properties"].values():
        # maxLength becomes a deeply nested llama.cpp grammar; max_tokens bounds the reply instead.
        prop.pop("maxLength", None)
    if llm.backend == "openai":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False},
        }
    if llm.backend == "local":
        check_grammar(json.dumps(schema, sort_keys=True))
    return {"type": "json_object", "schema": schema}


@functools.lru_cache(maxsize=64)
def check_grammar(schema: str) -> None:
    """Raise when llama.cpp's converter cannot turn `schema` into a grammar.

    llama-cpp-python falls back to a grammar for any JSON when the conversion fails, without a
    word: a pattern it does not support (a `(?:…)` group, say) would silently leave the reply
    unconstrained.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        json_schema_to_gbnf(schema)
    except Exception as exc:
        raise LodestarError(
            f"the reply schema cannot be turned into a llama.cpp grammar: {exc}"
        ) from exc
