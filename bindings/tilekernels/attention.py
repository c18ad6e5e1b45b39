"""tilekernels.flash_attn / flash_attn_varlen: FlashAttention forward (flash-attn's layouts and conventions) for torch
tensors, and for cupy / DLPack / __cuda_array_interface__ arrays.

Like gemm, the torch path is one call into `_C` (`flash_attn_torch`, `flash_attn_varlen_torch`), which reads the
tensors through their Python methods, checks everything, allocates the outputs with `q.new_empty` and launches on
torch's current stream. Other arrays are described to `_C` as plain tuples (tilekernels._arrays).
"""
from __future__ import annotations

from . import _C
from ._arrays import TORCH_TYPES as _TORCH_TYPES
from ._arrays import allocate_like, current_stream, describe, is_torch, type_name


def flash_attn(q: object, k: object, v: object, *, causal: bool = False, softmax_scale: float | None = None,
               return_lse: bool = False, out: object = None, stream: int | None = None) -> object:
    """Attention ``softmax(softmax_scale * q @ k^T + mask) @ v`` of float16 or bfloat16 tensors on an NVIDIA GPU.

    FlashAttention-2 forward (one pass, online softmax, float32 accumulation) with flash-attn's conventions:
    ``q`` is [batch, seqlen_q, heads, head_dim], ``k`` and ``v`` are [batch, seqlen_k, kv_heads, head_dim], all
    contiguous (``q.contiguous()`` of a [batch, heads, seqlen, head_dim] view). ``heads`` must be a multiple of
    ``kv_heads`` (grouped-query / multi-query attention: query head ``h`` reads key/value head
    ``h // (heads // kv_heads)``). head_dim is 64, 128 or 256. The kernel is launched asynchronously.

    With ``causal=True`` query row ``i`` sees key ``j`` iff ``j <= i + seqlen_k - seqlen_q``: the mask is aligned to
    the bottom-right corner when ``seqlen_q != seqlen_k`` (flash-attn >= 2.1; torch's ``is_causal`` is top-left).
    A query row that sees no key at all (``seqlen_k == 0``, or causal rows ``i < seqlen_q - seqlen_k``) gets
    ``out = 0`` and ``lse = +inf``.

    Args:
        q: [batch, seqlen_q, heads, head_dim] CUDA tensor: a torch tensor, or any array with
            ``__cuda_array_interface__`` or ``__dlpack__`` (cupy, numba, jax, ...).
        k: [batch, seqlen_k, kv_heads, head_dim] of q's dtype, on q's GPU.
        v: like k.
        causal: apply the (bottom-right aligned) causal mask.
        softmax_scale: the scale of ``q @ k^T``, a finite float > 0; None for ``1 / sqrt(head_dim)``.
        return_lse: also return the log-sum-exp of each row's scaled scores (natural log, float32),
            ``lse[b, h, i] = log(sum_j exp(softmax_scale * q[b, i, h] . k[b, j, h_kv]))`` over the visible keys.
        out: optional [batch, seqlen_q, heads, head_dim] contiguous output of q's dtype, not overlapping the inputs.
            When None it is allocated like ``q`` (torch, or cupy for cupy arrays; other array types need ``out``).
        stream: CUDA stream handle (``cudaStream_t`` as an int) to launch on. Default: the current stream of the
            framework that owns the arrays (torch, cupy), else the legacy default stream.

    Returns:
        ``out`` (a new tensor when ``out`` was None), or ``(out, lse)`` when ``return_lse``: ``lse`` is a new
        float32 [batch, heads, seqlen_q] tensor.

    Raises:
        TypeError: an argument is not an array, a dtype is unsupported or differs, or ``causal``,
            ``softmax_scale`` or ``return_lse`` has the wrong type.
        ValueError: wrong ranks or shapes (head_dim, batch, heads not a multiple of kv_heads), a host (CPU) array or
            mixed GPUs, non-contiguous strides, misaligned data, over 2**31 elements, a head_dim this build has no
            kernel for, ``softmax_scale`` <= 0, or ``out`` overlapping an input.
        NoGPUError: no NVIDIA driver or GPU.
        UnsupportedGPUError: this build has no kernel for the GPU's arch (the message says how to get one).
        CudaError: a CUDA driver call failed (the message names the kernel and the CUDA error).
    """
    t = _TORCH_TYPES
    if type(q) in t and type(k) in t and type(v) in t and (out is None or type(out) in t):
        return _C.flash_attn_torch(q, k, v, out, causal, softmax_scale, return_lse, stream)
    return _flash_attn_first_or_generic(q, k, v, causal, softmax_scale, return_lse, out, stream)


