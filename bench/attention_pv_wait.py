"""A bench-only source edit (an experiment, not a compiler feature) of the sm_90a attention kernel's main loop.

pv_wait_after_exp(src, n): the K-stage release moves from right after the Q.K^T wait to just after the exponential
of score register n - 1, its address taking a data dependence on acc_s[0 .. n-1] (0 * their sum: n - 1 more adds),
so ptxas computes those first; the
wait for the P.V wgmma and the V-stage release move from the end of the main-loop iteration to right after it
(ptxas keeps the arrive ahead of the wait), and the exponentials of acc_s[n ..] take
a data dependence on the P.V result (their row offset m_off + (int)(acc_o[0] * 0), which is m_off: 0 * a finite
value is 0, NaN converts to 0), so ptxas cannot schedule them ahead of the wait (register fences would not do: they
constrain the C++ compiler, not ptxas). Waiting earlier is always correct (the P.V result is only needed by the
next iteration's rescale, the P cast only must not overwrite P before the wgmma read it).

ptxas places the wait itself: after the row max and ~9 exponentials in the one-tile d128 kernel (the fastest
measured), after all 64 in the persistent kernel with unsigned ring counters, before the row max with signed ones
(bench/attention_release_order.py's notes). This edit sets the split point, so each kernel can be measured with the
one-tile kernel's order. Raises ValueError when the source lacks the pattern.
"""
from __future__ import annotations

import re

_HELPER = r'''
// bench/attention_pv_wait.py: v, after the instruction that produces a (0 * a, converted to an integer: 0).
__device__ __forceinline__ float tl_after(float v, float a) {
  int z;
  asm("{ .reg .f32 t; mul.rn.f32 t, %1, 0f00000000; cvt.rzi.s32.f32 %0, t; }" : "=r"(z) : "f"(a));
  return v + static_cast<float>(z);
}
// An arrive whose address depends on a (0 * a converted to an integer), so ptxas cannot schedule it before a.
__device__ __forceinline__ void tl_arrive_after_value(uint64_t* bar, float a) {
  int z;
  asm volatile("{ .reg .f32 t; mul.rn.f32 t, %1, 0f00000000; cvt.rzi.s32.f32 %0, t; }" : "=r"(z) : "f"(a));
  tilec::mbarrier_arrive_warp(reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(bar) + z));
}
'''
_K_REL = re.compile(r"(tilec::wgmma_wait<1>\(acc_s\);\n)\s*tilec::mbarrier_arrive_warp\(\((&tl_empty_K_shared\[[^\n]*\])\)\);\n")

_WAIT = re.compile(r"\n(\s*)tilec::wgmma_wait<0>\(acc_o\);\n\s*(tilec::mbarrier_arrive_warp\(\(&tl_empty_V_shared\[[^\n]*\]\)\);)\n")


def pv_wait_after_exp(src: str, n: int) -> str:
    loop = src.index("for (int k_it")
    body_end = _WAIT.search(src, loop)
    if not body_end:
        raise ValueError("pv_wait_after_exp: no P.V wait + V release at the end of the main loop")
    exp = re.compile(r"\n(\s*)acc_s\[%d\] = exp2f\([^\n]*\n" % (n - 1))
    e = exp.search(src, loop, body_end.start())
    total = len(re.findall(r"acc_s\[\d+\] = exp2f", src[loop:body_end.start()]))
    if not e or not 0 < n < total:
        raise ValueError(f"pv_wait_after_exp: no exponential of acc_s[{n - 1}] in the main loop ({total} found)")
    ind = e.group(1)
    k = _K_REL.search(src, loop, e.start())
    if not k:
        raise ValueError("pv_wait_after_exp: no K-stage release after the Q.K^T wait in the main loop")
    moved = (f"{ind}tl_arrive_after_value(({k.group(2)}), {' + '.join(f'acc_s[{i}]' for i in range(n))});\n{ind}tilec::wgmma_wait<0>(acc_o);\n{ind}{body_end.group(2)}\n"
             f"{ind}tl_mo0 = tl_after(m_off[0], acc_o[0]);\n{ind}tl_mo1 = tl_after(m_off[1], acc_o[0]);\n")
    rest = src[e.end():body_end.start()]
    late = re.sub(r"(acc_s\[\d+\] = exp2f\(\(\(acc_s\[\d+\] \* qk_scale\) - )m_off\[([01])\]\)\)",
                  lambda m: f"{m.group(1)}tl_mo{m.group(2)}))", rest)
    if late.count("tl_mo") != total - n:
        raise ValueError("pv_wait_after_exp: the exponentials after the split do not have the expected form")
    out = src[:k.start()] + k.group(1) + src[k.end():e.end()] + moved + late + "\n" + src[body_end.end():]
    head = out.index("{", out.index("for (int k_it")) + 1  # the two offsets live in the loop body's scope
    out = out[:head] + "\n  float tl_mo0, tl_mo1;" + out[head:]
    i = out.index('extern "C"')
    return out[:i] + _HELPER + "\n" + out[i:]
