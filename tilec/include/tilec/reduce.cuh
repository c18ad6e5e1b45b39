/**
 * @file reduce.cuh
 * @brief Reduction functors and warp-level butterfly all-reductions (__shfl_xor_sync).
 *
 * A functor Op has `template <class T> static T identity()` and `template <class T> T operator()(T
 * acc, T x) const`. The codegen folds a thread's own elements with Op first and then combines the
 * lanes that hold the same output row with shfl_xor_allreduce<Op, MASK>, where MASK is the set of lane
 * bits that vary along the reduced axis (e.g. 0b00011 for the four lanes lane%4 of an mma C fragment
 * row).
 */
#pragma once

#include "common.cuh"

namespace tilec {

namespace detail {

TILEC_DEVICE float max2(float a, float b) { return fmaxf(a, b); }
TILEC_DEVICE double max2(double a, double b) { return fmax(a, b); }
TILEC_DEVICE int max2(int a, int b) { return max(a, b); }
TILEC_DEVICE half_t max2(half_t a, half_t b) { return __hmax(a, b); }
TILEC_DEVICE bfloat16_t max2(bfloat16_t a, bfloat16_t b) { return __hmax(a, b); }

TILEC_DEVICE float min2(float a, float b) { return fminf(a, b); }
TILEC_DEVICE double min2(double a, double b) { return fmin(a, b); }
TILEC_DEVICE int min2(int a, int b) { return min(a, b); }
TILEC_DEVICE half_t min2(half_t a, half_t b) { return __hmin(a, b); }
TILEC_DEVICE bfloat16_t min2(bfloat16_t a, bfloat16_t b) { return __hmin(a, b); }

TILEC_DEVICE float abs1(float a) { return fabsf(a); }
TILEC_DEVICE double abs1(double a) { return fabs(a); }
TILEC_DEVICE int abs1(int a) { return abs(a); }
TILEC_DEVICE half_t abs1(half_t a) { return __habs(a); }
TILEC_DEVICE bfloat16_t abs1(bfloat16_t a) { return __habs(a); }

}  // namespace detail

struct SumOp {
    template <class T>
    TILEC_DEVICE static T identity() {
        return cast<T>(0);
    }
    template <class T>
    TILEC_DEVICE T operator()(T a, T b) const {
        return a + b;
    }
};

/// Max. For floats this is fmaxf (one FMNMX): a NaN operand is dropped, not propagated.
struct MaxOp {
    template <class T>
    TILEC_DEVICE static T identity() {
        return lowest<T>();
    }
    template <class T>
    TILEC_DEVICE T operator()(T a, T b) const {
        return detail::max2(a, b);
    }
};

struct MinOp {
    template <class T>
    TILEC_DEVICE static T identity() {
        return infinity<T>();
    }
    template <class T>
    TILEC_DEVICE T operator()(T a, T b) const {
        return detail::min2(a, b);
    }
};

/// Sum of absolute values: op(acc, x) = acc + |x|. It is also a correct lane combiner, because the
/// partial results being combined are already non-negative, so |partial| == partial.
struct AbsSumOp {
    template <class T>
    TILEC_DEVICE static T identity() {
        return cast<T>(0);
    }
    template <class T>
    TILEC_DEVICE T operator()(T a, T b) const {
        return a + detail::abs1(b);
    }
};

/// Max of absolute values (amax, e.g. for quantization scales): op(acc, x) = max(acc, |x|); a lane
/// combiner for the same reason as AbsSumOp.
struct AbsMaxOp {
    template <class T>
    TILEC_DEVICE static T identity() {
        return cast<T>(0);
    }
    template <class T>
    TILEC_DEVICE T operator()(T a, T b) const {
        return detail::max2(a, detail::abs1(b));
    }
};

/// Whether p holds on any active lane of the warp (the same answer on all of them): the vote behind
/// T.Parallel(skip_unit=...), whose warp branches around a rescale only when no lane needs it.
TILEC_DEVICE bool warp_any(bool p) { return __any_sync(__activemask(), p); }

/// Reduces v over the lanes whose ids differ only in the bits of MASK; every one of those lanes gets
/// the result. It is a butterfly: at each set bit, a lane combines its value with that of the lane
/// across that bit. Both lanes of a pair compute op(x, y) and op(y, x), which are bit-identical for
/// these commutative ops, so all lanes of a group end with the same bits. All 32 lanes must call it
/// (the shuffles use the full mask).
template <class Op, int MASK, class T>
TILEC_DEVICE T shfl_xor_allreduce(T v) {
    static_assert(MASK >= 0 && MASK < 32, "shfl_xor_allreduce: MASK must be a set of lane bits in [0, 31]");
    Op op;
#pragma unroll
    for (int bit = 16; bit >= 1; bit /= 2) {
        if (MASK & bit) {
            v = op(v, __shfl_xor_sync(0xffffffffu, v, bit));
        }
    }
    return v;
}

/// Reduces v over all 32 lanes of the warp; every lane gets the result.
template <class Op, class T>
TILEC_DEVICE T warp_allreduce(T v) {
    return shfl_xor_allreduce<Op, 31>(v);
}

}  // namespace tilec
