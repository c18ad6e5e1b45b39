/**
 * @file stream_k.cuh
 * @brief The stream-K schedule of a persistent kernel (T.annotate_persistent(stream_k=True)): the tiles that do not
 *        fill the last waves are split along their k-loop between blocks, and the partial accumulators are summed
 *        through a global workspace (Osama et al., "Stream-K", PPoPP 2023; the "data-parallel + one stream-K wave"
 *        hybrid).
 *
 * Work: `tiles` output tiles of `iters` k-iterations each, `ctas` blocks. With tiles % ctas == 0 (or one tile per
 * block, or iters <= 1) every tile is whole (data-parallel, DP); with ctas == 2 x tiles every tile is split in two
 * (split-K: block 2t the first half, 2t + 1 the rest; the launcher starts that many blocks for small problems).
 * Otherwise the last rem + ctas tiles (rem = tiles % ctas) are stream-K (SK) tiles: their rem + ctas tiles * iters
 * k-iterations, laid out tile after tile, are cut into ctas contiguous ranges of equal length (+-1), block b taking
 * [S*b/ctas, S*(b+1)/ctas). A block first walks its DP tiles (b, b + ctas, ...), then its range, one unit per tile
 * it touches: (tile, lo, n) = the tile's k-iterations lo .. lo + n - 1. Each range holds at least one tile's
 * iterations (rem + ctas >= ctas), so a tile is split between at most two blocks.
 *
 * Fixup: a unit that starts inside its tile (lo > 0) is the first unit of its block's range and the only one of the
 * block that does; it stores its accumulators in the block's workspace slot and raises the block's flag, and the
 * block skips the tile's epilogue. The unit with lo == 0 (the tile's owner: the last unit of its block's range)
 * waits for the flag of the next block, whose range holds the rest of the tile, adds its slot, lowers the flag
 * again (so the workspace is all-zero flags between launches) and runs the epilogue. The owner's wait only
 * depends on blocks with a higher index, which never wait on it: no cycle, as long as all the launched blocks are
 * resident at once (the persistent launch rule: at most SMs x resident blocks).
 *
 * Workspace (one per stream, flags zeroed once at allocation): ctas int32 flags, padded to 256 bytes, then ctas
 * slots of THREADS x N floats (N accumulator registers per consumer thread), stored as float4 interleaved across
 * the threads (slot[i * THREADS + t] = registers 4i .. 4i + 3 of thread t): coalesced, and read back by the same
 * thread of the owner, whose registers hold the same elements (same kernel, same fragment layout).
 */
#pragma once

#include "common.cuh"
#include "warpgroup.cuh"

