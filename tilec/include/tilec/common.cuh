/**
 * @file common.cuh
 * @brief Types, conversions, packing and arch-guard helpers shared by every tilec device header.
 *
 * Everything here that does not touch a device-only intrinsic is `__host__ __device__`, so host
 * tests (and the CPU side of the test suite) can include the headers with plain nvcc.
 */
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

/// Every device helper is force-inlined: the tile code keeps fragments in register arrays indexed by
/// compile-time constants, which only stays in registers once the callee is inlined into the kernel.
#define TILEC_DEVICE __device__ __forceinline__
#define TILEC_HOST_DEVICE __host__ __device__ __forceinline__

/// The SM version of the device pass being compiled, e.g. 800 for sm_80; 0 in the host pass, where
/// no device code is generated and so no instruction is ever unavailable.
#ifdef __CUDA_ARCH__
#define TILEC_CUDA_ARCH __CUDA_ARCH__
#else
#define TILEC_CUDA_ARCH 0
#endif
#define TILEC_ARCH_BELOW(sm) (TILEC_CUDA_ARCH != 0 && TILEC_CUDA_ARCH < (sm))

/// True in a device pass for any arch but sm_90a. The arch-specific ("a") instructions (wgmma,
/// setmaxnreg) exist only on sm_90a, not on sm_90 nor on later GPUs; nvcc defines
/// __CUDA_ARCH_FEAT_SM90_ALL exactly when compiling for sm_90a / compute_90a.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TILEC_ARCH_NOT_SM90A 0
#else
#define TILEC_ARCH_NOT_SM90A (TILEC_CUDA_ARCH != 0)
#endif

namespace tilec {

using half_t = __half;
using bfloat16_t = __nv_bfloat16;

namespace detail {

/// Always false, but only known once a template is instantiated: a static_assert on it fires when a
/// kernel actually calls the guarded function, never when the header is merely included.
template <class...>
inline constexpr bool always_false = false;
template <int...>
inline constexpr bool always_false_int = false;

}  // namespace detail
}  // namespace tilec

/// Declares a stand-in for wrapper NAME on an arch that lacks its instruction. It accepts any
/// arguments (so overload resolution always picks it) and fails to compile only when called, with a
/// message naming the PTX instruction and the SM it needs, e.g. TILEC_ARCH_UNSUPPORTED(
/// cp_async_commit_group, "cp.async.commit_group", "sm_80").
// clang-format off
#define TILEC_ARCH_UNSUPPORTED(name, ptx, sm)                                                              \
    template <class... Args>                                                                               \
    __device__ void name(Args&&...) {                                                                      \
        static_assert(::tilec::detail::always_false<Args...>,                                              \
                      ptx " needs " sm " or newer (compile with -arch=" sm " or a later target)");         \
    }

/// As TILEC_ARCH_UNSUPPORTED for an arch-specific instruction that exists on exactly one arch (the
/// sm_90a-only wgmma and setmaxnreg), e.g. TILEC_ARCH_UNSUPPORTED_EXACT(wgmma_fence_sync_aligned,
/// "wgmma.fence.sync.aligned", "sm_90a").
/// The stand-in also takes any non-type template arguments (wgmma_wait_group_sync_aligned<1>, ...).
#define TILEC_ARCH_UNSUPPORTED_EXACT(name, ptx, sm)                                                        \
    template <int... Ints, class... Args>                                                                  \
    __device__ void name(Args&&...) {                                                                      \
        static_assert(::tilec::detail::always_false<Args...>,                                              \
                      ptx " needs " sm " (compile with -arch=" sm "; it exists on no other arch)");        \
    }
// clang-format on

