"""The toolchain: nvcc discovery and invocation, the arch table and TILEC_ARCHS parsing, the compile cache.

Owns everything that turns generated CUDA C++ into cubins/PTX. Must not import tilec.transform,
tilec.frontend or tilec.codegen (it sits below them); tilec.runtime is imported lazily, only to ask
the driver for the current device's target.
"""
from __future__ import annotations

from tilec.toolchain.arch import (
                                  ArchEntry,
                                  Target,
                                  current_device_target,
                                  format_arch_list,
                                  nvcc_gencode_flags,
                                  parse_arch_list,
                                  parse_target,
                                  target_for_cc,
)
from tilec.toolchain.nvcc import (
                                  CompileOptions,
                                  CompileResult,
                                  compile_cubin,
                                  compile_ptx,
                                  find_nvcc,
                                  nvcc_version,
                                  parse_ptxas_report,
)

__all__ = [
    "ArchEntry", "CompileOptions", "CompileResult", "Target", "compile_cubin", "compile_ptx", "current_device_target",
    "find_nvcc", "format_arch_list", "nvcc_gencode_flags", "nvcc_version", "parse_arch_list", "parse_ptxas_report",
    "parse_target", "target_for_cc",
]