namespace tilec {

/// The schedule (plan, begin, next; host-callable, for tests) and the fixup (device).
///
/// The schedule of one block: the same for both roles of a warp-specialized kernel, so it lives in shared memory
/// (thread 0 writes it before the block's first barrier), which keeps its registers free: the consumers' fixup
/// needs every one beside the accumulators. All int: a 64-bit division would be a call.
struct StreamKPlan {
    int iters, cta, ctas;
    int dp_tiles;   ///< tiles [0, dp_tiles) are whole; the rest are stream-K tiles
    int sk_total;   ///< k-iterations of the stream-K tiles
    int sk_begin, sk_end;  ///< this block's range of them (counted from tile dp_tiles, iteration 0)
    int gx, gy;     ///< the tile grid's x and y extents: each unit binds its tile from here, not from registers
};

/// A role's cursor over its units and the current unit's k-iterations lo .. lo + n - 1 (registers: three, all
/// that a unit adds to the accumulators' live range). c >= 0: the next DP tile; c < 0: stream-K, next iteration ~c.
struct StreamKUnit {
    int c;
    int lo, n;
};

/// Bytes of the flag area at the workspace's start (ctas int32, padded to 256 bytes).
TILEC_HOST_DEVICE int stream_k_flag_bytes(int ctas) { return (ctas * 4 + 255) / 256 * 256; }

/// floor(total * b / ctas) in 32-bit arithmetic (total < 2^31, ctas < 46341).
TILEC_HOST_DEVICE int stream_k_split(int total, int b, int ctas) {
    const int q = total / ctas, r = total % ctas;
    return q * b + r * b / ctas;
}

/// The schedule of block `cta` of `ctas` (see the file comment). Whole tiles only when the stream-K iterations
/// would not fit an int.
TILEC_HOST_DEVICE StreamKPlan stream_k_plan(int tiles, int iters, int cta, int ctas, int gx, int gy) {
    StreamKPlan p;
    p.iters = iters, p.cta = cta, p.ctas = ctas, p.gx = gx, p.gy = gy;
    const int rem = ctas > 0 ? tiles % ctas : 0;
    // Fewer tiles than blocks: split-K by two when the launch has exactly 2 x tiles blocks (tile t's halves in blocks
    // 2t and 2t + 1, so a tile still spans two blocks at most); otherwise whole tiles.
    int sk_tiles = iters <= 1 ? 0 : tiles < ctas ? (ctas == 2 * tiles ? tiles : 0) : rem == 0 ? 0 : rem + ctas;
    if (static_cast<long long>(sk_tiles) * iters > 0x7fffffffLL) sk_tiles = 0;
    p.dp_tiles = tiles - sk_tiles;
    p.sk_total = sk_tiles * iters;
    p.sk_begin = sk_tiles ? stream_k_split(p.sk_total, cta, ctas) : 0;
    p.sk_end = sk_tiles ? stream_k_split(p.sk_total, cta + 1, ctas) : 0;
    return p;
}

/// A cursor before the block's first unit.
TILEC_HOST_DEVICE StreamKUnit stream_k_begin(const StreamKPlan& p) { return StreamKUnit{p.cta, 0, 0}; }

/// Advance to the block's next unit and return its tile, or -1 when there is none: DP tiles first, then the
/// block's stream-K range.
TILEC_HOST_DEVICE int stream_k_next(const StreamKPlan& p, StreamKUnit& u) {
    if (u.c >= 0) {
        if (u.c < p.dp_tiles) {
            const int tile = u.c;
            u.lo = 0, u.n = p.iters;
            u.c = u.c + p.ctas < p.dp_tiles ? u.c + p.ctas : ~p.sk_begin;
            return tile;
        }
        u.c = ~p.sk_begin;
    }
    const int it = ~u.c;
    if (it >= p.sk_end) return -1;
    const int t = it / p.iters;
    const int tile_end = (t + 1) * p.iters;
    const int end = p.sk_end < tile_end ? p.sk_end : tile_end;
    u.lo = it - t * p.iters;
    u.n = end - it;
    u.c = ~end;
    return p.dp_tiles + t;
}

TILEC_DEVICE int ld_acquire_gpu(const int* p) {
    int v;
    asm volatile("ld.acquire.gpu.global.b32 %0, [%1];\n" : "=r"(v) : "l"(p) : "memory");
    return v;
}

TILEC_DEVICE void st_release_gpu(int* p, int v) {
    asm volatile("st.release.gpu.global.b32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory");
}

/// The stream-K fixup of the current unit, run by the THREADS consumer threads (threadIdx.x < THREADS) after the
/// unit's k-loop, with named barrier `bar_id` among them. Returns whether this block writes the tile (runs the
/// epilogue): true for a whole tile and for the owner (after adding the other blocks' partial sums), false for a
/// unit that only stored its partial sums.
template <int THREADS, int N>
TILEC_DEVICE bool stream_k_fixup(const StreamKPlan& p, const StreamKUnit& u, float (&acc)[N], void* workspace,
                                 int bar_id) {
    static_assert(N % 4 == 0, "stream-K slots hold float4 groups of accumulator registers");
    if (u.lo == 0 && u.n == p.iters) return true;
    const int t = static_cast<int>(threadIdx.x);
    int* flags = reinterpret_cast<int*>(workspace);
    float4* slots = reinterpret_cast<float4*>(reinterpret_cast<char*>(workspace) + stream_k_flag_bytes(p.ctas));
    constexpr int kSlot = THREADS * N / 4;  // float4 per slot
    if (u.lo > 0) {  // a later part of the tile: hand the partial sums to the owner
        float4* mine = slots + static_cast<size_t>(kSlot) * p.cta;
#pragma unroll
        for (int i = 0; i < N / 4; ++i)
            __stcg(&mine[i * THREADS + t], make_float4(acc[4 * i], acc[4 * i + 1], acc[4 * i + 2], acc[4 * i + 3]));
        bar_sync(bar_id, THREADS);  // every thread's stores happen before thread 0's release
        if (t == 0) {
            __threadfence();
            st_release_gpu(&flags[p.cta], 1);
        }
        return false;
    }
    // The owner (lo == 0, n < iters): its unit ends its block's range, and the rest of the tile lies in the next
    // block's range, which is at least `iters` long (sk_total >= ctas * iters), so that block alone holds it.
    const int b = p.cta + 1;
    if (t == 0) {
        while (ld_acquire_gpu(&flags[b]) == 0) __nanosleep(64);
        flags[b] = 0;  // for the next launch on this workspace (b raises it once per launch)
    }
    bar_sync(bar_id, THREADS);  // thread 0's acquire happens before every thread's loads
    const float4* theirs = slots + static_cast<size_t>(kSlot) * b;
#pragma unroll
    for (int i = 0; i < N / 4; ++i) {
        const float4 v = __ldcg(&theirs[i * THREADS + t]);
        acc[4 * i] += v.x, acc[4 * i + 1] += v.y, acc[4 * i + 2] += v.z, acc[4 * i + 3] += v.w;
    }
    return true;
}

}  // namespace tilec
