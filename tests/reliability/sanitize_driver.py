"""Call every public kernel of tilekernels on small ragged shapes, reaching every catalogue variant the GPU can run.

Run under compute-sanitizer by ci/run_sanitizers.sh (or alone: `python3 tests/reliability/sanitize_driver.py`).
There is no hook to force a variant, so each one is reached by shape: `tilekernels.kernels()` gives the GEMM rows in
preference order (dtype, layout, max_m, tile), the dispatch rule takes the first matching usable row, so a row is
reachable with M above the max_m of the rows preferred before it and at most its own max_m. Shapes are ragged around
the row's tile (M, N and K not multiples of the tile; N and K multiples of 8, the API's alignment rule).
References are computed on the CPU, so the only CUDA kernels under the sanitizer are tilekernels' and torch's fills.

Prints one line per variant and a summary; exits 1 when a result is wrong or a call fails, 0 otherwise.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

TOLERANCE = 1e-2


def _err(out: Any, ref: Any) -> float:
    out = out.detach().float().cpu()
    if ref.numel() == 0:
        return 0.0 if tuple(out.shape) == tuple(ref.shape) else float("inf")
    return float((out - ref).norm() / ref.norm().clamp_min(1e-6))


def gemm_rows(tk: Any) -> list[dict]:
    rows = [k for k in tk.kernels() if k.get("family") == "gemm"]
    return sorted(rows, key=lambda r: r.get("preference", 0))


def reachable_m(row: dict, rows: list[dict], usable: set[str]) -> tuple[int, float] | str:
    """The M range that dispatches to `row` on this device (with gemm_shapes' K: at least the row's min_k, and below
    16 * 1024 + that otherwise), or why none does."""
    if row["name"] not in usable:
        return "not runnable on this GPU"
    lo = 1
    for prev in rows:
        if prev is row:
            break
        if (prev["dtype"], prev["trans_b"]) != (row["dtype"], row["trans_b"]) or prev["name"] not in usable:
            continue
        if prev.get("min_k", 0) > row.get("min_k", 0):
            continue  # needs a longer K than this row's shapes have
        if not prev["max_m"]:
            return f"shadowed by {prev['name']} (preferred, any M)"
        lo = max(lo, prev["max_m"] + 1)
    hi = row["max_m"] or math.inf
    return (lo, hi) if lo <= hi else f"shadowed for every M by rows preferred before it (M <= {lo - 1})"


def gemm_shapes(row: dict, lo: int, hi: float, quick: bool) -> list[tuple[int, int, int]]:
    bm, bn, bk = row["block"]
    k0 = row.get("min_k", 0)  # a long-K row: K from its min_k on, still ragged
    ms = sorted({m for m in (lo, bm - 1, bm + 3, 2 * bm + 5, lo + 1) if lo <= m <= hi and m >= 1})
    nk = [(bn + 8, k0 + 3 * bk + 8), (8, k0 + 8)] + ([] if quick else [(2 * bn - 8, k0 + (bk - 8 if bk > 8 else 16))])
    shapes = [(m, n, k) for m in ms[: 2 if quick else 4] for n, k in nk]
    return shapes


def run_gemm(tk: Any, torch: Any, quick: bool, only: str | None) -> tuple[list[str], int, int]:
    usable = set(tk.device_info()["usable_kernels"])
    rows = gemm_rows(tk)
    lines, bad, calls = [], 0, 0
    for row in rows:
        if only and only not in row["name"]:
            continue
        where = reachable_m(row, rows, usable)
        if isinstance(where, str):
            lines.append(f"  skip  {row['name']}: {where}")
            continue
        dtype = getattr(torch, row["dtype"])
        worst, failures = 0.0, []
        for m, n, k in gemm_shapes(row, *where, quick):
            cpu_a = torch.randn(m, k, dtype=dtype)
            cpu_b = torch.randn(n, k, dtype=dtype) if row["trans_b"] else torch.randn(k, n, dtype=dtype)
            ref = cpu_a.float() @ (cpu_b.float().T if row["trans_b"] else cpu_b.float())
            a = cpu_a.cuda()
            b = cpu_b.cuda().T if row["trans_b"] else cpu_b.cuda()
            for with_out in (False, True):
                calls += 1
                try:
                    if with_out:
                        out = torch.full((m, n), float("nan"), dtype=dtype, device="cuda")
                        tk.gemm(a, b, out=out)
                    else:
                        out = tk.gemm(a, b)
                    torch.cuda.synchronize()
                    e = _err(out, ref)
                except Exception as ex:  # noqa: BLE001 - reported per variant
                    failures.append(f"{m}x{n}x{k}: {type(ex).__name__}: {str(ex)[:200]}")
                    continue
                worst = max(worst, e) if e == e else math.inf
                if not e <= TOLERANCE:
                    failures.append(f"{m}x{n}x{k}{' out=' if with_out else ''}: relative error {e:.3g}")
        bad += bool(failures)
        status = "FAIL" if failures else "ok  "
        lines.append(f"  {status}  {row['name']}: M in [{where[0]}, {where[1]}], worst relative error {worst:.2e}"
                     + "".join(f"\n          {f}" for f in failures[:5]))
    return lines, bad, calls


def run_attention(tk: Any, torch: Any, quick: bool) -> tuple[list[str], int, int]:
    if not hasattr(tk, "flash_attn"):
        return ["  skip  flash_attn: not in this tilekernels yet"], 0, 0
    lines, bad, calls = [], 0, 0
    dims = (64, 128) if quick else (64, 128, 256)
    # past 2048 and 8192 keys the groups' later rows take over (TileConfig.max_seqlen_k): cover them too
    seqs = [(1, 1), (77, 77), (130, 200), (40, 2100)] if quick else \
        [(1, 1), (77, 77), (130, 200), (200, 130), (257, 257), (40, 2100), (33, 8300)]
    for dtype in (torch.float16, torch.bfloat16):
        for d in dims:
            for causal in (False, True):
                for hkv in (4, 1):
                    worst, failures = 0.0, []
                    for sq, sk in seqs:
                        q = torch.randn(2, sq, 4, d, dtype=dtype)
                        k = torch.randn(2, sk, hkv, d, dtype=dtype)
                        v = torch.randn(2, sk, hkv, d, dtype=dtype)
                        qf, kf, vf = (x.float().transpose(1, 2) for x in (q, k, v))
                        kf, vf = kf.repeat_interleave(4 // hkv, 1), vf.repeat_interleave(4 // hkv, 1)
                        s = (qf @ kf.transpose(-1, -2)) / math.sqrt(d)
                        if causal:
                            i, j = torch.arange(sq)[:, None], torch.arange(sk)[None, :]
                            s = s.masked_fill(j > i + (sk - sq), float("-inf"))
                        ref = (torch.nan_to_num(torch.softmax(s, -1)) @ vf).transpose(1, 2)
                        calls += 1
                        try:
                            out = tk.flash_attn(q.cuda(), k.cuda(), v.cuda(), causal=causal)
                            out = out[0] if isinstance(out, tuple) else out
                            torch.cuda.synchronize()
                            e = _err(out, ref)
                        except Exception as ex:  # noqa: BLE001
                            failures.append(f"S={sq}x{sk}: {type(ex).__name__}: {str(ex)[:200]}")
                            continue
                        worst = max(worst, e) if e == e else math.inf
                        if not e <= TOLERANCE:
                            failures.append(f"S={sq}x{sk}: relative error {e:.3g}")
                    bad += bool(failures)
                    name = f"flash_attn {str(dtype)[6:]} d={d} {'causal' if causal else 'full'} hkv={hkv}"
                    lines.append(f"  {'FAIL' if failures else 'ok  '}  {name}: worst relative error {worst:.2e}"
                                 + "".join(f"\n          {f}" for f in failures[:5]))
    return lines, bad, calls


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer shapes per variant (racecheck is slow)")
    ap.add_argument("--only", default=None, help="only GEMM variants whose name contains this")
    ap.add_argument("--list", action="store_true", help="print the variants and the M range reaching each, run none")
    args = ap.parse_args(argv)

    import tilekernels as tk
    import torch

    if args.list:
        rows, usable = gemm_rows(tk), set(tk.device_info()["usable_kernels"])
        for row in rows:
            print(row["name"], reachable_m(row, rows, usable))
        return 0
    t0 = time.time()
    torch.manual_seed(0)
    g_lines, g_bad, g_calls = run_gemm(tk, torch, args.quick, args.only)
    a_lines, a_bad, a_calls = run_attention(tk, torch, args.quick) if not args.only else ([], 0, 0)
    print("tilekernels sanitize driver:", torch.cuda.get_device_name())
    print("gemm:", *g_lines, sep="\n")
    print("attention:", *a_lines, sep="\n")
    ran = sum(1 for ln in g_lines + a_lines if not ln.lstrip().startswith("skip"))
    skipped = sum(1 for ln in g_lines + a_lines if ln.lstrip().startswith("skip"))
    print(f"driver summary: {ran} variants/configurations run ({skipped} skipped), {g_calls + a_calls} calls, "
          f"{g_bad + a_bad} failing, {time.time() - t0:.1f} s")
    return 1 if g_bad + a_bad else 0


if __name__ == "__main__":
    sys.exit(main())