namespace tilec {

// ---------------------------------------------------------------------------------------------------
// Conversions. cast<To>(x) is the one spelling the code generator emits for every dtype change; it
// rounds to nearest-even into half/bf16 and truncates toward zero into int (C and numpy semantics).
// ---------------------------------------------------------------------------------------------------

template <class T>
inline constexpr bool is_b16_float = std::is_same_v<T, half_t> || std::is_same_v<T, bfloat16_t>;

namespace detail {

TILEC_HOST_DEVICE float to_float(float x) { return x; }
TILEC_HOST_DEVICE float to_float(double x) { return static_cast<float>(x); }
TILEC_HOST_DEVICE float to_float(half_t x) { return __half2float(x); }
TILEC_HOST_DEVICE float to_float(bfloat16_t x) { return __bfloat162float(x); }

}  // namespace detail

template <class To, class From>
TILEC_HOST_DEVICE To cast(From x) {
    if constexpr (std::is_same_v<To, From>) {
        return x;
    } else if constexpr (std::is_same_v<To, half_t>) {
        if constexpr (std::is_same_v<From, int>) {
            return __int2half_rn(x);
        } else {
            // bf16 -> half goes through float: exact, since every bf16 value is a float.
            return __float2half_rn(detail::to_float(x));
        }
    } else if constexpr (std::is_same_v<To, bfloat16_t>) {
        if constexpr (std::is_same_v<From, int>) {
            return __int2bfloat16_rn(x);
        } else {
            return __float2bfloat16_rn(detail::to_float(x));
        }
    } else if constexpr (is_b16_float<From>) {
        // half/bf16 -> float is exact; any further step (to int, double) is the C++ conversion.
        return static_cast<To>(detail::to_float(x));
    } else {
        return static_cast<To>(x);
    }
}

/// +infinity of T (negate it for the identity of a max-reduction). int has no infinity: its extremes.
template <class T>
TILEC_HOST_DEVICE T infinity() {
    if constexpr (std::is_same_v<T, float>) {
        return __builtin_huge_valf();
    } else if constexpr (std::is_same_v<T, double>) {
        return __builtin_huge_val();
    } else if constexpr (std::is_same_v<T, half_t>) {
        return __ushort_as_half(static_cast<unsigned short>(0x7c00));
    } else if constexpr (std::is_same_v<T, bfloat16_t>) {
        return __ushort_as_bfloat16(static_cast<unsigned short>(0x7f80));
    } else if constexpr (std::is_same_v<T, int>) {
        return 0x7fffffff;
    } else {
        static_assert(detail::always_false<T>,
                      "tilec::infinity<T>: T must be float, double, half_t, bfloat16_t or int");
    }
}

/// Lowest value of T (-inf for floating types, INT_MIN for int): the identity of max.
template <class T>
TILEC_HOST_DEVICE T lowest() {
    if constexpr (std::is_same_v<T, int>) {
        return -0x7fffffff - 1;
    } else {
        return -infinity<T>();
    }
}

// ---------------------------------------------------------------------------------------------------
// Packing. The tensor-core operands are 32-bit registers holding two 16-bit values, the one with the
// lower column (k) index in the low half: this is the .f16x2 / .bf16x2 register layout of PTX.
// ---------------------------------------------------------------------------------------------------

TILEC_HOST_DEVICE uint16_t bits_of(half_t x) { return __half_as_ushort(x); }
TILEC_HOST_DEVICE uint16_t bits_of(bfloat16_t x) { return __bfloat16_as_ushort(x); }

/// Packs two 16-bit floats (lo = lower index) into one .b32 register.
template <class T>
TILEC_HOST_DEVICE uint32_t pack_b16x2(T lo, T hi) {
    static_assert(is_b16_float<T>, "pack_b16x2: T must be half_t or bfloat16_t");
    return static_cast<uint32_t>(bits_of(lo)) | (static_cast<uint32_t>(bits_of(hi)) << 16);
}

/// Rounds two floats to half and packs them as one .f16x2 register (lo in bits 0..15).
TILEC_HOST_DEVICE uint32_t pack_half2(float lo, float hi) {
    return pack_b16x2(__float2half_rn(lo), __float2half_rn(hi));
}

/// Rounds two floats to bf16 and packs them as one .bf16x2 register (lo in bits 0..15).
TILEC_HOST_DEVICE uint32_t pack_bfloat162(float lo, float hi) {
    return pack_b16x2(__float2bfloat16_rn(lo), __float2bfloat16_rn(hi));
}

/// pack_half2 or pack_bfloat162, chosen by the element type T.
template <class T>
TILEC_HOST_DEVICE uint32_t pack2(float lo, float hi) {
    return pack_b16x2(cast<T>(lo), cast<T>(hi));
}

/// Bit-casts between equally sized trivially copyable types (std::bit_cast is C++20).
template <class To, class From>
TILEC_HOST_DEVICE To bit_cast(const From& x) {
    static_assert(sizeof(To) == sizeof(From), "tilec::bit_cast: sizes differ");
    To y;
    memcpy(&y, &x, sizeof(To));
    return y;
}

/// The 32-bit shared-window address of a generic pointer into shared memory: the form that
/// ldmatrix, stmatrix, cp.async and ld/st.shared take, and cheaper to offset than a 64-bit pointer.
TILEC_DEVICE uint32_t smem_u32addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

}  // namespace tilec
