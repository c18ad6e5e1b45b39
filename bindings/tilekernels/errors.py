"""The exceptions tilekernels raises (defined here, in Python, so that `_C` and the pure-Python layer share them).

Argument mistakes raise the built-in TypeError (wrong type or dtype) and ValueError (shape, stride, alignment,
device); everything that goes wrong with the GPU, its driver or a kernel raises a TilekernelsError below.
Must not import anything from tilekernels: `_C` imports this module while the package is still initialising.
"""
from __future__ import annotations


class TilekernelsError(RuntimeError):
    """Base class of the GPU-side errors of tilekernels."""


class CudaError(TilekernelsError):
    """A CUDA driver call failed.

    Attributes:
        error_name: the CUDA error name ("CUDA_ERROR_ILLEGAL_ADDRESS"), or "" when tilekernels itself found the
            problem (e.g. no kernel for this GPU).
        code: the CUresult (0 when not from the driver).
        call: the driver call that failed ("cuLaunchKernelEx"), or the tilekernels function.
        kernel: the kernel variant involved ("gemm_f16_nn_128x128x32_s3_t128_sm80"), or None.
    """

    error_name: str = ""
    code: int = 0
    call: str = ""
    kernel: str | None = None


class NoGPUError(CudaError):
    """No usable NVIDIA GPU: libcuda.so.1 is missing, or the driver sees no device. The message says what to check."""


class UnsupportedGPUError(CudaError):
    """This build of tilekernels has no kernel that runs on the GPU (its arch was not in the build's TILEC_ARCHS).

    The message names the GPU and its compute capability, the archs and CUDA version of the build, the driver
    version, and how to build tilekernels for this GPU.
    """
