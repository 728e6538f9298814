"""The results as Markdown, JSON and a plot of retrieval latency against corpus size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODES = ("vector", "bm25", "hybrid")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured figure and whether it was met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, target: str, measured: Any, met: bool | None) -> None:
        rows.append({"name": name, "target": target, "measured": measured, "met": met})

    for key, label in (("starter", "starter KB"), ("synthetic", "synthetic corpus")):
        comparison = results["ingest"].get(key)
        if comparison:
            r = comparison["ratios"]
            add(
                f"ingest throughput vs raw embedder ({label}, {comparison['systems']['ours']['chunks']} chunks)",
                ">= 0.85",
                f"{r['ours_vs_raw_wall']} wall, {r['ours_vs_raw_cpu']} CPU",
                r["ours_vs_raw_wall"] >= 0.85,
            )
            add(
                f"no slower than the llama-index peer ({label}): chunks/s ours / peer",
                ">= 1",
                f"{r['ours_vs_peer_chunks_per_s']} wall, {r['ours_vs_peer_chunks_per_cpu_s']} CPU "
                f"(time for the corpus, peer / ours: {r['peer_time_over_ours_wall']} wall, "
                f"{r['peer_time_over_ours_cpu']} CPU)",
                r["ours_vs_peer_chunks_per_s"] >= 1.0,
            )
    for size, reingest in results.get("reingest", {}).items():
        add(
            f"re-ingest unchanged ({size} chunks)",
            "0 chunks embedded",
            f"{reingest['chunks_embedded']} embedded, {reingest['median_s']} s",
            reingest["chunks_embedded"] == 0,
        )
    embedded = results.get("retrieval", {}).get("embedded", {})
    for label, limit in (("10k", 50.0), ("100k", 150.0)):
        row = embedded.get(label)
        if row:
            p50 = row["latency"]["hybrid"]["p50_ms"]
            add(
                f"hybrid top-5 p50 at {row['latency']['passages']} chunks",
                f"< {limit:.0f} ms",
                f"{p50} ms",
                p50 < limit,
            )
    answer = results.get("answer")
    if answer:
        add(
            "answer: first token (median)",
            "<= 6 s",
            f"{answer['median_first_token_s']} s",
            answer["median_first_token_s"] <= 6,
        )
        add(
            "answer: total (median)",
            "<= 25 s",
            f"{answer['median_total_s']} s",
            answer["median_total_s"] <= 25,
        )
    team = results.get("team")
    if team:
        three = next(
            (r for r in team["runs"] if r["n"] == 3 and r["mode"] == "whole answers"), None
        )
        if three is not None:
            add(
                "3 askers at once: first answer done",
                "<= 1.2 x alone",
                f"{three['first_done_ratio']} x ({three['first_done_s']} s)",
                three["first_done_ratio"] <= 1.2,
            )
            add(
                "3 askers at once: last answer done",
                "<= 3.2 x mean alone",
                f"{three['last_done_ratio']} x ({three['last_done_s']} s)",
                three["last_done_ratio"] <= 3.2,
            )
            add(
                "3 askers at once: verified as when asked alone",
                "3 of 3",
                f"{three['verified_as_alone']} of 3",
                three["verified_as_alone"] == 3,
            )
    kit = results.get("kit")
    if kit:
        limit = 60 if kit["machine"]["avx512"] else 120
        add(
            f"interview kit, {kit['asked']} questions",
            f"<= {limit} s",
            f"{kit['kit_s']} s",
            kit["kit_s"] <= limit,
        )
        add(
            "interview kit: first question shown",
            "<= 10 s",
            f"{kit['first_question_s']} s",
            (kit["first_question_s"] or 1e9) <= 10,
        )
        add(
            "interview kit: attempts per question",
            "< 1.3",
            f"{kit['attempts_per_question']}",
            kit["attempts_per_question"] < 1.3,
        )
    concurrency = results.get("concurrency", {})
    for key, label in (
        ("threads", "20 concurrent retrievals"),
        ("live_ingest", "ingest while serving"),
    ):
        c = concurrency.get(key)
        if c:
            bad = (
                c["errors"] + c.get("torn_reads", 0) + c.get("results_differing_from_sequential", 0)
            )
            add(
                label,
                "no errors, no torn reads",
                f"{c['errors']} errors, {c.get('torn_reads', c.get('results_differing_from_sequential'))} torn/differing",
                bad == 0,
            )
    add(
        "whole run",
        "<= 15 min",
        f"{results['total_seconds'] / 60:.1f} min",
        results["total_seconds"] <= 900,
    )
    return rows


def write_json(results: dict[str, Any], path: Path) -> None:
    """The full results."""
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _ingest_table(comparison: dict[str, Any]) -> list[str]:
    lines = [
        "| system | chunks | tokens | wall s | CPU s | chunks/s | chunks/CPU-s | tokens/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system, s in comparison["systems"].items():
        lines.append(
            f"| {system} | {s['chunks']} | {s['tokens']} | {s['wall_s']} | {s['cpu_s']} | "
            f"{s['chunks_per_s']} | {s['chunks_per_cpu_s']} | {s['tokens_per_s']} |"
        )
    r = comparison["ratios"]
    lines += [
        "",
        f"ours / raw: **{r['ours_vs_raw_wall']}** (wall), {r['ours_vs_raw_cpu']} (CPU) · "
        f"chunks/s ours / peer: **{r['ours_vs_peer_chunks_per_s']}** (wall), "
        f"{r['ours_vs_peer_chunks_per_cpu_s']} (CPU) · "
        f"peer time / ours: {r['peer_time_over_ours_wall']} (wall), "
        f"{r['peer_time_over_ours_cpu']} (CPU) · ours / peer tokens/s: "
        f"{r['ours_vs_peer_tokens_per_s']} · median of {comparison['repeats']} round(s)",
    ]
    return lines


def write_markdown(results: dict[str, Any], path: Path, plot_name: str) -> None:
    """The human-readable table of every figure, targets first."""
    m = results["machine"]
    load = results["load_average"]
    lines = [
        "# Lodestar benchmarks",
        "",
        f"`{results['command']}` · {results['generated']} · {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB · load average (1/5/15 min) {load['start']} at the start, "
        f"{load['end']} at the end · whole run {results['total_seconds'] / 60:.1f} min",
        "",
    ]
    lines += [f"> {note}" for note in results["notes"]]
    lines += ["", "## Targets", "", "| what | target | measured | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "-"}[t["met"]]
        lines.append(f"| {t['name']} | {t['target']} | {t['measured']} | {met} |")

    ingest = results["ingest"]
    lines += ["", "## Ingest throughput", ""]
    for key in ("starter", "synthetic"):
        if ingest.get(key):
            lines += [f"### {ingest[key]['corpus']}", "", *_ingest_table(ingest[key]), ""]
    if ingest.get("at_scale"):
        s = ingest["at_scale"]
        lines += [
            f"### {s['chunks']} chunks: everything but the model (vectors replayed, see notes)",
            "",
            "| system | wall s | CPU s | s per 1k chunks |",
            "|---|---|---|---|",
            f"| ours | {s['ours']['wall_s']} | {s['ours']['cpu_s']} | {s['ours']['per_1k_s']} |",
            f"| peer | {s['peer']['wall_s']} | {s['peer']['cpu_s']} | {s['peer']['per_1k_s']} |",
            "",
            f"Raw embedding of {s['chunks']} chunks at the measured raw rate "
            f"({s['raw_chunks_per_s']} chunks/s) would take {s['raw_projected_s']} s, so ours "
            f"would keep **{s['ours_vs_raw_projected']}** of the raw rate and the peer "
            f"{s['peer_vs_raw_projected']}.",
            "",
        ]
    if results.get("reingest"):
        lines += [
            "## Re-ingest of an unchanged corpus",
            "",
            "| chunks | median s | runs | chunks embedded |",
            "|---|---|---|---|",
        ]
        for size, r in results["reingest"].items():
            lines.append(f"| {size} | {r['median_s']} | {r['runs_s']} | {r['chunks_embedded']} |")
        lines.append("")

    lines += ["## Retrieval latency (top-5, ms)", "", f"![retrieval latency]({plot_name})", ""]
    for where, rows in results.get("retrieval", {}).items():
        if not rows:
            continue
        lines += [
            f"### {where}",
            "",
            "| chunks | vector p50 / p95 | BM25 p50 / p95 | hybrid p50 / p95 | question embedding p50 | embedder load | first query (loads or builds BM25) | query process peak RSS |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows.values():
            lat = row["latency"]
            cells = [f"{lat[mode]['p50_ms']} / {lat[mode]['p95_ms']}" for mode in MODES]
            lines.append(
                f"| {lat['passages']} | {' | '.join(cells)} | {lat['embed']['p50_ms']} | "
                f"{lat['model_load_ms']} ms | {lat['first_query_ms']} ms | {row['peak_rss_mb']} MB |"
            )
        lines.append("")
    large = results.get("large_index")
    if large:
        lines += [
            f"The {large['passages']}-chunk index: {large['added']} derived passages added to a "
            f"copy of the smaller index in {large['chroma_add_s']} s, BM25 built in "
            f"{large['bm25_build_s']} s.",
            "",
        ]
    mem = results.get("memory", {})
    if mem:
        lines += ["## Memory (peak RSS)", ""]
        lines += [f"- {name}: {value} MB" for name, value in mem.items()]
        lines.append("")
    conc = results.get("concurrency", {})
    if conc.get("threads"):
        c = conc["threads"]
        lat = c["concurrent_latency"] or {}
        lines += [
            "## Concurrency",
            "",
            f"**{c['threads']} concurrent ask-style retrievals** ({c['queries']} questions, "
            f"{c['passages']} chunks, embedded): {c['concurrent_qps']} questions/s "
            f"(one at a time: {c['sequential_qps']}/s), latency p50 {lat.get('p50_ms')} ms / "
            f"p95 {lat.get('p95_ms')} ms; {c['errors']} errors, "
            f"{c['results_differing_from_sequential']} results differing from the sequential run.",
            "",
        ]
    if conc.get("live_ingest"):
        c = conc["live_ingest"]
        lines += [
            f"**Ingest while serving** (Chroma server, {c['threads']} reader threads on a "
            f"query-only data dir, `lodestar ingest` in another process changing "
            f"{c['revision']['changed']}, deleting {c['revision']['deleted']} and adding "
            f"{c['revision']['added']} documents: {c['chunks_embedded']} chunks embedded in "
            f"{c['ingest_s']} s, process {c['ingest_process_s']} s): {c['queries']} questions, "
            f"{c['errors']} errors, {c['torn_reads']} torn reads among {c['passages_checked']} "
            f"passages returned; readers see the revision after the ingest: "
            f"{c['reader_sees_revision_after_ingest']}.",
            "",
            "| window | seconds | questions | questions/s | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|",
        ]
        for name, w in c["throughput"].items():
            lat = w["latency"] or {}
            lines.append(
                f"| {name} | {w['seconds']} | {w['queries']} | {w['qps']} | {lat.get('p50_ms')} | {lat.get('p95_ms')} |"
            )
        lines.append("")
    answer = results.get("answer")
    if answer:
        lines += [
            "## Answer latency (bundled model)",
            "",
            f"{answer['model']} · model load {answer['model_load_s']} s · peak RSS "
            f"{answer['peak_rss_mb']} MB · medians over {len(answer['questions'])} questions: "
            f"first token {answer['median_first_token_s']} s, total {answer['median_total_s']} s, "
            f"{answer['median_tokens_per_s']} tokens/s (details: answer_latency.md)",
            "",
        ]
    kit = results.get("kit")
    if kit:
        lines += [
            "## Interview-kit latency (bundled model)",
            "",
            f"{kit['role']}, {kit['level']}: {kit['made']} of {kit['asked']} questions in "
            f"{kit['kit_s']} s, first shown after {kit['first_question_s']} s, "
            f"{kit['attempts_per_question']} attempts per question; figures or names absent from "
            f"their source: {len(kit['ungrounded_terms'])} (details: kit_latency.md)",
            "",
        ]
    if results.get("team"):
        lines += [
            "## Several askers at once (bundled model)",
            "",
            "Whole answers in arrival order against call-by-call turns, 1 to 4 askers, "
            "in one run (details: team_latency.md)",
            "",
        ]
    if results.get("phase_seconds"):
        lines += ["## Where the run's time went", "", "| phase | seconds |", "|---|---|"]
        lines += [f"| {name} | {secs} |" for name, secs in results["phase_seconds"].items()]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plot(results: dict[str, Any], path: Path) -> bool:
    """Retrieval p50 (lines) and p95 (dashed) against corpus size; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups = {k: v for k, v in results.get("retrieval", {}).items() if v}
    fig, axes = plt.subplots(
        1, len(groups), figsize=(6 * len(groups), 4.5), sharey=True, squeeze=False
    )
    colors = {"vector": "tab:blue", "bm25": "tab:orange", "hybrid": "tab:green"}
    for ax, (where, rows) in zip(axes[0], groups.items(), strict=True):
        sizes = [row["latency"]["passages"] for row in rows.values()]
        for mode in MODES:
            p50 = [row["latency"][mode]["p50_ms"] for row in rows.values()]
            p95 = [row["latency"][mode]["p95_ms"] for row in rows.values()]
            ax.plot(sizes, p50, "o-", color=colors[mode], label=f"{mode} p50")
            ax.plot(sizes, p95, "--", color=colors[mode], alpha=0.6, label=f"{mode} p95")
        if where == "embedded":
            ax.plot([1e4, 1e5], [50, 150], "k*", markersize=10, label="hybrid p50 targets")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks in the index")
        ax.set_title(f"{where} Chroma")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("top-5 retrieval latency (ms)")
    axes[0][-1].legend(fontsize=8)
    m = results["machine"]
    fig.suptitle(f"Lodestar retrieval latency · {m['cores']} cores · {results['generated'][:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
