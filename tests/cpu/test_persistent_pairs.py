"""T.annotate_persistent(pairs=True): a persistent block takes its tiles in pairs (x, gx - 1 - x) of the same y, z.

The generated tile loop is compiled with g++ and run on the host for many grids and launch sizes: every tile is
visited exactly once, a block's pairs are adjacent in its sequence, and for a cost growing linearly with x (causal
attention's query blocks) the per-block work is balanced. Also: bad annotations are errors, the attention kernel
asks for pairs only when causal, and its paired variants compile without spills.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import tilec
import tilec.language as T
from kernels.attention import flash_attn_fwd
from tilec.errors import TilecError

S = T.symbolic


def _copy_program(pairs: object, swizzle: bool = False):
    @T.prim_func
    def main(A: T.Tensor((S("gz"), S("gy"), S("gx"), 64), "float16"),
             B: T.Tensor((S("gz"), S("gy"), S("gx"), 64), "float16")):
        with T.Kernel(S("gx"), S("gy"), S("gz"), threads=128) as (bx, by, bz):
            if swizzle:
                T.use_swizzle(4)
            T.annotate_persistent(pairs=pairs)
            A_s = T.alloc_shared((1, 64), "float16")
            T.copy(A[bz, by, bx, 0:64], A_s)
            T.copy(A_s, B[bz, by, bx, 0:64])

    return main


def _loop_source() -> str:
    """The generated prologue and tile loop head (up to the block variables) of the paired copy kernel."""
    src = tilec.compile(_copy_program(True), target="sm_80").get_kernel_source()
    start = src.index("const int tl_gx")
    end = src.index("[[maybe_unused]] const int by = tl_xy / tl_gx;")
    return src[start:end + len("[[maybe_unused]] const int by = tl_xy / tl_gx;")]


HARNESS = r"""
#include <cstdio>
struct Dim { int x, y, z; };
int main(int argc, char** argv) {
  int gx, gy, gz, blocks;
  if (std::sscanf(argv[1], "%d,%d,%d,%d", &gx, &gy, &gz, &blocks) != 4) return 2;
  for (int b = 0; b < blocks; ++b) {
    Dim blockIdx{b, 0, 0}, gridDim{blocks, 1, 1};
    LOOP
      std::printf("%d %d %d %d\n", b, bx, by, bz);
    }
  }
  return 0;
}
"""


def _visits(tmp_path, gx: int, gy: int, gz: int, blocks: int, exe=[None]) -> list[tuple]:
    if exe[0] is None:
        cpp = tmp_path / "pairs.cpp"
        loop = _loop_source().replace("[[maybe_unused]] ", "")
        cpp.write_text(HARNESS.replace("LOOP", loop))
        exe[0] = str(tmp_path / "pairs")
        subprocess.run([shutil.which("g++") or "g++", "-O1", "-o", exe[0], str(cpp)], check=True)
    out = subprocess.run([exe[0], f"{gx},{gy},{gz},{blocks}"], check=True, capture_output=True, text=True).stdout
    return [tuple(map(int, line.split())) for line in out.splitlines()]


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("grid, blocks", [((8, 16, 16), 132), ((9, 32, 2), 132), ((11, 40, 2), 132),
                                          ((128, 16, 1), 132), ((7, 3, 1), 132), ((8, 16, 1), 64),
                                          ((1, 5, 3), 4), ((2, 1, 1), 1), ((5, 1, 1), 1), ((16, 9, 1), 72),
                                          ((11, 24, 1), 132), ((11, 25, 1), 20), ((3, 7, 1), 5)])
def test_every_tile_once_in_balanced_pairs(tmp_path, grid: tuple, blocks: int) -> None:
    gx, gy, gz = grid
    visits = _visits(tmp_path, gx, gy, gz, blocks)
    tiles = sorted((x, y, z) for _, x, y, z in visits)
    assert tiles == sorted((x, y, z) for x in range(gx) for y in range(gy) for z in range(gz))
    paired = (gx // 2) * gy * gz + (gx % 2) * ((gy * gz + 1) // 2) >= blocks
    per_block: dict = {}
    for b, x, y, z in visits:
        per_block.setdefault(b, []).append((x, y, z))
    if not paired:  # the plain order: tile t = b, b + blocks, ...
        for b, seq in per_block.items():
            assert [x + gx * (y + gy * z) for x, y, z in seq] == list(range(b, gx * gy * gz, blocks))
        return
    assert len(per_block) == blocks, "every block gets at least one pair"
    for b, seq in per_block.items():
        i = 0
        while i < len(seq):  # (x, gx - 1 - x) of one row follow each other, or the middle x of two rows
            x, y, z = seq[i]
            if x != gx - 1 - x:
                assert seq[i + 1] == (gx - 1 - x, y, z), (b, seq)
                i += 2
            else:
                row = y + gy * z
                if i + 1 < len(seq) and seq[i + 1][0] == x and seq[i + 1][1] + gy * seq[i + 1][2] == row + 1:
                    i += 2
                else:  # a lone middle tile: the last row of an odd row count
                    assert row == gy * gz - 1 and row % 2 == 0, (b, seq)
                    i += 1
    # work x + 1 per tile: every pair costs gx + 1, so the blocks differ by at most one pair
    work = [sum(x + 1 for x, _, _ in seq) for seq in per_block.values()]
    assert max(work) - min(work) <= gx + 1, work


def test_bad_pairs_annotations_are_errors() -> None:
    with pytest.raises(TilecError, match="pairs must be a bool"):
        tilec.compile(_copy_program("yes"), target="sm_80").get_kernel_source()
    with pytest.raises(TilecError, match=r"pairs=True\) with T.use_swizzle"):
        tilec.compile(_copy_program(True, swizzle=True), target="sm_80").get_kernel_source()


def _attention(causal: bool, **kw):
    syms = [S(n) for n in ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")]
    return tilec.compile(flash_attn_fwd(*syms, 128, causal=causal, block_M=128, block_N=128, num_stages=2,
                                        threads=256, persistent=True, **kw), target="sm_90a")


def test_attention_pairs_query_blocks_only_when_causal() -> None:
    causal = _attention(True)
    assert "tl_paired" in causal.get_kernel_source()
    assert "tiles in pairs of equal work" in causal.lowered().attrs["lowering_notes"][0]  # what `tilec show` prints
    assert "tl_paired" not in _attention(False, smem_epilogue=True).get_kernel_source()


@pytest.mark.parametrize("overlap", [False, True])
def test_paired_causal_attention_builds_without_spills(overlap: bool) -> None:
    k = _attention(True, overlap=overlap)
    src = k.get_kernel_source()
    # both roles walk the same paired sequence (their stage rings must agree)
    assert len(re.findall(r"for \(int tl_seq = tl_paired", src)) == 2
    r = k.resources
    assert r["spill_bytes"] == 0 and r["stack_bytes"] == 0, r
    assert "serialized" not in k.compile().ptxas_log
