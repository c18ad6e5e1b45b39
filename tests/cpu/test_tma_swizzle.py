"""The sm_90a shared-memory contracts on the CPU: a numpy model of what a swizzled TMA load writes, checked against
the tile layout gemm_sm90.cuh documents (= tilec::SmemTile = tilec.layout.swizzle.make_smem_tile_layout); and the
wgmma descriptors that wgmma.cuh builds for those tiles, decoded with the PTX ISA's canonical layouts and checked to
address exactly the tile elements each k-step reads (the descriptors come from the real header, compiled for the host).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tilec.layout.swizzle import make_smem_tile_layout

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "tilec" / "include"


# --- numpy model of the TMA ---------------------------------------------------------------------------------


def tma_swizzle(addr: np.ndarray, span: int) -> np.ndarray:
    """The shared address a TMA load (or store) with CU_TENSOR_MAP_SWIZZLE_<span>B uses for the dense address
    `addr`: the 16-byte chunk bits [4, 4 + log2(span / 16)) are XORed with the 128-byte line bits [7, ...).
    span 0 means no swizzle."""
    if span == 0:
        return addr
    return addr ^ (((addr >> 7) & (span // 16 - 1)) << 4)


def tma_load_2d(smem: np.ndarray, dst: int, tile: np.ndarray, span: int) -> None:
    """Writes `tile` (box rows x box inner elements, any itemsize) to the byte array `smem` at `dst` the way a 2-D
    tiled TMA load does: rows packed at the box's inner byte size, then every byte address swizzled."""
    rows, cols = tile.shape
    eb = tile.itemsize
    assert span == 0 or cols * eb <= span, "the driver rejects a box row wider than the swizzle span"
    raw = tile.view(np.uint8).reshape(rows, cols * eb)
    r, b = np.meshgrid(np.arange(rows), np.arange(cols * eb), indexing="ij")
    addr = tma_swizzle(dst + r * cols * eb + b, span)
    smem[addr] = raw


