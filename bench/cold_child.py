"""Run the `lodestar` CLI of the build at argv[1] and mark when retrieval returns (stderr).

    python bench/cold_child.py ROOT ARGS...

Used by bench/cold_start.py for both today's code and a baseline commit: the marker is written
by a wrapper around `retrieve` (`lodestar.retrieval.hybrid`, or `lodestar.retrieval` in a baseline), installed before the CLI imports it.
"""

import sys

root, args = sys.argv[1], sys.argv[2:]
sys.path.insert(0, root)

# The build at ROOT, not the installed one; a baseline from before the package layout (issue 20)
# has `lodestar.retrieval` and `lodestar.cli` as modules.
try:
    import lodestar.retrieval.hybrid as retrieval  # noqa: E402
except ModuleNotFoundError:
    import lodestar.retrieval as retrieval  # type: ignore[no-redef]  # noqa: E402

_retrieve = retrieval.retrieve


def _marked(*a, **k):  # type: ignore[no-untyped-def]
    result = _retrieve(*a, **k)
    sys.stderr.write("\nBENCH-RETRIEVED\n")
    sys.stderr.flush()
    return result


retrieval.retrieve = _marked

try:
    from lodestar.cli.main import main  # noqa: E402
except ModuleNotFoundError:
    from lodestar.cli import main  # type: ignore[no-redef, attr-defined]  # noqa: E402

sys.argv = ["lodestar", *args]
main()
