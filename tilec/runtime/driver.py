"""ctypes binding to the CUDA driver API (libcuda.so.1), loaded lazily: importing needs no GPU or driver.

Every wrapper raises CudaDriverError (a TilecRuntimeError) naming the call, the CUDA error name and string,
and the kernel when known. A missing driver or GPU raises TilecRuntimeError on the first call that needs it.
"""
from __future__ import annotations

import ctypes
import sys
import threading
from ctypes import POINTER, byref, c_char, c_char_p, c_int, c_size_t, c_uint, c_uint32, c_uint64, c_void_p

from tilec.errors import TilecRuntimeError

# enum values from CUDA 13's cuda.h
CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97
CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0
CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1
CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3
CU_FUNC_ATTRIBUTE_NUM_REGS = 4
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED = 14
CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9
CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4
CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6
CUDA_ERROR_NO_DEVICE = 100
CUDA_ERROR_NO_BINARY_FOR_GPU = 209
CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222

_HINTS = {
    CUDA_ERROR_NO_BINARY_FOR_GPU: "the cubin holds no code for this GPU's arch: compile for this device "
                                  "(tilec.toolchain.current_device_target()) or include PTX",
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION: "the PTX was produced by a newer CUDA than this driver supports: "
                                        "update the NVIDIA driver or ship a cubin for this GPU",
}


class CudaDriverError(TilecRuntimeError):
    """A CUDA driver call failed. Attributes: call, code (CUresult), error_name, kernel (or None)."""

    def __init__(self, message: str, call: str, code: int, error_name: str, kernel: str | None = None):
        super().__init__(message)
        self.call, self.code, self.error_name, self.kernel = call, code, error_name, kernel


class _LaunchAttrValue(ctypes.Union):
    _fields_ = [("pad", c_char * 64), ("clusterDim", c_uint * 3), ("value_int", c_int), ("_align", c_void_p)]


class _LaunchAttr(ctypes.Structure):  # CUlaunchAttribute: id, pad[8 - sizeof(id)], 64-byte value union
    _fields_ = [("id", c_int), ("pad", c_char * 4), ("value", _LaunchAttrValue)]


class _LaunchConfig(ctypes.Structure):  # CUlaunchConfig
    _fields_ = [("gridDimX", c_uint), ("gridDimY", c_uint), ("gridDimZ", c_uint),
                ("blockDimX", c_uint), ("blockDimY", c_uint), ("blockDimZ", c_uint),
                ("sharedMemBytes", c_uint), ("hStream", c_void_p), ("attrs", POINTER(_LaunchAttr)),
                ("numAttrs", c_uint)]


assert ctypes.sizeof(_LaunchAttr) == 72 and ctypes.sizeof(_LaunchConfig) == 56, "CUDA struct layout (internal error)"

_P = c_void_p
_SIGNATURES = {
    "cuInit": [c_uint],
    "cuDriverGetVersion": [POINTER(c_int)],
    "cuGetErrorName": [c_int, POINTER(c_char_p)],
    "cuGetErrorString": [c_int, POINTER(c_char_p)],
    "cuDeviceGet": [POINTER(c_int), c_int],
    "cuDeviceGetCount": [POINTER(c_int)],
    "cuDeviceGetAttribute": [POINTER(c_int), c_int, c_int],
    "cuDeviceGetName": [c_char_p, c_int, c_int],
    "cuDevicePrimaryCtxRetain": [POINTER(_P), c_int],
    "cuCtxGetCurrent": [POINTER(_P)],
    "cuCtxSetCurrent": [_P],
    "cuCtxGetDevice": [POINTER(c_int)],
    "cuCtxSynchronize": [],
    "cuModuleLoadData": [POINTER(_P), c_void_p],
    "cuModuleUnload": [_P],
    "cuModuleGetFunction": [POINTER(_P), _P, c_char_p],
    "cuFuncSetAttribute": [_P, c_int, c_int],
    "cuFuncGetAttribute": [POINTER(c_int), c_int, _P],
    "cuOccupancyMaxActiveBlocksPerMultiprocessor": [POINTER(c_int), _P, c_int, c_size_t],
    "cuOccupancyMaxActiveClusters": [POINTER(c_int), _P, POINTER(_LaunchConfig)],
    "cuLaunchKernel": [_P, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, _P, c_void_p, c_void_p],
    "cuLaunchKernelEx": [POINTER(_LaunchConfig), _P, c_void_p, c_void_p],
    "cuStreamSynchronize": [_P],
    "cuMemAlloc_v2": [POINTER(c_uint64), c_size_t],
    "cuMemFree_v2": [c_uint64],
    "cuMemcpyHtoD_v2": [c_uint64, c_void_p, c_size_t],
    "cuMemcpyDtoH_v2": [c_void_p, c_uint64, c_size_t],
    "cuMemsetD8_v2": [c_uint64, ctypes.c_ubyte, c_size_t],
    "cuPointerGetAttribute": [c_void_p, c_int, c_uint64],
    "cuTensorMapEncodeTiled": [c_void_p, c_int, c_uint32, c_void_p, POINTER(c_uint64), POINTER(c_uint64),
                               POINTER(c_uint32), POINTER(c_uint32), c_int, c_int, c_int, c_int],
}

