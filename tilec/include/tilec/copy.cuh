/**
 * @file copy.cuh
 * @brief 16/8/4-byte vector loads and stores for global and shared memory, used by the generated
 *        per-thread copy loops.
 *
 * These are written as typed C++ accesses rather than inline asm on purpose: the compiler then knows
 * they are memory operations (alias analysis, scheduling, address-space inference), and still emits
 * exactly one LDG/STG/LDS/STS.128/.64/.32 for each, provided the address is aligned to the access
 * size (the caller's contract; a misaligned address is a "misaligned address" fault at run time). The
 * .nc variants go through the read-only (texture) path and are only valid for data that no thread
 * writes during the kernel.
 */
#pragma once

#include "common.cuh"

namespace tilec {

// --- global ----------------------------------------------------------------------------------------

TILEC_DEVICE uint4 ld_global_v4(const void* p) { return *static_cast<const uint4*>(p); }
TILEC_DEVICE uint2 ld_global_v2(const void* p) { return *static_cast<const uint2*>(p); }
TILEC_DEVICE uint32_t ld_global_b32(const void* p) { return *static_cast<const uint32_t*>(p); }

/// Non-coherent (read-only path) loads: ld.global.nc, for inputs that the kernel never writes.
TILEC_DEVICE uint4 ld_global_nc_v4(const void* p) { return __ldg(static_cast<const uint4*>(p)); }
TILEC_DEVICE uint2 ld_global_nc_v2(const void* p) { return __ldg(static_cast<const uint2*>(p)); }
TILEC_DEVICE uint32_t ld_global_nc_b32(const void* p) { return __ldg(static_cast<const unsigned int*>(p)); }

TILEC_DEVICE void st_global_v4(void* p, uint4 v) { *static_cast<uint4*>(p) = v; }
TILEC_DEVICE void st_global_v2(void* p, uint2 v) { *static_cast<uint2*>(p) = v; }
TILEC_DEVICE void st_global_b32(void* p, uint32_t v) { *static_cast<uint32_t*>(p) = v; }

/// Loads that return zeros instead of reading when pred is false (tiles at a tensor's edge). The
/// compiler turns the select into a predicated load, so p need not be a valid address when !pred.
TILEC_DEVICE uint4 ld_global_v4_zfill(const void* p, bool pred) {
    return pred ? ld_global_v4(p) : make_uint4(0, 0, 0, 0);
}
TILEC_DEVICE uint2 ld_global_v2_zfill(const void* p, bool pred) { return pred ? ld_global_v2(p) : make_uint2(0, 0); }
TILEC_DEVICE uint32_t ld_global_b32_zfill(const void* p, bool pred) { return pred ? ld_global_b32(p) : 0u; }

// --- shared ----------------------------------------------------------------------------------------
// Generic pointers into shared memory: once inlined into the kernel, the compiler infers the shared
// address space from the __shared__ array they derive from and emits LDS/STS.

TILEC_DEVICE uint4 ld_shared_v4(const void* p) { return *static_cast<const uint4*>(p); }
TILEC_DEVICE uint2 ld_shared_v2(const void* p) { return *static_cast<const uint2*>(p); }
TILEC_DEVICE uint32_t ld_shared_b32(const void* p) { return *static_cast<const uint32_t*>(p); }

TILEC_DEVICE void st_shared_v4(void* p, uint4 v) { *static_cast<uint4*>(p) = v; }
TILEC_DEVICE void st_shared_v2(void* p, uint2 v) { *static_cast<uint2*>(p) = v; }
TILEC_DEVICE void st_shared_b32(void* p, uint32_t v) { *static_cast<uint32_t*>(p) = v; }

/// Copies one N-byte vector (N = 16, 8 or 4) from src to dst, whatever their spaces: the body of a
/// generated vectorized copy loop when the vector width is a template parameter.
template <int N>
TILEC_DEVICE void copy_vec(void* dst, const void* src) {
    if constexpr (N == 16) {
        *static_cast<uint4*>(dst) = *static_cast<const uint4*>(src);
    } else if constexpr (N == 8) {
        *static_cast<uint2*>(dst) = *static_cast<const uint2*>(src);
    } else if constexpr (N == 4) {
        *static_cast<uint32_t*>(dst) = *static_cast<const uint32_t*>(src);
    } else if constexpr (N == 2) {
        *static_cast<uint16_t*>(dst) = *static_cast<const uint16_t*>(src);
    } else {
        static_assert(detail::always_false_int<N>, "copy_vec<N>: N must be 16, 8, 4 or 2 bytes");
    }
}

}  // namespace tilec
