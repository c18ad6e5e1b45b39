"""The JIT runtime: load cubins through the CUDA driver API and launch them on torch/cupy/DLPack tensors.

Importing it needs no GPU, driver or torch (libcuda.so.1 is loaded on first use). Must not import
tilec.transform, tilec.frontend or tilec.codegen: it reads only tilec.metadata, the contract codegen fills.
"""
from __future__ import annotations

from tilec.runtime import driver
from tilec.runtime.launcher import Launcher, compile_expr, convert_scalar
from tilec.runtime.tensors import DeviceArray, as_device_array

__all__ = ["DeviceArray", "Launcher", "as_device_array", "compile_expr", "convert_scalar", "driver"]