_lib: ctypes.CDLL | None = None
_lock = threading.Lock()
_primary: dict[int, int] = {}
_ctx_device: dict[int, int] = {}


def _load() -> ctypes.CDLL:
    global _lib
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is not None:
            return _lib
        name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            raise TilecRuntimeError(
                f"no CUDA driver found ({name}): {e}. Running kernels needs an NVIDIA GPU with its driver installed "
                f"(check `nvidia-smi`); compiling (tilec.toolchain) works without one") from None
        for fname, argtypes in _SIGNATURES.items():
            fn = getattr(lib, fname, None)
            if fn is not None:  # cuLaunchKernelEx/cuTensorMapEncodeTiled are missing from old drivers
                fn.argtypes, fn.restype = argtypes, c_int
        rc = lib.cuInit(0)
        if rc != 0:
            raise TilecRuntimeError(
                f"CUDA driver initialisation failed: cuInit returned {_error_text(lib, rc)}; check that a GPU is "
                f"visible (`nvidia-smi`, CUDA_VISIBLE_DEVICES) and the NVIDIA driver is working")
        _lib = lib
        return lib


def _error_text(lib: ctypes.CDLL, rc: int) -> str:
    name, text = c_char_p(), c_char_p()
    lib.cuGetErrorName(rc, byref(name))
    lib.cuGetErrorString(rc, byref(text))
    n = name.value.decode() if name.value else f"CUresult {rc}"
    return f"{n} ({text.value.decode() if text.value else 'unknown error'})"


def error_name(rc: int) -> str:
    """The CUDA error name of a CUresult ("CUDA_ERROR_INVALID_VALUE"). Raises TilecRuntimeError without a driver."""
    name = c_char_p()
    _load().cuGetErrorName(rc, byref(name))
    return name.value.decode() if name.value else f"CUresult {rc}"


def check(rc: int, call: str, kernel: str | None = None) -> None:
    """Raise CudaDriverError for a failed CUresult `rc` of `call`; return when rc == 0."""
    if rc == 0:
        return
    lib = _load()
    msg = f"{call} failed with {_error_text(lib, rc)}" + (f" for kernel '{kernel}'" if kernel else "")
    if rc in _HINTS:
        msg += f": {_HINTS[rc]}"
    raise CudaDriverError(msg, call, rc, error_name(rc), kernel)


def lib() -> ctypes.CDLL:
    """The loaded, initialised libcuda with argtypes declared (for hot paths that call it directly).

    Raises:
        TilecRuntimeError: no driver, or cuInit failed (no GPU visible).
    """
    return _load()


def _fn(name: str):
    fn = getattr(_load(), name, None)
    if fn is None:
        raise TilecRuntimeError(f"the installed CUDA driver lacks {name}; update the NVIDIA driver")
    return fn


def available() -> bool:
    """True when the driver loads, initialises and sees at least one GPU. Never raises."""
    try:
        return device_count() > 0
    except TilecRuntimeError:
        return False


def driver_version() -> int:
    """The driver's CUDA version as an int (13000 for 13.0). Raises TilecRuntimeError (no driver)."""
    v = c_int()
    check(_load().cuDriverGetVersion(byref(v)), "cuDriverGetVersion")
    return v.value


def device_count() -> int:
    """Number of visible CUDA devices. Raises TilecRuntimeError (no driver / cuInit failed)."""
    n = c_int()
    check(_load().cuDeviceGetCount(byref(n)), "cuDeviceGetCount")
    return n.value


def device(ordinal: int) -> int:
    """The CUdevice of `ordinal`. Raises CudaDriverError (e.g. CUDA_ERROR_INVALID_DEVICE) or TilecRuntimeError."""
    d = c_int()
    check(_load().cuDeviceGet(byref(d), int(ordinal)), "cuDeviceGet")
    return d.value


