"""Level-guide build and cache-hit time with the bundled model, and how many cells came out
"not described".

    .venv/bin/python bench/levels_latency.py [--data-dir DIR] [--out DIR]

Ingests knowledge/ into DIR if it is empty, drops DIR's cached level-guide cells, loads both
models (reported apart), builds the whole guide (every area × level the documents describe),
then reads it again as `lodestar levels` does after a build: from the cache, with no model call.
Writes levels_latency.{json,md} and the guide itself (levels_latency_guide.md) to bench/results/
(or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    """Run the benchmark and write the results."""
    from bench.answer_latency import peak_rss_mb
    from bench.kit_latency import machine
    from ingest.pipeline import ingest_paths
    from lodestar.components.services import Services
    from lodestar.core.offline import configure_offline_environment
    from lodestar.core.settings import get_settings
    from lodestar.levels import LevelGuideBuilder, ungrounded_cell_terms

    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".lodestar"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)
    settings = get_settings().with_dirs(args.data_dir)
    services = Services(settings)
    if not services.paths.manifest.exists():
        ingest_paths([settings.knowledge_dir], services)
    shutil.rmtree(services.paths.levels, ignore_errors=True)

    started = time.perf_counter()
    services.embed_model  # noqa: B018 - load both models outside the timed build
    services.llm  # noqa: B018
    load_s = time.perf_counter() - started

    wall, cpu = time.perf_counter(), time.process_time()
    builder = LevelGuideBuilder(services)
    to_write = len(builder.pending)
    first_cell_s = None
    for _ in builder:
        first_cell_s = first_cell_s or round(time.perf_counter() - wall, 2)
    guide = builder.guide
    build_s = round(time.perf_counter() - wall, 2)
    cpu_share = (time.process_time() - cpu) / max(1e-9, build_s) / (os.cpu_count() or 1)

    hit = time.perf_counter()
    cached = LevelGuideBuilder(services)
    cache_hit_s = round(time.perf_counter() - hit, 3)
    assert not cached.pending, "every cell should come from the cache"
    same = [c.text for c in cached.guide.cells] == [c.text for c in guide.cells]
    assert same, "the cached guide differs from the one built"

    cells = guide.cells
    written = [c for c in cells if c.attempts]
    summary: dict[str, Any] = {
        "machine": machine(load_before),
        "model": services.llm_id,
        "model_load_s": round(load_s, 2),
        "areas": len(guide.rows),
        "levels": guide.levels,
        "cells": len(cells),
        "cells_written": to_write,
        "build_s": build_s,
        "first_cell_s": first_cell_s,
        "seconds_per_cell": round(build_s / max(1, to_write), 2),
        "attempts_per_cell": round(sum(c.attempts for c in written) / max(1, len(written)), 2),
        "not_described": guide.not_described,
        "quoted": guide.quoted,
        "not_described_cells": cells_where(guide, lambda cell: not cell.described),
        "quoted_cells": cells_where(guide, lambda cell: cell.quoted),
        "ungrounded_terms": [t for c in cells for t in ungrounded_cell_terms(c)],
        "cache_hit_s": cache_hit_s,
        "cpu_share": round(cpu_share, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "levels_latency.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "levels_latency_guide.md").write_text(guide.to_markdown())
    cpu_kind = "AVX-512" if summary["machine"]["avx512"] else "AVX2 or older"
    lines = [
        "# Level-guide build and cache time (bundled model)",
        "",
        f"{summary['machine']['cores']} cores ({summary['machine']['cpu']}, {cpu_kind}) · "
        f"{summary['model']} · model load {summary['model_load_s']} s · peak RSS "
        f"{summary['peak_rss_mb']} MB · load average {load_before} before, "
        f"{summary['load_average_after']} after · CPU share {summary['cpu_share']}",
        "",
        f"Guide: {summary['areas']} areas × {len(guide.levels)} levels = {summary['cells']} "
        f"cells, {to_write} written by the model.",
        "",
        f"- build: **{build_s} s** ({summary['seconds_per_cell']} s per cell, first cell after "
        f"{first_cell_s} s, {summary['attempts_per_cell']} attempts per cell)",
        f"- cache hit (the same guide again, as after an ingest): **{cache_hit_s} s**",
        f'- cells "not described": **{guide.not_described}** of {summary["cells"]}; '
        f"quoted from the document because no written cell held up: {guide.quoted}",
        f"- figures or names absent from a cell's passage: {len(summary['ungrounded_terms'])} "
        "(must be 0)",
    ]
    for item in summary["not_described_cells"] + summary["quoted_cells"]:
        lines.append(f"  - {item['area']} ({item['level']}): {item['reason']}")
    (out / "levels_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def cells_where(guide: Any, keep: Any) -> list[dict[str, str]]:
    """Area, level and reason of each cell of the guide that `keep` picks."""
    return [
        {"area": row.name, "level": level, "reason": row.cells[level].reason}
        for row in guide.rows
        for level in guide.levels
        if keep(row.cells[level])
    ]


if __name__ == "__main__":
    main()
