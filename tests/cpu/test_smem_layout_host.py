"""tilec::SmemTile (include/tilec/smem.cuh) evaluated on the host: each shape's offsets are a permutation, match the
formula written out here, the Python compiler's make_smem_tile_layout, and keep ldmatrix row groups conflict-free."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "tilec" / "include"

# (rows, cols, elem_bytes): every layout branch (128-byte panels of one and several panels, 64- and 32-byte rows),
# 1-, 4- and 16-byte elements, and an unswizzled row size.
SHAPES = [
    (64, 32, 2),
    (128, 64, 2),
    (64, 128, 2),
    (32, 256, 2),
    (16, 16, 2),
    (64, 32, 4),
    (32, 48, 2),
    (8, 64, 2),
    (16, 8, 16),
    (32, 128, 1),
]


def _find_nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for cand in ("/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if os.access(cand, os.X_OK):
            return cand
    return None


NVCC = _find_nvcc()
pytestmark = [pytest.mark.nvcc, pytest.mark.skipif(NVCC is None, reason="nvcc not found")]


def swizzle(bits: int, base: int, shift: int, off: int) -> int:
    """CuTe Swizzle<B, M, S>: XOR the B bits at [M+S, M+S+B) into [M, M+B)."""
    return off ^ ((off & (((1 << bits) - 1) << (base + shift))) >> shift)


def reference_offset(rows: int, cols: int, elem_bytes: int, row: int, col: int) -> int:
    """The SmemTile formula, written independently of both implementations it checks."""
    vec = 16 // elem_bytes
    m = vec.bit_length() - 1
    row_bytes = cols * elem_bytes
    if row_bytes % 128 == 0:
        panel = 128 // elem_bytes
        off = (col // panel) * (rows * panel) + row * panel + (col % panel)
        return swizzle(3, m, 3, off)
    if row_bytes == 64:
        return swizzle(2, m, 3, row * cols + col)
    if row_bytes == 32:
        return swizzle(1, m, 3, row * cols + col)
    return row * cols + col


_HOST_PROGRAM = """
#include <cstdio>
#include <tilec/smem.cuh>

template <int R, int C, int E>
void dump() {{
    // Also evaluated at compile time: offset() must stay usable in constant expressions.
    static_assert(tilec::SmemTile<R, C, E>::offset(0, 0) == 0, "offset(0, 0) must be 0");
    std::printf("%d %d %d", R, C, E);
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) std::printf(" %d", tilec::SmemTile<R, C, E>::offset(r, c));
    std::printf("\\n");
}}

int main() {{
{calls}
    return 0;
}}
"""


@pytest.fixture(scope="module")
def cpp_offsets(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int, int], list[list[int]]]:
    """SmemTile<R, C, E>::offset(r, c) for every shape, computed by a host program built with nvcc."""
    tmp = tmp_path_factory.mktemp("smem")
    src = tmp / "smem_host.cu"
    src.write_text(_HOST_PROGRAM.format(calls="\n".join(f"    dump<{r}, {c}, {e}>();" for r, c, e in SHAPES)))
    exe = tmp / "smem_host"
    assert NVCC is not None
    proc = subprocess.run(
        [NVCC, "-std=c++17", f"-I{INCLUDE}", str(src), "-o", str(exe)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60)
    out = {}
    for line in run.stdout.splitlines():
        vals = [int(v) for v in line.split()]
        rows, cols, eb = vals[:3]
        flat = vals[3:]
        assert len(flat) == rows * cols
        out[(rows, cols, eb)] = [flat[r * cols : (r + 1) * cols] for r in range(rows)]
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_offsets_are_a_permutation(cpp_offsets: dict, shape: tuple[int, int, int]) -> None:
    rows, cols, _ = shape
    flat = sorted(o for row in cpp_offsets[shape] for o in row)
    assert flat == list(range(rows * cols))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_offsets_match_the_formula(cpp_offsets: dict, shape: tuple[int, int, int]) -> None:
    rows, cols, eb = shape
    for r in range(rows):
        for c in range(cols):
            assert cpp_offsets[shape][r][c] == reference_offset(rows, cols, eb, r, c), (shape, r, c)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_offsets_match_the_python_compiler(cpp_offsets: dict, shape: tuple[int, int, int]) -> None:
    # The generated code writes shared tiles with the Python layout and the gemm reads them with the C++ one.
    from tilec.layout.swizzle import make_smem_tile_layout

    rows, cols, eb = shape
    layout = make_smem_tile_layout(rows, cols, eb)
    for r in range(rows):
        for c in range(cols):
            assert layout((r, c)) == cpp_offsets[shape][r][c], (shape, r, c)


@pytest.mark.parametrize(
    "shape",
    [s for s in SHAPES if (s[1] * s[2]) in (32, 64) or (s[1] * s[2]) % 128 == 0],
    ids=lambda s: "x".join(map(str, s)),
)
def test_ldmatrix_row_groups_hit_distinct_banks(cpp_offsets: dict, shape: tuple[int, int, int]) -> None:
    # Why the swizzle exists: one ldmatrix phase (and one quarter-warp of 16-byte accesses) reads 8 rows of one
    # 16-byte column chunk. They are conflict-free iff their 16-byte bank groups (byte address / 16 mod 8) differ.
    rows, cols, eb = shape
    vec = 16 // eb
    for r0 in range(0, rows - 7, 8):
        for c in range(0, cols, vec):
            groups = {(cpp_offsets[shape][r0 + i][c] * eb // 16) % 8 for i in range(8)}
            assert len(groups) == 8, (shape, r0, c)


def test_chunks_stay_contiguous(cpp_offsets: dict) -> None:
    # ldmatrix rows and cp.async/ld.shared.v4 need each aligned 16-byte chunk of a row to stay contiguous.
    for (rows, cols, eb), table in cpp_offsets.items():
        vec = 16 // eb
        if (cols * eb) % 16:
            continue
        for r in range(rows):
            for c in range(0, cols, vec):
                first = table[r][c]
                assert first % vec == 0
                assert table[r][c : c + vec] == list(range(first, first + vec)), ((rows, cols, eb), r, c)