def device_attribute(attr: int, dev: int) -> int:
    """cuDeviceGetAttribute. Raises CudaDriverError / TilecRuntimeError."""
    v = c_int()
    check(_load().cuDeviceGetAttribute(byref(v), attr, dev), "cuDeviceGetAttribute")
    return v.value


def compute_capability(dev: int) -> tuple[int, int]:
    """(major, minor) of a device. Raises CudaDriverError / TilecRuntimeError."""
    return (device_attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
            device_attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev))


def multiprocessor_count(dev: int) -> int:
    """Number of SMs. Raises CudaDriverError / TilecRuntimeError."""
    return device_attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev)


def max_shared_memory_optin(dev: int) -> int:
    """Max shared memory per block a kernel may opt in to, in bytes. Raises CudaDriverError / TilecRuntimeError."""
    return device_attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev)


def device_name(dev: int) -> str:
    """The marketing name ("NVIDIA H100 80GB HBM3"). Raises CudaDriverError / TilecRuntimeError."""
    buf = ctypes.create_string_buffer(256)
    check(_load().cuDeviceGetName(buf, 256, dev), "cuDeviceGetName")
    return buf.value.decode(errors="replace")


def primary_context(dev: int) -> int:
    """Retain (once per process) and return the primary context of `dev` (the one torch/the runtime API use).

    Raises CudaDriverError / TilecRuntimeError.
    """
    ctx = _primary.get(dev)
    if ctx is None:
        lib = _load()  # before taking _lock, which _load takes too
        with _lock:
            ctx = _primary.get(dev)
            if ctx is None:
                p = c_void_p()
                check(lib.cuDevicePrimaryCtxRetain(byref(p), dev), "cuDevicePrimaryCtxRetain")
                ctx = _primary[dev] = p.value or 0
                _ctx_device[ctx] = dev
    return ctx


def current_context() -> int:
    """The calling thread's current context handle, or 0 when none. Raises CudaDriverError / TilecRuntimeError."""
    p = c_void_p()
    check(_load().cuCtxGetCurrent(byref(p)), "cuCtxGetCurrent")
    return p.value or 0


