/**
 * @file mma.cuh
 * @brief Warp-level tensor-core products (mma.sync) with 16-bit inputs, sm_75/sm_80+.
 *
 * Fragment layouts of m16n8k16 (PTX "Matrix Fragments for mma.m16n8k16"), with g = lane / 4 and
 * t = lane % 4, each .b32 register holding two consecutive-k (or consecutive-n for C) elements, the
 * lower index in the low half:
 *   A (16x16, row): a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
 *   B (16x8, col):  b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
 *   C/D (16x8):     c0,c1 = C[g][2t], C[g][2t+1]; c2,c3 = C[g+8][2t], C[g+8][2t+1]
 * m16n8k8 is the first half in k: A = {a0, a1}, B = {b0}, same C.
 *
 * These are pure register operations, so they carry no "memory" clobber; they are volatile only so
 * that the compiler keeps them in program order relative to the ldmatrix loads feeding them.
 */
#pragma once

#include "common.cuh"

namespace tilec {

#if TILEC_ARCH_BELOW(800)

TILEC_ARCH_UNSUPPORTED(mma_sync_aligned_m16n8k16_row_col_f32_f16_f16_f32,
                       "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "sm_80")
TILEC_ARCH_UNSUPPORTED(mma_sync_aligned_m16n8k16_row_col_f32_bf16_bf16_f32,
                       "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", "sm_80")
TILEC_ARCH_UNSUPPORTED(mma_sync_aligned_m16n8k16_row_col_f16_f16_f16_f16,
                       "mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16", "sm_80")
TILEC_ARCH_UNSUPPORTED(mma_sync_aligned_m16n8k8_row_col_f32_bf16_bf16_f32,
                       "mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32", "sm_80")

#else

/// D = A @ B + C for a 16x16 (row-major) fp16 A, a 16x8 (column-major) fp16 B and fp32 C/D. d may
/// alias c (the usual accumulate-in-place).
TILEC_DEVICE void mma_sync_aligned_m16n8k16_row_col_f32_f16_f16_f32(float (&d)[4], const uint32_t (&a)[4],
                                                                    const uint32_t (&b)[2], const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %11, %12, %13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

/// As the f16 version with bf16 A and B (fp32 accumulation).
TILEC_DEVICE void mma_sync_aligned_m16n8k16_row_col_f32_bf16_bf16_f32(float (&d)[4], const uint32_t (&a)[4],
                                                                      const uint32_t (&b)[2], const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %11, %12, %13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

/// fp16 accumulation: C and D are two .f16x2 registers, {C[g][2t..2t+1]} and {C[g+8][2t..2t+1]}.
TILEC_DEVICE void mma_sync_aligned_m16n8k16_row_col_f16_f16_f16_f16(uint32_t (&d)[2], const uint32_t (&a)[4],
                                                                    const uint32_t (&b)[2], const uint32_t (&c)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3, %4, %5}, {%6, %7}, {%8, %9};\n"
                 : "=r"(d[0]), "=r"(d[1])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]));
}

/// m16n8k8, bf16 inputs (the bf16 k8 shape needs sm_80; the fp16 one below exists from sm_75).
TILEC_DEVICE void mma_sync_aligned_m16n8k8_row_col_f32_bf16_bf16_f32(float (&d)[4], const uint32_t (&a)[2],
                                                                     const uint32_t (&b)[1], const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
        "{%7, %8, %9, %10};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(b[0]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

#endif

#if TILEC_ARCH_BELOW(750)

TILEC_ARCH_UNSUPPORTED(mma_sync_aligned_m16n8k8_row_col_f32_f16_f16_f32,
                       "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32", "sm_75")

#else

/// m16n8k8, fp16 inputs, fp32 accumulation (sm_75+): A = {a0, a1}, B = {b0} of the k16 layout.
TILEC_DEVICE void mma_sync_aligned_m16n8k8_row_col_f32_f16_f16_f32(float (&d)[4], const uint32_t (&a)[2],
                                                                   const uint32_t (&b)[1], const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
        "{%7, %8, %9, %10};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(b[0]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

#endif

/// The m16n8k16 fp32-accumulating mma for element type T (half_t or bfloat16_t): lets templated
/// code such as the block gemm pick the instruction from its operand type.
template <class T>
TILEC_DEVICE void mma_m16n8k16_f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
    if constexpr (std::is_same_v<T, half_t>) {
        mma_sync_aligned_m16n8k16_row_col_f32_f16_f16_f32(d, a, b, c);
    } else {
        static_assert(std::is_same_v<T, bfloat16_t>, "mma_m16n8k16_f32<T>: T must be half_t or bfloat16_t");
        mma_sync_aligned_m16n8k16_row_col_f32_bf16_bf16_f32(d, a, b, c);
    }
}

}  // namespace tilec
