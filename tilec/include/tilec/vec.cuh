/**
 * @file vec.cuh
 * @brief Helpers the code generator emits: aligned vectors of N elements, bit casts, conversions.
 */
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "common.cuh"

namespace tilec {

/// N elements of T stored contiguously, aligned to their total size (so one access moves them all).
template <class T, int N>
struct __align__(sizeof(T) * N) Vec {
    T x[N];
};

/// Store N values (already converted to T) at p with one vector store.
template <class T, int N>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, N>& v) {
    *reinterpret_cast<Vec<T, N>*>(p) = v;
}

template <class T, int N>
__device__ __forceinline__ Vec<T, N> load_vec(const T* p) {
    return *reinterpret_cast<const Vec<T, N>*>(p);
}

/// Copy N bytes (4, 8 or 16) between two aligned addresses; zero-fill the destination when !pred.
template <int N>
__device__ __forceinline__ void copy_bytes(void* dst, const void* src, bool pred) {
    static_assert(N == 4 || N == 8 || N == 16, "copy_bytes moves 4, 8 or 16 bytes");
    if constexpr (N == 16) {
        *static_cast<uint4*>(dst) = pred ? *static_cast<const uint4*>(src) : make_uint4(0, 0, 0, 0);
    } else if constexpr (N == 8) {
        *static_cast<uint2*>(dst) = pred ? *static_cast<const uint2*>(src) : make_uint2(0, 0);
    } else {
        *static_cast<uint32_t*>(dst) = pred ? *static_cast<const uint32_t*>(src) : 0u;
    }
}

/// Conversions through float, so every pair of element types converts (half <-> bf16 included).
template <class To, class From>
__device__ __forceinline__ To convert(const From& f) {
    if constexpr (std::is_same_v<To, From>) {
        return f;
    } else if constexpr (std::is_same_v<From, __half> || std::is_same_v<From, __nv_bfloat16>) {
        return static_cast<To>(static_cast<float>(f));
    } else if constexpr (std::is_same_v<To, __half>) {
        return __float2half_rn(static_cast<float>(f));
    } else if constexpr (std::is_same_v<To, __nv_bfloat16>) {
        return __float2bfloat16_rn(static_cast<float>(f));
    } else {
        return static_cast<To>(f);
    }
}

}  // namespace tilec