def set_current_context(ctx: int) -> None:
    """Make `ctx` current on the calling thread. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuCtxSetCurrent(ctx or None), "cuCtxSetCurrent")


def context_device(ctx: int) -> int:
    """The device ordinal of context `ctx`, which must be current on this thread (memoised per context).

    Raises CudaDriverError / TilecRuntimeError.
    """
    dev = _ctx_device.get(ctx)
    if dev is None:
        d = c_int()
        check(_load().cuCtxGetDevice(byref(d)), "cuCtxGetDevice")
        dev = _ctx_device[ctx] = d.value
    return dev


def current_device() -> int:
    """The device of the thread's current context, else device 0 (what torch/the runtime API default to).

    Raises:
        TilecRuntimeError: no driver, or no GPU visible.
    """
    ctx = current_context()
    if ctx:
        return context_device(ctx)
    if device_count() == 0:
        raise TilecRuntimeError("no CUDA GPU found by the CUDA driver (check `nvidia-smi` and CUDA_VISIBLE_DEVICES)")
    return device(0)


def ensure_context(dev: int | None) -> tuple[int, int]:
    """Make a context for `dev` current (the current one when it is on `dev`, else dev's primary context).

    `dev` None means "whatever is current, else device 0". Returns (context now current, context to restore
    afterwards or -1 when nothing needs restoring). Raises CudaDriverError / TilecRuntimeError.
    """
    ctx = current_context()
    if ctx and (dev is None or context_device(ctx) == dev):
        return ctx, -1
    new = primary_context(current_device() if dev is None else device(dev))
    set_current_context(new)
    return new, ctx if ctx else -1


def ctx_synchronize() -> None:
    """Wait for all work in the current context. Raises CudaDriverError (e.g. an earlier kernel's fault)."""
    check(_load().cuCtxSynchronize(), "cuCtxSynchronize")


def stream_synchronize(stream: int = 0) -> None:
    """Wait for `stream`. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuStreamSynchronize(stream or None), "cuStreamSynchronize")


def module_load_data(image: bytes, kernel: str | None = None) -> int:
    """Load a cubin/fatbin/PTX image into the current context; returns the CUmodule.

    Raises CudaDriverError (e.g. CUDA_ERROR_NO_BINARY_FOR_GPU, with a hint) / TilecRuntimeError.
    """
    m = c_void_p()
    check(_load().cuModuleLoadData(byref(m), image), "cuModuleLoadData", kernel)
    return m.value or 0


def module_unload(module: int) -> None:
    """Unload a module. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuModuleUnload(module), "cuModuleUnload")


def module_get_function(module: int, name: str) -> int:
    """The CUfunction `name` of a module. Raises CudaDriverError (CUDA_ERROR_NOT_FOUND) / TilecRuntimeError."""
    f = c_void_p()
    check(_load().cuModuleGetFunction(byref(f), module, name.encode()), "cuModuleGetFunction", name)
    return f.value or 0


def func_set_attribute(func: int, attr: int, value: int, kernel: str | None = None) -> None:
    """cuFuncSetAttribute. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuFuncSetAttribute(func, attr, int(value)), "cuFuncSetAttribute", kernel)


def func_get_attribute(func: int, attr: int, kernel: str | None = None) -> int:
    """cuFuncGetAttribute. Raises CudaDriverError / TilecRuntimeError."""
    v = c_int()
    check(_load().cuFuncGetAttribute(byref(v), attr, func), "cuFuncGetAttribute", kernel)
    return v.value


def occupancy_max_active_blocks(func: int, threads: int, smem: int, kernel: str | None = None) -> int:
    """cuOccupancyMaxActiveBlocksPerMultiprocessor: how many blocks of `func` one SM holds at once with `threads`
    threads and `smem` bytes of dynamic shared memory each. Raises CudaDriverError / TilecRuntimeError."""
    v = c_int()
    check(_load().cuOccupancyMaxActiveBlocksPerMultiprocessor(byref(v), func, threads, smem),
          "cuOccupancyMaxActiveBlocksPerMultiprocessor", kernel)
    return v.value


def occupancy_max_active_clusters(func: int, threads: int, smem: int, cluster: tuple, kernel: str | None = None
                                  ) -> int:
    """cuOccupancyMaxActiveClusters: how many clusters of shape `cluster` (blocks of `threads` threads and `smem`
    bytes of dynamic shared memory) the device runs at once. Raises CudaDriverError / TilecRuntimeError."""
    v = c_int()
    cfg = make_launch_config(tuple(int(c) for c in cluster), (threads, 1, 1), smem, cluster)
    check(_load().cuOccupancyMaxActiveClusters(byref(v), func, byref(cfg)), "cuOccupancyMaxActiveClusters", kernel)
    return v.value


def launch_kernel(func: int, grid: tuple, block: tuple, smem: int, stream: int, params, kernel: str | None = None
                  ) -> None:
    """cuLaunchKernel. `params` is a ctypes array of void* (one per kernel parameter) or None.

    Raises CudaDriverError (naming the kernel) / TilecRuntimeError.
    """
    rc = _load().cuLaunchKernel(func, grid[0], grid[1], grid[2], block[0], block[1], block[2], smem,
                                stream or None, params, None)
    check(rc, "cuLaunchKernel", kernel)


def make_launch_config(grid: tuple, block: tuple, smem: int, cluster: tuple = (1, 1, 1),
                       programmatic_serialization: bool = False) -> _LaunchConfig:
    """Build a CUlaunchConfig (stream 0) carrying the cluster dims / PDL attributes; the attribute array is
    kept alive on the returned object. Never raises."""
    attrs = []
    if tuple(cluster) != (1, 1, 1):
        a = _LaunchAttr(id=CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
        a.value.clusterDim[:] = [int(c) for c in cluster]
        attrs.append(a)
    if programmatic_serialization:
        a = _LaunchAttr(id=CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
        a.value.value_int = 1
        attrs.append(a)
    arr = (_LaunchAttr * max(len(attrs), 1))(*attrs)
    cfg = _LaunchConfig(grid[0], grid[1], grid[2], block[0], block[1], block[2], smem, None,
                        ctypes.cast(arr, POINTER(_LaunchAttr)) if attrs else None, len(attrs))
    cfg._keep = arr  # type: ignore[attr-defined]
    return cfg


def launch_kernel_ex(func: int, grid: tuple, block: tuple, smem: int, stream: int, params,
                     cluster: tuple = (1, 1, 1), kernel: str | None = None, config: _LaunchConfig | None = None
                     ) -> None:
    """cuLaunchKernelEx with cluster dims (a prebuilt `config` from make_launch_config may be passed; its grid
    and stream are then overwritten). Raises CudaDriverError (naming the kernel) / TilecRuntimeError."""
    cfg = config if config is not None else make_launch_config(grid, block, smem, cluster)
    cfg.gridDimX, cfg.gridDimY, cfg.gridDimZ = grid
    cfg.hStream = stream or None
    check(_fn("cuLaunchKernelEx")(byref(cfg), func, params, None), "cuLaunchKernelEx", kernel)


def mem_alloc(nbytes: int) -> int:
    """Allocate device memory in the current context (tests without torch). Raises CudaDriverError."""
    p = c_uint64()
    check(_load().cuMemAlloc_v2(byref(p), max(int(nbytes), 1)), "cuMemAlloc")
    return p.value


def mem_free(ptr: int) -> None:
    """Free device memory. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuMemFree_v2(ptr), "cuMemFree")


