"""A bench-only source edit (an experiment, not a compiler feature) of the sm_90a attention kernel's main loop.

k_release_after_max(src): the K-stage release after the Q.K^T wait moves below the row-max update and takes a data
dependence on the row maxima m_i (t * 0 is 0 or NaN, and NaN converts to 0), so ptxas cannot schedule it earlier.
ptxas keeps the wait for P.V (which it places itself, ahead of the P cast that overwrites the P.V wgmma's register
operand) after that release; without the edit it puts the two right after the Q.K^T wait in the persistent kernel
(no exponential ahead of the P.V wait) and after the row max and ~9 exponentials in the one-tile kernel. With the
edit both end up after all 64 exponentials. Measured (bench/results/2026-12-03-h200-attention-sm90a-jit-release-
order.json): the persistent kernel 2-3% faster, the one-tile kernel 3% slower; see also
bench/results/2026-12-03-h200-attention-ncu-persistent-vs-one-tile.txt. Raises ValueError when the kernel source
does not have the pattern.
"""
from __future__ import annotations

import re

_HELPER = r'''
// bench/attention_release_order.py: an arrive whose address depends on two values, so that ptxas cannot schedule it
// before they are computed.
__device__ __forceinline__ void tl_arrive_after(uint64_t* bar, float a, float b) {
  int z;
  asm volatile("{ .reg .f32 t; mul.rn.f32 t, %1, 0f00000000; fma.rn.f32 t, %2, 0f00000000, t; cvt.rzi.s32.f32 %0, t; }"
               : "=r"(z) : "f"(a), "f"(b));
  tilec::mbarrier_arrive_warp(reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(bar) + z));
}
'''

_K_REL = re.compile(r"(tilec::wgmma_wait<1>\(acc_s\);\n)(\s*)"
                    r"tilec::mbarrier_arrive_warp\(\((&tl_empty_K_shared\[[^\n]*\])\)\);\n")
_M_I = re.compile(r"\n(\s*)m_i\[1\] = fmaxf\(m_i\[1\], red_\d+\);\n")


def k_release_after_max(src: str) -> str:
    loop = src.index("for (int k_it")
    m = _K_REL.search(src, loop)
    if not m:
        raise ValueError("k_release_after_max: no K-stage release after the Q.K^T wait in the main loop")
    head, tail = src[:m.start()] + m.group(1), src[m.end():]
    mm = _M_I.search(tail)
    if not mm:
        raise ValueError("k_release_after_max: no row-max update after the K release")
    arrive = f"{mm.group(1)}tl_arrive_after(({m.group(3)}), m_i[0], m_i[1]);\n"
    out = head + tail[:mm.end()] + arrive + tail[mm.end():]
    i = out.index('extern "C"')
    return out[:i] + _HELPER + "\n" + out[i:]