def flash_attn_varlen(q: object, k: object, v: object, cu_seqlens_q: object, cu_seqlens_k: object,
                      max_seqlen_q: int, max_seqlen_k: int, *, causal: bool = False,
                      softmax_scale: float | None = None, out: object = None, stream: int | None = None) -> object:
    """FlashAttention forward over a batch of sequences of different lengths, packed without padding.

    Sequence ``b`` is rows ``cu_seqlens_q[b] .. cu_seqlens_q[b + 1] - 1`` of ``q`` and rows
    ``cu_seqlens_k[b] .. cu_seqlens_k[b + 1] - 1`` of ``k`` and ``v``; each attends only to its own keys, with
    :func:`flash_attn`'s conventions (GQA/MQA heads, head_dim 64/128/256, bottom-right aligned causal mask per
    sequence, ``out = 0`` for a row with no visible key). float16 or bfloat16; launched asynchronously.

    ``cu_seqlens_q`` and ``cu_seqlens_k`` live on the GPU, so they are not read here: they must start at 0 and not
    decrease, and ``max_seqlen_q`` must be at least the longest query sequence (its rows past
    ``max_seqlen_q`` are not computed; flash-attn has the same contract). The kernels clamp every offset to the
    packed tensors, so wrong offsets give wrong rows, never an out-of-bounds access. Rows of ``out`` that belong to
    no sequence (past ``cu_seqlens_q[-1]``) are not written.

    Args:
        q: [total_q, heads, head_dim] CUDA tensor: a torch tensor, or any array with ``__cuda_array_interface__``
            or ``__dlpack__``.
        k: [total_k, kv_heads, head_dim] of q's dtype, on q's GPU.
        v: like k.
        cu_seqlens_q: int32 [batch + 1] offsets of the sequences in q (0 first, non-decreasing), on q's GPU.
        cu_seqlens_k: int32 [batch + 1] offsets of the sequences in k and v.
        max_seqlen_q: the longest query sequence, an int in 0..total_q.
        max_seqlen_k: the longest key sequence, an int in 0..total_k.
        causal: apply the causal mask (bottom-right aligned within each sequence).
        softmax_scale: the scale of ``q @ k^T``, a finite float > 0; None for ``1 / sqrt(head_dim)``.
        out: optional [total_q, heads, head_dim] contiguous output of q's dtype, not overlapping the inputs. When
            None it is allocated like ``q`` (torch, or cupy for cupy arrays; other array types need ``out``).
        stream: CUDA stream handle (``cudaStream_t`` as an int) to launch on. Default: the current stream of the
            framework that owns the arrays (torch, cupy), else the legacy default stream.

    Returns:
        ``out``: [total_q, heads, head_dim] of q's dtype (a new one when ``out`` was None).

    Raises:
        TypeError: an argument is not an array, a dtype is unsupported or differs (cu_seqlens must be int32), or
            ``causal``, ``softmax_scale`` or a max_seqlen has the wrong type.
        ValueError: wrong ranks or shapes, cu_seqlens_q and cu_seqlens_k of different lengths, a max_seqlen out of
            range, a host (CPU) array or mixed GPUs, non-contiguous strides, misaligned data, over 2**31 elements, a
            head_dim this build has no kernel for, ``softmax_scale`` <= 0, or ``out`` overlapping an input.
        NoGPUError: no NVIDIA driver or GPU.
        UnsupportedGPUError: this build has no kernel for the GPU's arch (the message says how to get one).
        CudaError: a CUDA driver call failed (the message names the kernel and the CUDA error).
    """
    t = _TORCH_TYPES
    if (type(q) in t and type(k) in t and type(v) in t and type(cu_seqlens_q) in t and type(cu_seqlens_k) in t
            and (out is None or type(out) in t)):
        return _C.flash_attn_varlen_torch(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, out,
                                          causal, softmax_scale, stream)
    return _varlen_first_or_generic(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, causal,
                                    softmax_scale, out, stream)


def _flash_attn_first_or_generic(q: object, k: object, v: object, causal: object, softmax_scale: object,
                                 return_lse: object, out: object, stream: int | None) -> object:
    if all(is_torch(x) for x in (q, k, v)) and (out is None or is_torch(out)):
        return _C.flash_attn_torch(q, k, v, out, causal, softmax_scale, return_lse, stream)
    api = "flash_attn"
    if return_lse is not True and return_lse is not False:
        raise TypeError(f"tilekernels.{api}: return_lse must be True or False, got {type(return_lse).__name__}")
    rq, rk, rv = (describe(x, name, stream, api) for x, name in ((q, "q"), (k, "k"), (v, "v")))
    out_shape, lse_shape = _C.flash_attn_check(rq, rk, rv, causal, softmax_scale)
    if stream is None:
        stream = current_stream(q, rq[4])
    if out is None:
        out = allocate_like(q, out_shape, rq, api)
    lse = None
    if return_lse:
        try:
            lse = allocate_like(q, lse_shape, rq, api, "float32")
        except TypeError:
            raise TypeError(f"tilekernels.{api}: return_lse=True allocates lse like q, which tilekernels can do for "
                            f"torch and cupy arrays only, not {type_name(q)}") from None
    _C.flash_attn_raw(rq, rk, rv, describe(out, "out", stream, api), causal, softmax_scale, stream,
                      None if lse is None else describe(lse, "lse", stream, api))
    return (out, lse) if return_lse else out


def _varlen_first_or_generic(q: object, k: object, v: object, cu_q: object, cu_k: object, max_q: object,
                             max_k: object, causal: object, softmax_scale: object, out: object,
                             stream: int | None) -> object:
    if all(is_torch(x) for x in (q, k, v, cu_q, cu_k)) and (out is None or is_torch(out)):
        return _C.flash_attn_varlen_torch(q, k, v, cu_q, cu_k, max_q, max_k, out, causal, softmax_scale, stream)
    api = "flash_attn_varlen"
    names = ("q", "k", "v", "cu_seqlens_q", "cu_seqlens_k")
    raw = [describe(x, name, stream, api) for x, name in zip((q, k, v, cu_q, cu_k), names)]
    out_shape = _C.flash_attn_varlen_check(*raw, max_q, max_k, causal, softmax_scale)
    if stream is None:
        stream = current_stream(q, raw[0][4])
    if out is None:
        out = allocate_like(q, out_shape, raw[0], api)
    _C.flash_attn_varlen_raw(*raw, max_q, max_k, describe(out, "out", stream, api), causal, softmax_scale, stream)
    return out