def _host_address(buf) -> tuple[int, object]:
    """(address, object to keep alive) of a host buffer: numpy array, ctypes object, bytes or bytearray."""
    if hasattr(buf, "ctypes"):
        return buf.ctypes.data, buf
    if isinstance(buf, (ctypes.Array, ctypes.Structure)):
        return ctypes.addressof(buf), buf
    if isinstance(buf, bytearray):
        arr = (c_char * len(buf)).from_buffer(buf)
        return ctypes.addressof(arr), arr
    if isinstance(buf, bytes):
        keep = c_char_p(buf)
        return ctypes.cast(keep, c_void_p).value or 0, keep
    raise TypeError(f"expected a numpy array, ctypes object, bytes or bytearray, got {type(buf).__name__}")


def memcpy_htod(dst: int, src, nbytes: int) -> None:
    """Copy `nbytes` from a host buffer (numpy array, ctypes object, bytes, bytearray) to device `dst`.

    Raises CudaDriverError / TilecRuntimeError; TypeError for an unsupported buffer.
    """
    addr, _keep = _host_address(src)
    check(_load().cuMemcpyHtoD_v2(dst, addr, nbytes), "cuMemcpyHtoD")


def memcpy_dtoh(dst, src: int, nbytes: int) -> None:
    """Copy `nbytes` from device `src` into a writable host buffer (numpy array, ctypes object, bytearray).

    Raises CudaDriverError / TilecRuntimeError; TypeError for an unsupported buffer.
    """
    addr, _keep = _host_address(dst)
    check(_load().cuMemcpyDtoH_v2(addr, src, nbytes), "cuMemcpyDtoH")


def memset_d8(ptr: int, value: int, nbytes: int) -> None:
    """Set `nbytes` bytes at device `ptr` to `value`. Raises CudaDriverError / TilecRuntimeError."""
    check(_load().cuMemsetD8_v2(ptr, value & 0xFF, nbytes), "cuMemsetD8")


def pointer_device(ptr: int) -> int:
    """The device ordinal owning device pointer `ptr`. Raises CudaDriverError (not a device pointer)."""
    v = c_int()
    check(_load().cuPointerGetAttribute(byref(v), CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, ptr), "cuPointerGetAttribute")
    return v.value


def tensor_map_encode_tiled(data_type: int, global_address: int, global_dims: list[int], global_strides: list[int],
                            box_dims: list[int], element_strides: list[int], interleave: int = 0, swizzle: int = 0,
                            l2_promotion: int = 0, oob_fill: int = 0) -> bytes:
    """cuTensorMapEncodeTiled: the 128-byte CUtensorMap for a TMA descriptor (pass it by value as a kernel param).

    global_dims/box_dims/element_strides have one entry per dim (innermost first, as in the driver API);
    global_strides (bytes) one per dim but the innermost. Raises CudaDriverError / TilecRuntimeError.
    """
    rank = len(global_dims)
    buf = ctypes.create_string_buffer(128 + 128)
    addr = (ctypes.addressof(buf) + 127) // 128 * 128  # CUtensorMap is alignas(128)
    rc = _fn("cuTensorMapEncodeTiled")(
        addr, data_type, rank, global_address, (c_uint64 * rank)(*global_dims),
        (c_uint64 * max(rank - 1, 1))(*global_strides), (c_uint32 * rank)(*box_dims),
        (c_uint32 * rank)(*element_strides), interleave, swizzle, l2_promotion, oob_fill)
    check(rc, "cuTensorMapEncodeTiled")
    return ctypes.string_at(addr, 128)
