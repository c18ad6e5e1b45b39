"""Shared-memory planning: place every shared buffer of each kernel in one dynamic shared-memory pool.

Pre:  lowered IR; shared buffers are declared by Alloc statements.
Post: attrs["smem_offsets"][buf] = (kernel, byte offset), attrs["smem_bytes"][kernel] = pool size.
      Offsets are 1024-byte aligned (swizzle patterns and TMA need aligned bases). Raises TilecError at the
      kernel when the pool exceeds the target's per-block limit, listing the buffers.
Buffers are not overlapped yet (no liveness-based reuse).
"""
from __future__ import annotations

from tilec.errors import TilecError
from tilec.ir.func import PrimFunc
from tilec.ir.stmt import Alloc, Kernel
from tilec.ir.visit import walk

ALIGN = 1024


def plan_shared_memory(fn: PrimFunc, target: object = None) -> PrimFunc:
    """See the module docstring."""
    limit = getattr(target, "smem_max", 227 * 1024)
    arch = getattr(target, "arch", "the target")
    offsets: dict = {}
    sizes: dict = {}
    for k in (s for s in walk(fn.body) if isinstance(s, Kernel)):
        off = 0
        items = []
        for a in (s for s in walk(k.body) if isinstance(s, Alloc) and s.buffer.scope == "shared"):
            b = a.buffer
            if b in offsets:
                continue
            nbytes = b.numel() * b.dtype.bytes
            offsets[b] = (k, off)
            items.append((b.name, nbytes))
            off += -(-nbytes // ALIGN) * ALIGN
        sizes[k] = off
        if off > limit:
            detail = ", ".join(f"{n} {s // 1024} KiB" for n, s in items)
            raise TilecError(f"this kernel needs {off} bytes of shared memory ({detail}) but {arch} allows {limit} "
                             "per block; use smaller tiles or fewer pipeline stages", k.loc)
    return fn.with_attrs(smem_offsets=offsets, smem_bytes=sizes)