def load_tile_by_panels(tile: np.ndarray, base: int) -> tuple[np.ndarray, int]:
    """Loads an R x C tile the way the sm_90a kernels do: one box per S-byte column panel, panel p to
    base + p * R * S with S = min(C * itemsize, 128) and that swizzle. Returns (shared memory bytes, S)."""
    rows, cols = tile.shape
    eb = tile.itemsize
    span = min(cols * eb, 128)
    smem = np.zeros(base + rows * cols * eb + 1024, dtype=np.uint8)
    w = span // eb
    for p in range(cols // w):
        tma_load_2d(smem, base + p * rows * span, np.ascontiguousarray(tile[:, p * w:(p + 1) * w]), span)
    return smem, span


def documented_byte(r: np.ndarray, c: np.ndarray, rows: int, cols: int, eb: int) -> np.ndarray:
    """gemm_sm90.cuh's formula: byte(r, c) = (c eb / S) R S + swz_S(r S + (c eb) % S)."""
    span = min(cols * eb, 128)
    return (c * eb // span) * rows * span + tma_swizzle(r * span + (c * eb) % span, span)


# (rows, cols, elem_bytes): 128B (one and several panels), 64B and 32B rows, 1/2/4-byte elements.
TILES = [(128, 64, 2), (256, 64, 2), (64, 256, 2), (64, 128, 2), (8, 64, 2), (64, 32, 2), (64, 16, 2), (32, 128, 1),
         (64, 256, 1), (64, 32, 4), (16, 64, 4)]
DTYPE = {1: np.uint8, 2: np.uint16, 4: np.uint32}


@pytest.mark.parametrize(("rows", "cols", "eb"), TILES)
def test_tma_writes_the_documented_smem_tile_layout(rows: int, cols: int, eb: int) -> None:
    tile = (np.arange(rows * cols) % (256 ** eb - 1) + 1).astype(DTYPE[eb]).reshape(rows, cols)
    if eb == 1:
        tile = (np.arange(rows * cols) % 251).astype(np.uint8).reshape(rows, cols)
    base = 2048  # aligned to every swizzle repeat
    smem, _ = load_tile_by_panels(tile, base)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    # The documented byte formula reads every element back ...
    byte = base + documented_byte(r, c, rows, cols, eb)
    got = smem[byte[..., None] + np.arange(eb)].copy().view(DTYPE[eb])[..., 0]
    np.testing.assert_array_equal(got, tile)
    # ... and is the Python compiler's tile layout (element offsets times the element size).
    layout = make_smem_tile_layout(rows, cols, eb)
    np.testing.assert_array_equal(base + eb * layout.offsets(r, c), byte)


@pytest.mark.parametrize("offset_lines", [1, 3, 6])
def test_unaligned_base_follows_the_cuda_guide_index_relation(offset_lines: int) -> None:
    # CUDA programming guide, TMA swizzle: with offset = (smem_ptr / 128) % 8, element (row y, chunk x) of a
    # 128B-swizzled box lands at smem[y][((y + offset) % 8) ^ x]; the address model above must agree, and
    # the SmemTile formula (which assumes offset 0) must not: hence the 1024-byte alignment requirement.
    rows, cols = 16, 64
    tile = np.arange(1, rows * cols + 1, dtype=np.uint16).reshape(rows, cols)
    base = 1024 + 128 * offset_lines
    smem = np.zeros(base + rows * 128 + 1024, dtype=np.uint8)
    tma_load_2d(smem, base, tile, 128)
    chunks = smem[base:base + rows * 128].view(np.uint16).reshape(rows, 8, 8)  # [y][chunk][element]
    for y in range(rows):
        for x in range(8):
            np.testing.assert_array_equal(chunks[y, ((y + offset_lines) % 8) ^ x], tile[y, 8 * x:8 * x + 8])
    layout = make_smem_tile_layout(rows, cols, 2)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    misplaced = smem[base + 2 * layout.offsets(r, c)] != (tile & 0xFF)
    assert misplaced.any()


# --- wgmma descriptors from the header, decoded with the PTX canonical layouts --------------------------------


def decode_desc(d: int) -> tuple[int, int, int, int]:
    """(start, LBO, SBO, swizzle span in bytes) of a 64-bit wgmma matrix descriptor; base offset must be 0."""
    assert (d >> 49) & 7 == 0, "base offset field set"
    start, lbo, sbo = (d & 0x3FFF) << 4, ((d >> 16) & 0x3FFF) << 4, ((d >> 32) & 0x3FFF) << 4
    span = {0: 0, 1: 128, 2: 64, 3: 32}[d >> 62]
    return start, lbo, sbo, span


def k_major_addresses(d: int, rows: int, eb: int) -> np.ndarray:
    """Byte address of operand element (i, k), i < rows, k < 32 / eb (one k-step), per the K-major swizzled
    canonical layout ((8, m), (T, 2k)) : ((span / 16 * T, SBO), (1, T)) and Swizzle<log2(span / 16), 4, 3>."""
    start, _, sbo, span = decode_desc(d)
    i, k = np.meshgrid(np.arange(rows), np.arange(32 // eb), indexing="ij")
    return tma_swizzle(start + (i // 8) * sbo + (i % 8) * span + k * eb, span)


def mn_major_addresses(d: int, n: int) -> np.ndarray:
    """Byte address of 16-bit operand element (mn, k), mn < n, k < 16, per the MN-major swizzled canonical layout
    ((T, span / 16, m), (8, k)) : ((1, T, LBO), (span / 16 * T, SBO))."""
    start, lbo, sbo, span = decode_desc(d)
    atom = span // 2  # elements of MN per swizzle row
    mn, k = np.meshgrid(np.arange(n), np.arange(16), indexing="ij")
    return tma_swizzle(start + (mn // atom) * lbo + (mn % atom) * 2 + (k // 8) * sbo + (k % 8) * span, span)


# (kind, tile rows, tile cols, elem bytes, first row/col of the operand, operand extent): K-major tiles are
# rows x K (A: rows = M, B: rows = N), MN-major tiles are K x MN.
DESC_CASES = [
    ("k", 128, 64, 2, 0, 64), ("k", 128, 64, 2, 64, 64), ("k", 256, 64, 2, 0, 256), ("k", 64, 128, 2, 0, 64),
    ("k", 64, 256, 2, 0, 64), ("k", 64, 32, 2, 0, 64), ("k", 64, 16, 2, 8, 32), ("k", 128, 128, 1, 64, 64),
    ("mn", 64, 256, 2, 0, 256), ("mn", 64, 256, 2, 128, 128), ("mn", 64, 128, 2, 64, 64), ("mn", 32, 64, 2, 0, 64),
    ("mn", 128, 64, 2, 0, 64), ("mn", 64, 32, 2, 0, 32), ("mn", 64, 16, 2, 0, 16),
]
TILE_BASE = 0x4400  # 1024-aligned


@pytest.fixture(scope="module")
def header_descriptors(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, int]:
    """Runs a host program built from wgmma.cuh that prints wgmma_desc_k_major / wgmma_desc_mn_major for every
    (case, k-step)."""
    from tilec.errors import TilecCompileError
    from tilec.toolchain import find_nvcc

    try:
        nvcc = find_nvcc()
    except TilecCompileError as e:
        pytest.skip(f"needs nvcc: {e}")
    lines = []
    for case in DESC_CASES:
        kind, rows, cols, eb, first, _ = case
        ksteps = (cols * eb // 32) if kind == "k" else rows // 16
        for s in range(ksteps):
            if kind == "k":
                call = f"wgmma_desc_k_major<{rows}, {cols}, {eb}>({TILE_BASE}u, {first}, {s})"
            else:
                call = f"wgmma_desc_mn_major<{rows}, {cols}>({TILE_BASE}u, {first}, {s})"
            lines.append(f'    std::printf("{kind} {rows} {cols} {eb} {first} {s} %llu\\n", '
                         f"(unsigned long long){call});")
    src = ("#include <cstdio>\n#include <tilec/wgmma.cuh>\nusing namespace tilec;\nint main() {\n"
           + "\n".join(lines) + "\n    return 0;\n}\n")
    tmp = tmp_path_factory.mktemp("desc")
    (tmp / "desc.cu").write_text(src)
    build = subprocess.run([nvcc, "-std=c++17", f"-I{INCLUDE}", str(tmp / "desc.cu"), "-o", str(tmp / "desc")],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run([str(tmp / "desc")], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out = {}
    for line in run.stdout.splitlines():
        kind, *nums = line.split()
        rows, cols, eb, first, s, d = map(int, nums)
        out[(kind, rows, cols, eb, first, s)] = d
    return out


@pytest.mark.nvcc
@pytest.mark.parametrize("case", DESC_CASES, ids=lambda c: "_".join(map(str, c)))
def test_wgmma_descriptors_address_the_tile_elements(header_descriptors: dict, case: tuple) -> None:
    kind, rows, cols, eb, first, extent = case
    layout = make_smem_tile_layout(rows, cols, eb)
    ksteps = (cols * eb // 32) if kind == "k" else rows // 16
    for s in range(ksteps):
        d = header_descriptors[(kind, rows, cols, eb, first, s)]
        if kind == "k":
            got = k_major_addresses(d, extent, eb)
            i, k = np.meshgrid(np.arange(extent), np.arange(32 // eb), indexing="ij")
            want = TILE_BASE + eb * layout.offsets(first + i, s * (32 // eb) + k)
        else:
            got = mn_major_addresses(d, extent)
            mn, k = np.meshgrid(np.arange(extent), np.arange(16), indexing="ij")
            want = TILE_BASE + 2 * layout.offsets(16 * s + k, first + mn)
        np.testing.assert_array_equal(got, want, err_msg=f"{case} k-step {s}: descriptor {d:#018x}")
