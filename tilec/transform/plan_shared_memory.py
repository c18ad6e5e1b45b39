"""Shared-memory planning: place every shared buffer of each kernel in one dynamic shared-memory pool.

Pre:  lowered IR; shared buffers are declared by Alloc statements.
Post: attrs["smem_offsets"][buf] = (kernel, byte offset), attrs["smem_bytes"][kernel] = pool size.
      Buffers of 1024 bytes or more (tiles) come first, at 1024-byte aligned offsets (swizzle patterns and TMA need
      aligned bases); the small ones follow: 1-D buffers (mbarriers, scratch) packed at 16-byte alignment, small 2-D
      tiles aligned to their size rounded up to a power of two, so a small swizzled tile starts on its swizzle atom. Both groups keep the
      order of their Allocs. Raises TilecError at the kernel when the pool exceeds the target's per-block limit,
      listing the buffers.
Buffers are not overlapped yet (no liveness-based reuse).
"""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Alloc, Kernel
from tilec.ir.visit import walk

ALIGN = 1024
SMALL_ALIGN = 16


def plan_shared_memory(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""
    limit = getattr(target, "smem_max", 227 * 1024)
    arch = getattr(target, "arch", "the target")
    offsets: dict = {}
    sizes: dict = {}
    for k in (s for s in walk(fn.body) if isinstance(s, Kernel)):
        off = 0
        items = []
        bufs = list(dict.fromkeys(s.buffer for s in walk(k.body) if isinstance(s, Alloc) and s.buffer.scope == "shared"
                                  and s.buffer not in offsets))
        large = [b for b in bufs if b.numel() * b.dtype.bytes >= ALIGN]
        for b in large + [b for b in bufs if b not in large]:
            nbytes = b.numel() * b.dtype.bytes
            align = ALIGN if b in large else \
                max(SMALL_ALIGN, 1 << (nbytes - 1).bit_length()) if b.ndim >= 2 else SMALL_ALIGN
            off = -(-off // align) * align
            offsets[b] = (k, off)
            items.append((b.name, nbytes))
            off += nbytes
        off = -(-off // SMALL_ALIGN) * SMALL_ALIGN
        sizes[k] = off
        if off > limit:
            detail = ", ".join(f"{n} {s // 1024} KiB" for n, s in items)
            raise TilecError(f"this kernel needs {off} bytes of shared memory ({detail}) but {arch} allows {limit} "
                             "per block; use smaller tiles or fewer pipeline stages", k.loc)
    return fn.with_attrs(smem_offsets=offsets, smem_bytes=sizes)
