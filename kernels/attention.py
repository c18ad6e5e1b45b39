"""Attention family: FlashAttention-2 forward (single pass, online softmax) with flash-attn's conventions.

    O = softmax(scale * Q @ K^T + mask) @ V        LSE = log(sum_j exp(scale * Q @ K^T + mask))  (natural log, fp32)

Two kernels share this module: the dense one (this family, `attention`) and the varlen one (the
`attention_varlen` family of kernels/attention_varlen.py: its tensor list differs, and a family has one ABI).

* Layouts (flash-attn's): dense Q, O [batch, seqlen_q, heads, head_dim], K, V [batch, seqlen_k, kv_heads, head_dim],
  LSE [batch, heads, seqlen_q]. Varlen: packed Q, O [total_q, heads, head_dim], K, V [total_k, kv_heads, head_dim],
  cu_seqlens_q / cu_seqlens_k int32 [batch + 1] (sequence b is rows cu[b] .. cu[b+1]-1), LSE
  [batch, heads, max_seqlen_q] (flash-attn <= 2.3's varlen LSE layout; entries past a sequence's length are not
  written). All tensors contiguous.
* fp16 / bf16 in and out, fp32 accumulation and softmax; head_dim 64, 128 or 256 (compile-time, per variant).
* Runtime sizes: batch, seqlen_q, seqlen_k, heads and kv_heads (varlen: total_q, total_k, heads, kv_heads, batch,
  max_seqlen_q, batch_plus_1). Runtime heads: one variant serves every head count and GQA/MQA grouping; query head
  h reads kv head h // (heads // kv_heads) (one integer division per block). The stub checks heads % kv_heads == 0.
* causal is compile-time (its own variants): it trims each block's key loop to the keys its rows can see; a runtime
  flag would keep a runtime bound and the diagonal mask in the non-causal kernels too. The causal mask is aligned
  to the bottom-right corner: query row i sees key j iff j <= i + seqlen_k - seqlen_q (flash-attn >= 2.1).
* scale: the softmax scale (usually 1/sqrt(head_dim), > 0), a runtime float32 scalar parameter. The kernel
  multiplies scores by scale * log2(e) and uses exp2.
* A row with no visible key (seqlen_k == 0, or causal rows i < seqlen_q - seqlen_k) gets O = 0 and LSE = +inf, as in
  flash-attn. No NaN can come from masking: while a row's running max is -inf its exponent offset is taken as 0
  (exp2(-inf - 0) = 0), and an empty row's 1/sum is taken as 0.
* Ragged sizes (not multiples of the tiles): keys past seqlen_k are masked to -inf; query rows past seqlen_q are
  never written (dense: the output tile copy drops rows outside the tensor; varlen: a sequence's last block stores
  element-wise under a row guard, so the next sequence's rows are never touched; full blocks use the tile copy).
* Speed: only the key blocks that need it are masked (the causal diagonal, the ragged last block; the others start
  the score accumulator from 0); causal grids run their query blocks heaviest first (fewer light blocks left in
  the tail). 64x64 tiles, 4 warps, K/V double-buffered with cp.async; mma.sync through the sm80 lowering.
* The stub (bindings/src/attention.cpp) checks: contiguous tensors with 16-byte aligned base pointers (cp.async;
  row pitches heads * head_dim and kv_heads * head_dim are multiples of 8 elements by construction); heads %
  kv_heads == 0; every tensor under 2^31 elements (the kernels index with int32); heads and batch <= 65535 (grid y,
  z); scale finite and > 0 as a float32 (a masked score is -inf * scale); varlen: int32 cu_seqlens of equal length
  and 0 <= max_seqlen_q <= total_q. cu_seqlens live on the GPU, so their contents are the caller's contract
  (non-decreasing from 0, max_seqlen_q >= every sequence's query length: rows past
  ceildiv(max_seqlen_q, block_M) * block_M are not computed), as in flash-attn; the varlen kernel clamps every offset
  to [0, total_q] / [0, total_k] and writes no LSE entry at or past max_seqlen_q, so no content of cu_seqlens makes
  it touch memory outside its tensors.

Kernel ABI (tilec.metadata.KernelMetadata; what the C++ stub passes, in order): the tensors' pointers in TENSORS
order, then the scalars (SCALARS: scale, float32), then one int32 per runtime dim in the kernel's sym_dims order
(the AOT table's dim_order maps kernel int arg i onto DIMS[dim_order[i]]):
    dense : Q, K, V, O, LSE, scale, batch, seqlen_q, heads, seqlen_k, kv_heads.
            Grid (ceildiv(seqlen_q, block_M), heads, batch).
    varlen: Q, K, V, O, LSE, cu_seqlens_q, cu_seqlens_k, scale, total_q, heads, total_k, kv_heads, batch,
            max_seqlen_q, batch_plus_1. Grid (ceildiv(max_seqlen_q, block_M), heads, batch). max_seqlen_q and
            batch reach the kernel as the LSE tensor's dims (a runtime size must be a dimension of some tensor
            parameter), batch_plus_1 as cu_seqlens' length (a tensor dimension cannot be the expression
            batch + 1): the stub passes batch_plus_1 = batch + 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import tilec.language as T
from tilec.aot.catalogue import VariantBase

FAMILY = "attention"
DIMS = ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")
TENSORS = ("Q", "K", "V", "O", "LSE")
SCALARS = ("scale",)  # float32 kernel arguments after the tensors (KernelInfo.n_scalars)
CPP_STRUCT = "AttentionVariant"
# In the AOT build: bindings/src/attention.cpp is the stub (tilekernels.flash_attn / flash_attn_varlen).
SHIPPED = True

VARLEN_FAMILY = "attention_varlen"
VARLEN_DIMS = ("total_q", "total_k", "heads", "kv_heads", "batch", "max_seqlen_q", "batch_plus_1")
VARLEN_TENSORS = ("Q", "K", "V", "O", "LSE", "cu_seqlens_q", "cu_seqlens_k")
VARLEN_CPP_STRUCT = "AttentionVarlenVariant"

LOG2E = 1.4426950408889634
_DTYPES = {"float16": ("f16", 0), "bfloat16": ("bf16", 1)}
HEAD_DIMS = (64, 128, 256)


# The dense loop's order/stage schedule (flash_attn_fwd(overlap=True)): groups [K copy] [mask, Q.K^T] [softmax]
# [rescale O] [V copy] [P.V]; iteration k issues Q.K_k^T, rescales O and issues P_{k-1}.V_{k-1}, then runs the softmax
# of k while both are on the tensor cores (the rescale and P.V one k-step late).
OVERLAP_SCHEDULE = dict(order=[-1, 0, 3, 1, -1, 2], stage=[-1, 0, 0, 1, -1, 1],
                        group=[[0], [1, 2], [3, 4, 5, 6, 7, 8, 9], [10], [11], [12]])


def flash_attn_fwd(batch, seqlen_q, seqlen_k, heads, kv_heads, dim, causal=False, block_M=128, block_N=64,
                   num_stages=2, threads=128, dtype="float16", persistent=False, smem_epilogue=False, pingpong=False,
                   overlap=False, skip_rescale=False, defer_reductions=True):
    """The dense kernel: one block per (block_M query rows, head, batch); K/V tiles pipelined (cp.async on the sm80
    family, TMA + mbarriers in a warp-specialized pipeline on sm_90a). persistent: T.annotate_persistent (one block
    per SM loops over the (query block, head, batch) tiles; on sm_90a the producer loads the next tile's Q, K, V while
    the consumers finish the current one; causal: the query blocks in pairs x, last - x of equal work). smem_epilogue: O goes out through a shared tile (on sm_90a a TMA store;
    (block_M * head_dim * 2 more bytes of shared memory). pingpong: T.annotate_pingpong() (sm_90a, several consumer
    warpgroups take turns at the tensor cores; measured slower on the H100, so off). overlap: the loop's
    order/stage schedule (on sm_90a): iteration k issues Q.K_k^T, rescales O and issues P_{k-1}.V_{k-1}, then runs
    the softmax of k while both are on the tensor cores (ignored by the sm80 lowering). skip_rescale: the loop's
    rescale of O by alpha is T.Parallel(skip_unit=alpha): a warp whose rows all kept their running max (alpha exactly
    1, the common case once the max has settled) skips its multiplications; the result is the same bits.
    defer_reductions=False: T.annotate_defer_reductions(False), the row sums combined across lanes every K/V step
    (by default tilec combines l's per-lane partials once after the loop; an A/B switch for bench/)."""
    accum = "float32"
    q_shape = (batch, seqlen_q, heads, dim)
    kv_shape = (batch, seqlen_k, kv_heads, dim)

    @T.prim_func
    def main(Q: T.Tensor(q_shape, dtype), K: T.Tensor(kv_shape, dtype), V: T.Tensor(kv_shape, dtype),
             O: T.Tensor(q_shape, dtype), LSE: T.Tensor((batch, heads, seqlen_q), accum), scale: T.float32):
        with T.Kernel(T.ceildiv(seqlen_q, block_M), heads, batch, threads=threads) as (mb, by, bz):
            if persistent:  # causal: query blocks in pairs (x, last - x), the same work for every pair
                T.annotate_persistent(pairs=causal)
            if pingpong:
                T.annotate_pingpong()
            if not defer_reductions:
                T.annotate_defer_reductions(False)
            bx = mb  # the query block
            if causal:  # heaviest blocks (most keys) first: a shorter tail of light blocks at the end of the grid
                bx = T.ceildiv(seqlen_q, block_M) - 1 - mb
            Q_shared = T.alloc_shared((block_M, dim), dtype)
            K_shared = T.alloc_shared((block_N, dim), dtype)
            V_shared = T.alloc_shared((block_N, dim), dtype)
            if smem_epilogue:  # one tile per block: Q's tile is dead after the loop and stages O (block_M * dim * 2
                # bytes fewer); a persistent block loads the next tile's Q meanwhile, so O gets its own
                O_shared = T.alloc_shared((block_M, dim), dtype) if persistent else Q_shared
            acc_s = T.alloc_fragment((block_M, block_N), accum)
            acc_s_cast = T.alloc_fragment((block_M, block_N), dtype)
            acc_o = T.alloc_fragment((block_M, dim), accum)
            m_i = T.alloc_fragment((block_M,), accum)        # running row max of the raw scores
            m_prev = T.alloc_fragment((block_M,), accum)
            m_off = T.alloc_fragment((block_M,), accum)      # m_i * scale * log2(e), 0 while m_i is -inf
            alpha = T.alloc_fragment((block_M,), accum)      # rescale factor of the previous partial sums
            row_sum = T.alloc_fragment((block_M,), accum)
            l_i = T.alloc_fragment((block_M,), accum)        # running row sum of exp
            lse = T.alloc_fragment((block_M,), accum)

            kv_head = by // (heads // kv_heads)
            qk_scale = scale * LOG2E
            T.copy(Q[bz, bx * block_M:(bx + 1) * block_M, by, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(l_i, 0)
            T.fill(m_i, -T.infinity(accum))
            offset = seqlen_k - seqlen_q  # bottom-right causal alignment
            n_blocks = T.ceildiv(seqlen_k, block_N)
            mask_from = seqlen_k  # key blocks ending past this need masking
            if causal:
                n_blocks = T.max(T.min(n_blocks, T.ceildiv((bx + 1) * block_M + offset, block_N)), 0)
                mask_from = T.min(seqlen_k, bx * block_M + offset + 1)  # past the first row's last visible key
            for k in T.Pipelined(n_blocks, num_stages=num_stages, **(OVERLAP_SCHEDULE if overlap else {})):
                T.copy(K[bz, k * block_N:(k + 1) * block_N, kv_head, :], K_shared)
                # The mask is the initial value of the score accumulator (the GEMM adds to it); only the key blocks
                # that reach past mask_from need one.
                if (k + 1) * block_N > mask_from:
                    for i, j in T.Parallel(block_M, block_N):
                        if causal:
                            acc_s[i, j] = T.if_then_else((bx * block_M + i + offset < k * block_N + j) or
                                                         (k * block_N + j >= seqlen_k), -T.infinity(accum), 0)
                        else:
                            acc_s[i, j] = T.if_then_else(k * block_N + j >= seqlen_k, -T.infinity(accum), 0)
                else:
                    T.clear(acc_s)
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
                T.copy(m_i, m_prev)
                T.reduce_max(acc_s, m_i, dim=1, clear=False)
                for i in T.Parallel(block_M):
                    m_off[i] = T.if_then_else(m_i[i] == -T.infinity(accum), 0, m_i[i] * qk_scale)
                    alpha[i] = T.exp2(m_prev[i] * qk_scale - m_off[i])
                for i, j in T.Parallel(block_M, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * qk_scale - m_off[i])
                T.reduce_sum(acc_s, row_sum, dim=1)
                for i in T.Parallel(block_M):
                    l_i[i] = l_i[i] * alpha[i] + row_sum[i]
                T.copy(acc_s, acc_s_cast)
                for i, j in T.Parallel(block_M, dim, skip_unit=alpha if skip_rescale else None):
                    acc_o[i, j] *= alpha[i]
                T.copy(V[bz, k * block_N:(k + 1) * block_N, kv_head, :], V_shared)
                T.gemm(acc_s_cast, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
            for i in T.Parallel(block_M):
                lse[i] = T.if_then_else(l_i[i] == 0, T.infinity(accum), m_i[i] * scale + T.log(l_i[i]))
                l_i[i] = T.if_then_else(l_i[i] == 0, 0, 1.0 / l_i[i])
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] *= l_i[i]
            if smem_epilogue:
                T.copy(acc_o, O_shared)
                T.copy(O_shared, O[bz, bx * block_M:(bx + 1) * block_M, by, :])
            else:
                T.copy(acc_o, O[bz, bx * block_M:(bx + 1) * block_M, by, :])
            T.copy(lse, LSE[bz, by, bx * block_M:(bx + 1) * block_M])

    return main


def flash_attn_varlen_fwd(total_q, total_k, heads, kv_heads, batch, max_seqlen_q, batch_plus_1, dim, causal=False,
                          block_M=128, block_N=64, num_stages=2, threads=128, dtype="float16"):
    """The varlen kernel: grid (ceildiv(max_seqlen_q, block_M), heads, batch); each block reads its sequence's
    start and length from cu_seqlens and does nothing when its rows start past the sequence's end."""
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((total_q, heads, dim), dtype), K: T.Tensor((total_k, kv_heads, dim), dtype),
             V: T.Tensor((total_k, kv_heads, dim), dtype), O: T.Tensor((total_q, heads, dim), dtype),
             LSE: T.Tensor((batch, heads, max_seqlen_q), accum),
             cu_seqlens_q: T.Tensor((batch_plus_1,), "int32"), cu_seqlens_k: T.Tensor((batch_plus_1,), "int32"),
             scale: T.float32):
        with T.Kernel(T.ceildiv(max_seqlen_q, block_M), heads, batch, threads=threads) as (mb, by, bz):
            bx = mb
            if causal:
                bx = T.ceildiv(max_seqlen_q, block_M) - 1 - mb
            Q_shared = T.alloc_shared((block_M, dim), dtype)
            K_shared = T.alloc_shared((block_N, dim), dtype)
            V_shared = T.alloc_shared((block_N, dim), dtype)
            acc_s = T.alloc_fragment((block_M, block_N), accum)
            acc_s_cast = T.alloc_fragment((block_M, block_N), dtype)
            acc_o = T.alloc_fragment((block_M, dim), accum)
            m_i = T.alloc_fragment((block_M,), accum)
            m_prev = T.alloc_fragment((block_M,), accum)
            m_off = T.alloc_fragment((block_M,), accum)
            alpha = T.alloc_fragment((block_M,), accum)
            row_sum = T.alloc_fragment((block_M,), accum)
            l_i = T.alloc_fragment((block_M,), accum)
            lse = T.alloc_fragment((block_M,), accum)

            # Clamped to the packed tensors, so that no cu_seqlens content (decreasing, past total_q / total_k) can
            # make a block read or write outside Q, K, V, O (the stub cannot check device-resident offsets).
            q_start = T.min(T.max(cu_seqlens_q[bz], 0), total_q)
            q_len = T.min(T.max(cu_seqlens_q[bz + 1], q_start), total_q) - q_start
            k_start = T.min(T.max(cu_seqlens_k[bz], 0), total_k)
            k_len = T.min(T.max(cu_seqlens_k[bz + 1], k_start), total_k) - k_start
            kv_head = by // (heads // kv_heads)
            qk_scale = scale * LOG2E
            if bx * block_M < q_len:
                q_row = q_start + bx * block_M
                T.copy(Q[q_row:q_row + block_M, by, :], Q_shared)
                T.fill(acc_o, 0)
                T.fill(l_i, 0)
                T.fill(m_i, -T.infinity(accum))
                offset = k_len - q_len
                n_blocks = T.ceildiv(k_len, block_N)
                mask_from = k_len
                if causal:
                    n_blocks = T.max(T.min(n_blocks, T.ceildiv((bx + 1) * block_M + offset, block_N)), 0)
                    mask_from = T.min(k_len, bx * block_M + offset + 1)
                for k in T.Pipelined(n_blocks, num_stages=num_stages):
                    T.copy(K[k_start + k * block_N:k_start + (k + 1) * block_N, kv_head, :], K_shared)
                    if (k + 1) * block_N > mask_from:
                        for i, j in T.Parallel(block_M, block_N):
                            if causal:
                                acc_s[i, j] = T.if_then_else((bx * block_M + i + offset < k * block_N + j) or
                                                             (k * block_N + j >= k_len), -T.infinity(accum), 0)
                            else:
                                acc_s[i, j] = T.if_then_else(k * block_N + j >= k_len, -T.infinity(accum), 0)
                    else:
                        T.clear(acc_s)
                    T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
                    T.copy(m_i, m_prev)
                    T.reduce_max(acc_s, m_i, dim=1, clear=False)
                    for i in T.Parallel(block_M):
                        m_off[i] = T.if_then_else(m_i[i] == -T.infinity(accum), 0, m_i[i] * qk_scale)
                        alpha[i] = T.exp2(m_prev[i] * qk_scale - m_off[i])
                    for i, j in T.Parallel(block_M, block_N):
                        acc_s[i, j] = T.exp2(acc_s[i, j] * qk_scale - m_off[i])
                    T.reduce_sum(acc_s, row_sum, dim=1)
                    for i in T.Parallel(block_M):
                        l_i[i] = l_i[i] * alpha[i] + row_sum[i]
                    T.copy(acc_s, acc_s_cast)
                    for i, j in T.Parallel(block_M, dim):
                        acc_o[i, j] *= alpha[i]
                    T.copy(V[k_start + k * block_N:k_start + (k + 1) * block_N, kv_head, :], V_shared)
                    T.gemm(acc_s_cast, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
                for i in T.Parallel(block_M):
                    lse[i] = T.if_then_else(l_i[i] == 0, T.infinity(accum), m_i[i] * scale + T.log(l_i[i]))
                    l_i[i] = T.if_then_else(l_i[i] == 0, 0, 1.0 / l_i[i])
                for i, j in T.Parallel(block_M, dim):
                    acc_o[i, j] *= l_i[i]
                if (bx + 1) * block_M <= q_len:  # all rows in the sequence: the vectorized tile copy
                    T.copy(acc_o, O[q_row:q_row + block_M, by, :])
                    T.copy(lse, LSE[bz, by, bx * block_M:(bx + 1) * block_M])
                else:  # the sequence's last block: the rows past its end belong to the next sequence
                    for i, j in T.Parallel(block_M, dim):
                        if bx * block_M + i < q_len:
                            O[q_row + i, by, j] = acc_o[i, j]
                    for i in T.Parallel(block_M):
                        if bx * block_M + i < T.min(q_len, max_seqlen_q):  # LSE rows hold max_seqlen_q entries
                            LSE[bz, by, bx * block_M + i] = lse[i]

    return main


@dataclass(frozen=True)
class TileConfig:
    """A tile shape and schedule. Shared memory: (block_M + 2 * num_stages * block_N) * head_dim * 2 bytes (+ block_M *
    head_dim * 2 for a persistent kernel's O tile), plus a few mbarriers on sm_90a."""

    block_m: int
    block_n: int
    stages: int
    threads: int
    persistent: bool = False     # T.annotate_persistent (one block per SM loops over the tiles)
    smem_epilogue: bool = False  # O through a shared tile (TMA store on sm_90a)
    overlap: bool = False        # the loop's order/stage schedule (softmax of k beside P.V of k - 1; sm_90a)
    pingpong: bool = False       # T.annotate_pingpong: the consumer warpgroups take turns issuing their wgmmas
    max_seqlen_k: int = 0        # > 0: the variant serves only seqlen_k (varlen: max_seqlen_k) <= this
    skip_rescale: bool = False   # flash_attn_fwd(skip_rescale=True): O's rescale skipped per warp where alpha is 1

    def smem_bytes(self, head_dim: int) -> int:
        # a persistent kernel's O tile has its own buffer; otherwise O is staged in Q's (dead after the loop)
        o_tile = self.smem_epilogue and self.persistent
        return (self.block_m * (2 if o_tile else 1) + 2 * self.stages * self.block_n) * head_dim * 2


# Per head_dim, in preference order (the first config whose shared memory fits the device wins). 64x64 tiles with
# 4 warps and a 2-stage K/V pipeline were the fastest of the configs measured for d64/d128 on the H100
# (bench/results/2026-11-23-h100-attention-sm80.json, 128x64 with 8 warps was 2-8% slower); they need 40 / 80 KiB
# and fit every arch. For head_dim 256 the 64x64 two-stage pipeline needs 160 KiB (sm_80/87, sm_90, sm_100); the
# 99 KiB archs (sm_86/89/120) get 64x32 (96 KiB). 128 rows with 4 warps at d128 spill (acc_o alone is 128 floats a
# thread), 8 warps at 128x64 do not but were slower.
CONFIGS = {
    64: (TileConfig(64, 64, 2, 128),),
    128: (TileConfig(64, 64, 2, 128),),
    256: (TileConfig(64, 64, 2, 128), TileConfig(64, 32, 2, 128)),
}


# The sm90a lowering (dense kernel only; per (head_dim, causal), in preference order: the first whose max_seqlen_k
# admits the problem wins): a TMA producer warpgroup feeding `threads` wgmma consumer threads (QK^T shared x shared,
# PV with P in registers), the Q tile loaded by TMA ahead of the K/V ring.
# Non-causal, from bench/results/2026-11-23-h100-attention-sm90a-jit-run2-d*.json (H100, vs cuDNN SDPA): persistent
# tiles (d256 S=1k 0.44x -> 0.85x); head_dim 64 takes three consumer warpgroups (192-row blocks). overlap (the
# order/stage schedule, see flash_attn_fwd) where bench/results/2026-11-23-h100-attention-sm90a-jit-overlap-*.json
# measured it faster: d256 non-causal (S=16k 595 -> 621 TFLOP/s); the d128 non-causal persistent kernel lost with it
# (569 -> 507 at 16k), and 192-row d64 blocks spill with it.
# d128 non-causal beyond S = 8k: one tile per block with overlap (bench/results/2026-11-23-h100-attention-sm90a-jit-
# wide-full-fp16.json: S=16k 591 vs 535 TFLOP/s persistent; the overlap runs above: 579 vs 569; tied at 8k; block_N 176
# was slower everywhere).
# Causal, from bench/results/2026-11-23-h100-attention-sm90a-jit-causal-persistent-{fp16,bf16}.json: persistent tiles
# taken in pairs of equal work (T.annotate_persistent(pairs=True)) up to S = 8k (fp16 d128 S=1k 290 -> 390 TFLOP/s,
# 4k 476 -> 501; d256 1k 237 -> 373, 4k 463 -> 535; d64 1k 202 -> 272 with 128-row blocks, 4k 363 -> 384), one
# tile per block beyond (S=16k: d128 589 vs 533, d64 444 vs 409 persistent).
# Not for varlen (its loop sits inside a branch, which warp specialization does not handle: the sm80 variants serve
# it on sm_90 too).
# H200 (bench/results/2026-12-02-h200-attention-sm90a-jit-{pingpong-overlap,one-tile-epi}-*.json, ratio to cuDNN in
# the same run): ping-pong on the overlap schedule (turns end at the wgmma issues) with one tile per block and O
# staged through Q's shared tile by a TMA store is the fastest d128 kernel from S = 4k on (fp16 full 4k/8k/16k
# 0.986-0.987 / 0.987-1.001 / 0.995-1.014, causal 1.002-1.021 / 1.033-1.051 / 1.065-1.080; the persistent variants
# 0.95-0.96 / 1.00), and for d128 non-causal at 1k too (0.922 vs 0.890); causal 1k stays persistent (0.939 vs 0.930).
# d64: ping-pong + overlap with 128-row persistent tiles up to 2k keys (full 1k 0.909 vs 0.868, causal 0.855 vs
# 0.832); causal beyond 8k keys one 192-row tile per block with a 3-stage ring and the O-in-Q epilogue (1.032 vs
# 1.008 at 16k).
# d128 non-causal up to 2k keys: persistent again (H200, 2026-12-03, six JIT runs: S=1k fp16 0.91-0.95 vs 0.86-0.89 for
# one tile per block, bf16 0.91-0.95 vs 0.87-0.88; bench/results/2026-12-03-h200-attention-sm90a-jit-handoff-*.json,
# -persistent-grid.json, -release-order.json); from 4k on one tile per block stays ahead (0.97-0.98 vs 0.93-0.95).
# d128 causal (the handoff-new and regs-persistent runs): up to 2k keys persistent with ping-pong (S=1k 0.99-1.02 vs
# 0.97-0.99 without), up to 4k persistent without it (4k fp16 1.02-1.06 vs 1.00-1.03 for one tile per block, bf16 1.04
# vs 1.02), one tile per block from 8k on (8k 1.03-1.05 vs 1.02-1.04, 16k 1.10-1.15 vs 1.01-1.05).
# d128 causal up to 8k keys: persistent with ping-pong and O's rescale behind a warp vote (skip_rescale), on the
# unsigned ring counters (H200 JIT, 2026-12-03, bench/results/2026-12-03-h200-attention-sm90a-jit-skip-unit.json:
# fp16/bf16 S=1k 1.003/1.019, 4k 1.088/1.085, 8k 1.065/1.114 vs 1.069/1.054 and 1.028/1.073 without the vote, one
# tile per block 1.024/1.013 and 1.025/1.078); 16k stays one tile per block (1.102/1.116 vs 1.058/1.064). The vote
# costs the one-tile kernel 3-4% (ptxas then waits for P.V ahead of the row max) and d128 non-causal 1k 0-2%: not
# there (bench/results/2026-12-03-h200-attention-sm90a-jit-skip-rescale-run{1,2}.json).
# With the row sums' lane reduction deferred past the loop (tilec's defer_lane_reductions pass, H200 JIT 2026-12-03,
# bench/results/2026-12-03-h200-attention-sm90a-jit-defer-sum-run{1,2}.json, as a source edit with the same SASS):
# the persistent kernel with the rescale vote becomes the fastest d128 non-causal kernel at every length (fp16 / bf16
# vs cuDNN: 1k 0.97-0.98 / 0.95-0.97, 4k 1.00-1.04 / 1.00-1.01, 8k 1.02-1.03 / 1.01-1.02, 16k 1.00-1.01 / 0.98-1.01;
# one tile per block with the deferred sums 0.97-1.00 / 0.99-1.00 at 4k, 0.98-1.00 at 16k) and the d128 causal rows
# stay (persistent + vote up to 8k: 4k 1.09-1.11, 8k 1.11-1.13 bf16; one tile at 16k 1.12-1.13 vs 1.08-1.09).
SM90A_CONFIGS = {
    (64, False): (TileConfig(128, 128, 2, 256, persistent=True, smem_epilogue=True, overlap=True, pingpong=True,
                             max_seqlen_k=2048),
                  TileConfig(192, 128, 2, 384, persistent=True, smem_epilogue=True),),
    (64, True): (TileConfig(128, 128, 2, 256, persistent=True, smem_epilogue=True, overlap=True, pingpong=True,
                            max_seqlen_k=2048),
                 TileConfig(192, 128, 2, 384, persistent=True, smem_epilogue=True, max_seqlen_k=8192),
                 TileConfig(192, 128, 3, 384, smem_epilogue=True)),
    (128, False): (TileConfig(128, 128, 2, 256, persistent=True, smem_epilogue=True, overlap=True, pingpong=True,
                              skip_rescale=True),),
    (128, True): (TileConfig(128, 128, 2, 256, persistent=True, smem_epilogue=True, overlap=True, pingpong=True,
                             skip_rescale=True, max_seqlen_k=8192),
                  TileConfig(128, 128, 2, 256, smem_epilogue=True, overlap=True, pingpong=True)),
    (256, False): (TileConfig(128, 64, 2, 256, persistent=True, overlap=True),),
    (256, True): (TileConfig(128, 64, 2, 256, persistent=True, overlap=True, max_seqlen_k=8192),
                  TileConfig(128, 64, 2, 256)),
}


@dataclass(frozen=True)
class AttentionVariant(VariantBase):
    dtype: str = "float16"
    head_dim: int = 128
    causal: bool = False
    varlen: bool = False
    config: TileConfig = CONFIGS[128][0]

    def build(self):
        c = self.config
        kw = {"causal": self.causal, "block_M": c.block_m, "block_N": c.block_n, "num_stages": c.stages,
              "threads": c.threads, "dtype": self.dtype}
        if self.varlen:
            return flash_attn_varlen_fwd(*(T.symbolic(d) for d in ("total_q", "total_k", "heads", "kv_heads",
                                                                      "batch", "max_seqlen_q", "batch_plus_1")),
                                         self.head_dim, **kw)
        return flash_attn_fwd(*(T.symbolic(d) for d in ("batch", "seqlen_q", "seqlen_k", "heads", "kv_heads")),
                              self.head_dim, persistent=c.persistent, smem_epilogue=c.smem_epilogue,
                              overlap=c.overlap, pingpong=c.pingpong, skip_rescale=c.skip_rescale, **kw)

    def cpp_fields(self) -> list[str]:
        c = self.config
        return [str(_DTYPES[self.dtype][1]), str(self.head_dim), "true" if self.causal else "false",
                str(c.block_m), str(c.block_n), f"{c.max_seqlen_k}LL"]


def variant_name(dtype: str, head_dim: int, causal: bool, varlen: bool, c: TileConfig, lowering: str = "sm80") -> str:
    return (f"attn{'_varlen' if varlen else ''}_{_DTYPES[dtype][0]}_d{head_dim}_{'causal' if causal else 'full'}"
            f"_bm{c.block_m}_bn{c.block_n}_s{c.stages}_t{c.threads}{'_persistent' if c.persistent else ''}"
            f"{'_epi' if c.smem_epilogue else ''}{'_ov' if c.overlap else ''}{'_pp' if c.pingpong else ''}"
            f"{'_sr' if c.skip_rescale else ''}{f'_maxsk{c.max_seqlen_k}' if c.max_seqlen_k else ''}_{lowering}")


def all_variants(varlen: bool) -> list[AttentionVariant]:
    """Every variant of the dense (varlen=False) or varlen family, grouped by (dtype, head_dim, causal), each group
    in preference order."""
    out = []
    for dtype in _DTYPES:
        for d in HEAD_DIMS:
            for causal in (False, True):
                if not varlen:  # first in its group: the stub takes it wherever it can run (sm_90a)
                    for c in SM90A_CONFIGS[(d, causal)]:
                        out.append(AttentionVariant(name=variant_name(dtype, d, causal, varlen, c, "sm90a"),
                                                    lowering="sm90a", archs=("sm_90a",), dtype=dtype, head_dim=d,
                                                    causal=causal, varlen=varlen, config=c))
                for c in CONFIGS[d]:
                    out.append(AttentionVariant(name=variant_name(dtype, d, causal, varlen, c), lowering="sm80",
                                                dtype=dtype, head_dim=d, causal=causal, varlen=varlen, config=c))
    return out


def variants() -> list[AttentionVariant]:
    return all_variants(varlen=False)


def select(dtype: str, head_dim: int, causal: bool, varlen: bool = False,
           runnable=lambda v: True, seqlen_k: int = 0) -> AttentionVariant | None:
    """The variant the C++ stub picks: the first of the (dtype, head_dim, causal) group that admits seqlen_k (varlen:
    max_seqlen_k; TileConfig.max_seqlen_k) and can run on the device (runnable(v): its archs match and its shared
    memory fits). None: no kernel for this problem."""
    for v in all_variants(varlen):
        if v.dtype == dtype and v.head_dim == head_dim and v.causal == causal and runnable(v) and \
                (not v.config.max_seqlen_k or seqlen_k <= v.config.max_seqlen_k):
            return v
    return None
