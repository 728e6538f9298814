"""`lodestar serve-model`: the bundled model behind llama-cpp-python's OpenAI-compatible server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lodestar.components.llm.factory import LOCAL_MODEL_NAME, local_model_path
from lodestar.components.llm.llama_runtime import N_BATCH, default_threads
from lodestar.core.errors import ConfigurationError

if TYPE_CHECKING:
    from lodestar.core.settings import Settings

# The name clients ask for (LODESTAR_LLM__MODEL for the openai_like backend).
SERVED_MODEL_ALIAS = LOCAL_MODEL_NAME


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Run the server in the foreground until interrupted."""
    try:
        import uvicorn
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise ConfigurationError(
            "serve-model needs llama-cpp-python with its server extra",
            hint="run scripts/bootstrap.py, or pip install 'llama-cpp-python[server]'",
        ) from exc
    threads = settings.llm.threads or default_threads()
    # Same load options as the in-process backend (lodestar.components.llm.llama_runtime.load_llama).
    model = ModelSettings(
        model=str(local_model_path(settings)),
        model_alias=SERVED_MODEL_ALIAS,
        n_ctx=settings.llm.context_window,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=N_BATCH,
        seed=settings.llm.seed,
        verbose=False,
    )
    # One request at a time; one arriving while an answer streams waits instead of cutting it
    # short (the library default interrupts it: two people would get truncated answers).
    served = ServerSettings(host=host, port=port, interrupt_requests=False)
    app = create_app(server_settings=served, model_settings=[model])
    print(f"serving {SERVED_MODEL_ALIAS} at http://{host}:{port}/v1", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
