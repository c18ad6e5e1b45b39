"""Render a results JSON (from `bench.run_suite` or `pytest bench --bench-json`) as a markdown table and a bar chart.

Usage: python3 -m bench.render bench/results/2026-11-23-h100-80gb-hbm3.json   # writes .md and .png beside it
Runs on the CPU machine (matplotlib only: bench/requirements.txt); without matplotlib only the .md is written.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from collections import defaultdict
from typing import Any

REFERENCE_PEER = {"gemm": "cublas", "attention": "sdpa_cudnn"}
OURS = "tilekernels"
ORDER = {"gemm": ["tilekernels", "cublas", "triton", "tilelang"],
         "attention": ["tilekernels", "sdpa_cudnn", "sdpa_flash", "tilelang"]}
TITLES = {"gemm": "GEMM (TFLOP/s; memory-bound rows M ≤ 128 in TB/s of operands)",
          "attention": "FlashAttention forward (TFLOP/s)"}


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def _cell(r: dict | None, memory_bound: bool) -> str:
    if r is None:
        return ""
    if r["status"] != "ok":
        return {"skipped": "–", "error": "**error**", "wrong": "**wrong**"}.get(r["status"], r["status"])
    if memory_bound:
        return f"{r['gbps'] / 1e3:.3g} TB/s ({r['ms']:.4g} ms)"
    return f"{r['tflops']:.0f} ({r['ms']:.4g} ms)" if r["tflops"] >= 100 else f"{r['tflops']:.3g} ({r['ms']:.4g} ms)"


def _impls(family: str, rows: list[dict]) -> list[str]:
    seen = {r["impl"] for r in rows if r["family"] == family}
    return [i for i in ORDER.get(family, [])] + sorted(seen - set(ORDER.get(family, [])))


def _memory_bound(r: dict) -> bool:
    return r["family"] == "gemm" and r["case"].get("m", 1 << 30) <= 128


def summary(doc: dict) -> dict[str, Any]:
    """Geometric mean and minimum of tilekernels ÷ reference peer, per family and dtype."""
    out: dict[str, Any] = {}
    ratios = defaultdict(list)
    rows = {(r["key"], r["impl"]): r for r in doc["rows"]}
    for x in doc.get("ratios", []):
        if x["impl"] == OURS and x["peer"] == REFERENCE_PEER.get(x["family"]):
            dtype = rows[(x["key"], OURS)]["case"]["dtype"]
            ratios[(x["family"], dtype)].append((x["ratio"], x["key"]))
    for (family, dtype), rs in sorted(ratios.items()):
        worst = min(rs)
        out[f"{family}/{dtype}"] = dict(peer=REFERENCE_PEER[family], n=len(rs), geomean=geomean([r for r, _ in rs]),
                                        min=worst[0], min_case=worst[1])
    return out


def markdown(doc: dict) -> str:
    env = doc.get("environment", {})
    git = env.get("git", {})
    lines = [f"# tilekernels benchmarks — {env.get('device', '?')}, {env.get('date', '?')}", ""]
    lines.append(f"Driver {env.get('driver', '?')} (CUDA API {env.get('driver_cuda_api', '?')}), "
                 f"torch {env.get('torch')} (CUDA {env.get('torch_cuda')}, cuDNN {env.get('cudnn')}), "
                 f"triton {env.get('triton')}, tilelang {env.get('tilelang')}, tilekernels {env.get('tilekernels')}, "
                 f"commit `{(git.get('commit') or '?')[:12]}`{' (dirty tree)' if git.get('dirty') else ''}"
                 f"{f', wheel built from `{wheel[:12]}`' if (wheel := env.get('wheel_commit')) else ''}; "
                 f"set `{doc.get('set')}`, {doc.get('wall_s', 0):.0f} s. Times are medians of CUDA-event timings; "
                 "ratio = peer time ÷ tilekernels time (> 1: tilekernels faster), all from this one run.")
    lines.append("")
    s = summary(doc)
    if s:
        lines += ["| tilekernels vs | cases | geomean | min (case) |", "|---|---|---|---|"]
        for k, v in s.items():
            lines.append(f"| {v['peer']} — {k} | {v['n']} | {v['geomean']:.2f}× | {v['min']:.2f}× ({v['min_case']}) |")
        lines.append("")
    ratio_of = {(x["key"], x["impl"], x["peer"]): x["ratio"] for x in doc.get("ratios", [])}
    for family in ("gemm", "attention"):
        frows = [r for r in doc["rows"] if r["family"] == family]
        if not frows:
            continue
        impls = _impls(family, frows)
        ref = REFERENCE_PEER[family]
        by_key: dict[str, dict[str, dict]] = defaultdict(dict)
        for r in frows:
            by_key[r["key"]][r["impl"]] = r
        lines += [f"## {TITLES[family]}", ""]
        head = ["case"] + impls + [f"tilekernels ÷ {ref}"] + [f"tilekernels ÷ {p}" for p in impls
                                                             if p not in (OURS, ref)]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for key, impl_rows in by_key.items():
            mb = _memory_bound(next(iter(impl_rows.values())))
            cells = [key] + [_cell(impl_rows.get(i), mb) for i in impls]
            for p in [ref] + [p for p in impls if p not in (OURS, ref)]:
                r = ratio_of.get((key, OURS, p))
                cells.append(f"{r:.2f}×" if r is not None else "")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    notes = defaultdict(list)
    for r in doc["rows"]:
        if r["status"] != "ok" and r.get("note"):
            notes[(r["impl"], r["status"], r["note"])].append(r["key"])
    if notes:
        lines += ["## Not measured", ""]
        for (impl, status, note), keys in sorted(notes.items()):
            lines.append(f"* {impl} ({status}, {len(keys)} case{'s' if len(keys) > 1 else ''}): {note}")
        lines.append("")
    return "\n".join(lines)


def plot(doc: dict, path: str) -> bool:
    """Grouped bars: each implementation's speed relative to the family's reference peer (1.0 = the peer)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    families = [f for f in ("gemm", "attention") if any(r["family"] == f for r in doc["rows"])]
    if not families:
        return False
    ratio_of = {(x["key"], x["impl"], x["peer"]): x["ratio"] for x in doc.get("ratios", [])}
    fig, axes = plt.subplots(len(families), 1, figsize=(16, 5.5 * len(families)), squeeze=False)
    for ax, family in zip(axes[:, 0], families):
        ref = REFERENCE_PEER[family]
        keys = list(dict.fromkeys(r["key"] for r in doc["rows"] if r["family"] == family))
        impls = [i for i in _impls(family, doc["rows"]) if i != ref
                 and any((k, i, ref) in ratio_of for k in keys)]
        width = 0.8 / max(1, len(impls))
        for n, impl in enumerate(impls):
            xs = [i + (n - (len(impls) - 1) / 2) * width for i in range(len(keys))]
            ys = [ratio_of.get((k, impl, ref), 0.0) for k in keys]
            ax.bar(xs, ys, width, label=impl)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([k.split("-", 1)[1] for k in keys], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(f"speed ÷ {ref}")
        ax.set_title(f"{family}: speed relative to {ref} (same run; > 1 is faster)")
        ax.legend(fontsize=8)
    env = doc.get("environment", {})
    fig.suptitle(f"{env.get('device', '?')} — {env.get('date', '?')[:10]} — commit "
                 f"{(env.get('git', {}).get('commit') or '?')[:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(json_path: str) -> list[str]:
    with open(json_path) as f:
        doc = json.load(f)
    base = os.path.splitext(json_path)[0]
    with open(base + ".md", "w") as f:
        f.write(markdown(doc))
    written = [base + ".md"]
    if plot(doc, base + ".png"):
        written.append(base + ".png")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+")
    for p in ap.parse_args().json:
        for w in render(p):
            print("wrote", w)


if __name__ == "__main__":
    main()
