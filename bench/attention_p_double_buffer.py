"""Experiment (bench only, not the compiler): the d128 sm_90a attention source with the P fragment double-buffered.

In the overlapped loop, iteration k issues P_{k-1}.V_{k-1} (wgmma with P in registers) and then writes P_k into the
same registers, so ptxas must wait for that wgmma before the first P_k conversion (mid-softmax). Here the consumer loop
is unrolled by two with P alternating between acc_s_cast and acc_s_cast_b, so no write of P waits on the wgmma that
reads the other buffer; the wait moves to the next use of acc_o (the next iteration's rescale). If this measures
faster, the compiler gets the same transformation (modulo variable expansion of async wgmma register operands).

double_buffer_p(src) -> src: the source edit; it raises ValueError when the source does not have the expected shape.
"""
from __future__ import annotations

import re

LOOP = "for (int k_it = 1; k_it < (1 + (n_blocks + -1)); ++k_it) {"


def _block_end(src: str, open_brace: int) -> int:
    depth = 0
    for i in range(open_brace, len(src)):
        if src[i] == "{":
            depth += 1
        elif src[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def _retarget(body: str, write: str, read: str) -> str:
    """The loop body with P's writes going to `write` and the P.V wgmma reading `read`."""
    body = re.sub(r"\bacc_s_cast\[(\d+)\] =", lambda m: f"{write}[{m.group(1)}] =", body)
    n = body.count("(&acc_s_cast[0])")
    if n != 1:
        raise ValueError(f"expected one P.V wgmma reading acc_s_cast, found {n}")
    return body.replace("(&acc_s_cast[0])", f"(&{read}[0])")


def double_buffer_p(src: str) -> str:
    if src.count(LOOP) != 1:
        raise ValueError("the overlapped consumer loop was not found")
    start = src.index(LOOP)
    ob = start + len(LOOP) - 1
    end = _block_end(src, ob)
    body = src[ob + 1:end]
    decl = "half_t acc_s_cast[64];"
    if decl not in src:
        raise ValueError("acc_s_cast declaration not found")
    odd = _retarget(body, "acc_s_cast_b", "acc_s_cast")    # k_it odd: P_k -> b, P.V reads P_{k-1} (a)
    even = _retarget(body, "acc_s_cast", "acc_s_cast_b")   # k_it even: P_k -> a, P.V reads b
    copy_back = "\n".join(f"        acc_s_cast[{i}] = acc_s_cast_b[{i}];" for i in range(64))
    new_loop = (
        "int k_it = 1;\n"
        "      #pragma unroll 1\n"
        "      for (; k_it + 1 < n_blocks; k_it += 2) {\n"
        "        {" + odd + "}\n"
        "        { ++k_it;" + even + "}\n"
        "        --k_it;\n"
        "      }\n"
        "      if (k_it < n_blocks) {\n"
        "        {" + odd + "}\n"
        + copy_back + "\n"
        "      }\n")
    out = src[:start] + new_loop + src[end + 1:]
    return out.replace(decl, decl + "\n  half_t acc_s_cast_b[64];", 1)
