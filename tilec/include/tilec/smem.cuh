/**
 * @file smem.cuh
 * @brief The swizzled shared-memory tile layout (SmemTile) that every tilec shared buffer uses.
 *
 * The Python compiler (tilec/layout/swizzle.py::make_smem_tile_layout) implements the same formula,
 * and the two must agree bit for bit: generated code writes tiles with one and the gemm reads them
 * with the other. tests/cpu/test_smem_layout_host.py compares them on the host.
 */
#pragma once

#include "common.cuh"

namespace tilec {

/// CuTe's Swizzle<B, M, S>: XORs the B bits at [M+S, M+S+B) of an element offset into the B bits at
/// [M, M+B). With 2^M elements per 16-byte chunk this permutes whole chunks only, so 16-byte vector
/// accesses (cp.async, ldmatrix rows, ld.shared.v4) stay contiguous and 16-byte aligned.
template <int B, int M, int S>
struct Swizzle {
    static_assert(B >= 0 && M >= 0 && S >= B, "Swizzle<B,M,S>: needs B, M >= 0 and S >= B (non-overlapping bits)");
    static constexpr unsigned kMask = ((1u << B) - 1u) << (M + S);

    __host__ __device__ static constexpr unsigned apply(unsigned offset) { return offset ^ ((offset & kMask) >> S); }
};

namespace detail {

__host__ __device__ constexpr int log2_exact(int x) { return x <= 1 ? 0 : 1 + log2_exact(x / 2); }

}  // namespace detail

/// A ROWS x COLS tile of ELEM_BYTES-byte elements in shared memory; offset(row, col) is the element
/// index of (row, col). The layout is chosen by the row size so that the 8 rows one ldmatrix (or a
/// warp's 16-byte accesses) touches fall into distinct banks:
///
///   row_bytes % 128 == 0: the tile is split into 128-byte wide column panels stored one after the
///       other, each ROWS x P row-major (P = 128 / ELEM_BYTES), then Swizzle<3, M, 3>: the 16-byte chunk
///       index within a 128-byte row is XORed with row % 8 (the CUTLASS/CuTe "SW128" atom).
///   row_bytes == 64: row-major, Swizzle<2, M, 3>: chunk ^= (row / 2) % 4 (two rows per 128 bytes).
///   row_bytes == 32: row-major, Swizzle<1, M, 3>: chunk ^= (row / 4) % 2 (four rows per 128 bytes).
///   otherwise: plain row-major (no swizzle; accesses may conflict, but the layout stays valid).
///
/// M = log2(16 / ELEM_BYTES), so the swizzle never moves an element inside its 16-byte chunk.
template <int ROWS, int COLS, int ELEM_BYTES>
struct SmemTile {
    static_assert(ELEM_BYTES == 1 || ELEM_BYTES == 2 || ELEM_BYTES == 4 || ELEM_BYTES == 8 || ELEM_BYTES == 16,
                  "SmemTile: ELEM_BYTES must be 1, 2, 4, 8 or 16");
    static_assert(ROWS > 0 && COLS > 0, "SmemTile: ROWS and COLS must be positive");

    static constexpr int kRows = ROWS;
    static constexpr int kCols = COLS;
    static constexpr int kSize = ROWS * COLS;     ///< elements
    static constexpr int kVec = 16 / ELEM_BYTES;  ///< elements per 16-byte chunk
    static constexpr int kM = detail::log2_exact(kVec);
    static constexpr int kRowBytes = COLS * ELEM_BYTES;
    static constexpr int kPanel = 128 / ELEM_BYTES;  ///< columns per 128-byte panel

    __host__ __device__ static constexpr int offset(int row, int col) {
        // Unsigned arithmetic: the same values for the valid (non-negative) coordinates, but the divisions
        // and remainders by powers of two become single shifts and masks (no signed-rounding fix-ups).
        const unsigned r = static_cast<unsigned>(row);
        const unsigned c = static_cast<unsigned>(col);
        if constexpr (kRowBytes % 128 == 0) {
            const unsigned off = (c / kPanel) * (ROWS * kPanel) + r * kPanel + (c % kPanel);
            return static_cast<int>(Swizzle<3, kM, 3>::apply(off));
        } else if constexpr (kRowBytes == 64) {
            return static_cast<int>(Swizzle<2, kM, 3>::apply(r * COLS + c));
        } else if constexpr (kRowBytes == 32) {
            return static_cast<int>(Swizzle<1, kM, 3>::apply(r * COLS + c));
        } else {
            return static_cast<int>(r * COLS + c);
        }
    }
};

}  // namespace tilec
