"""Varlen attention family: the packed-sequence FlashAttention forward of kernels/attention.py (which documents
the kernel, its ABI and its variants). A separate family because its tensor list (cu_seqlens_q, cu_seqlens_k) and
runtime dims differ from the dense kernel's, and a family has one kernel ABI."""
from __future__ import annotations

from kernels.attention import (
    SCALARS,
    VARLEN_CPP_STRUCT,
    VARLEN_DIMS,
    VARLEN_FAMILY,
    VARLEN_TENSORS,
    AttentionVariant,
    all_variants,
)
from kernels.attention import select as _select

FAMILY = VARLEN_FAMILY
DIMS = VARLEN_DIMS
TENSORS = VARLEN_TENSORS
CPP_STRUCT = VARLEN_CPP_STRUCT
SHIPPED = True  # bindings/src/attention.cpp (tilekernels.flash_attn_varlen)
__all__ = ["CPP_STRUCT", "DIMS", "FAMILY", "SCALARS", "SHIPPED", "TENSORS", "select", "variants"]


def variants() -> list[AttentionVariant]:
    return all_variants(varlen=True)


def select(dtype: str, head_dim: int, causal: bool, runnable=lambda v: True) -> AttentionVariant | None:
    """The variant the C++ stub picks (see kernels.attention.select)."""
    return _select(dtype, head_dim, causal, varlen=True, runnable=runnable)
