"""A one-family test catalogue for tests/cpu/test_build.py: Y = 2 * X over a 1-D float32 tensor.

`scale_b256_t128` compiles in about a second; `scale_b8192_t32_spills` keeps 256 floats per thread in registers,
which ptxas spills: the build must refuse it. TILEC_TEST_SPILL=1 adds it to the catalogue.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import tilec.language as T
from tilec.aot.catalogue import VariantBase

FAMILY = "scale"
DIMS = ("M",)
TENSORS = ("X", "Y")
CPP_STRUCT = "ScaleVariant"


def scale(M, block: int, threads: int):
    @T.prim_func
    def main(X: T.Tensor((M,), "float32"), Y: T.Tensor((M,), "float32")):
        with T.Kernel(T.ceildiv(M, block), threads=threads) as bx:
            x = T.alloc_fragment((block,), "float32")
            T.copy(X[bx * block], x)
            for i in T.Parallel(block):
                x[i] = x[i] * 2.0
            T.copy(x, Y[bx * block])

    return main


@dataclass(frozen=True)
class ScaleVariant(VariantBase):
    block: int = 256
    threads: int = 128

    def build(self):
        return scale(T.symbolic("M"), self.block, self.threads)

    def cpp_fields(self) -> list[str]:
        return [str(self.block)]


def variants() -> list[ScaleVariant]:
    out = [ScaleVariant(name="scale_b256_t128", block=256, threads=128)]
    if os.environ.get("TILEC_TEST_SPILL"):
        out.append(ScaleVariant(name="scale_b8192_t32_spills", block=8192, threads=32))
    return out


def select(M: int) -> ScaleVariant:
    return variants()[0]
