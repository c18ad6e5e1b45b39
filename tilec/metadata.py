"""Launch metadata of a compiled kernel: the contract between codegen, the JIT runtime and the AOT stubs.

Codegen fills it; runtime/ and bindings/ read it. It is plain data (JSON-serialisable through
`to_json`), so it never imports compiler internals.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of the kernel as the user passes it.

    kind: "tensor" (a device array) or "scalar" (a Python number).
    dtype: a tilec dtype name ("float16", "bfloat16", "float32", "int32", ...).
    shape: per dimension either an int (fixed) or a str naming a symbolic dim (bound at call time).
    """

    name: str
    kind: str
    dtype: str
    shape: tuple = ()


@dataclass(frozen=True)
class TensorMapSpec:
    """A TMA tensor map the launcher encodes (cuTensorMapEncodeTiled) and passes as a kernel parameter.

    param: the tensor parameter it describes; dims: global sizes, innermost first, as expressions over the
    symbolic dims (like `grid`); strides_bytes: byte strides of dims 1..rank-1 (same expression language);
    box: the tile box, innermost first; swizzle: 0, 32, 64 or 128 (bytes).
    """

    name: str
    param: str
    dtype: str
    dims: tuple
    strides_bytes: tuple
    box: tuple
    swizzle: int = 0

    def with_name(self, name: str) -> "TensorMapSpec":
        return TensorMapSpec(name, self.param, self.dtype, self.dims, self.strides_bytes, self.box, self.swizzle)


def stream_k_flag_bytes(blocks: int) -> int:
    """Bytes of a stream-K workspace's flag area: one int32 per block, padded to 256 (tilec::stream_k_flag_bytes)."""
    return (blocks * 4 + 255) // 256 * 256


@dataclass(frozen=True)
class LaunchSpec:
    """One `with T.Kernel(...)` block: its entry symbol and launch configuration.

    grid: three C/Python-compatible integer expressions over the symbolic dim names
          (only + - * // % min max parentheses and integers), e.g. "((M + 127) // 128)".
    threads: threads per block.
    smem_bytes: dynamic shared memory bytes.
    tensor_maps: TensorMapSpecs passed after the symbolic dims, in this order.
    persistent: `grid` is the logical grid of tiles, not the launch grid. Each block loops over the
          tiles = grid[0] * grid[1] * grid[2] (the kernel computes that count itself) from its linear block index
          in steps of the number of blocks launched, so any launch is correct (the logical grid itself gives one
          tile per block); launch (min(tiles, SMs * resident), 1, 1) blocks, where SMs is the device's
          multiprocessor count and resident the blocks of this kernel one SM holds at once
          (cuOccupancyMaxActiveBlocksPerMultiprocessor; 1 for the sm_90a warp-specialized kernels). Launch nothing
          when tiles == 0.
    cluster: thread-block cluster dims of the launch ((1, 1, 1): none). A non-persistent grid is a multiple of
          them. A persistent kernel with clusters has cluster (size, 1, 1) and must be launched 1-D with a multiple
          of `size` blocks (its tiles come in whole clusters): launch (max(min(tiles, SMs * resident) // size, 1)
          * size, 1, 1).
    workspace_per_block: > 0 for a stream-K kernel (T.annotate_persistent(stream_k=True)): it takes one more
          parameter after the tensor maps, a pointer to a workspace of workspace_bytes(blocks launched) bytes whose
          first stream_k_flag_bytes(blocks) bytes are zero before the first launch (the kernel leaves them zero).
          One workspace per stream: two launches that may run at the same time must not share one. With at most
          half as many tiles as the device holds blocks, a stream-K launch starts 2 x tiles blocks and splits every
          tile's k-loop between blocks 2t and 2t + 1 (split-K by two; tilec::stream_k_plan).
    """

    entry: str
    grid: tuple
    threads: int
    smem_bytes: int = 0
    cluster: tuple = (1, 1, 1)
    tensor_maps: tuple = ()
    persistent: bool = False
    workspace_per_block: int = 0

    def workspace_bytes(self, blocks: int) -> int:
        """Bytes of the stream-K workspace for a launch of `blocks` blocks (0 without stream-K): the flags, then
        one slot of workspace_per_block bytes per block."""
        if not self.workspace_per_block:
            return 0
        return stream_k_flag_bytes(blocks) + blocks * self.workspace_per_block

    def launch_grid(self, grid: tuple, max_blocks: int) -> tuple:
        """The grid to launch for the evaluated `grid` when the device holds at most `max_blocks` blocks of this
        kernel at once (SMs x resident; the rule above). A non-persistent launch is `grid` itself."""
        if not self.persistent:
            return tuple(grid)
        tiles = grid[0] * grid[1] * grid[2]
        n = min(tiles, max(max_blocks, 1))
        if self.workspace_per_block and 0 < 2 * tiles <= max_blocks:
            n = 2 * tiles  # stream-K with fewer tiles than the device holds: every tile split between two blocks
        size = self.cluster[0] * self.cluster[1] * self.cluster[2]
        return (max(n // size, 1) * size if size > 1 else n, 1, 1)


@dataclass(frozen=True)
class KernelMetadata:
    """Everything needed to call a compiled tile program.

    The device entry points take, in order: one pointer per tensor param (in `params` order),
    one value per scalar param (in `params` order), then one int32 per symbolic dim in `sym_dims` order, then one
    CUtensorMap (128 bytes, by value) per entry of the launch's `tensor_maps`.
    """

    name: str
    params: tuple = ()
    sym_dims: tuple = ()
    launches: tuple = ()
    target: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "KernelMetadata":
        d = json.loads(text)
        params = tuple(ParamSpec(p["name"], p["kind"], p["dtype"], tuple(p["shape"])) for p in d["params"])
        launches = tuple(
            LaunchSpec(l["entry"], tuple(l["grid"]), l["threads"], l["smem_bytes"], tuple(l["cluster"]),
                       tuple(TensorMapSpec(t["name"], t["param"], t["dtype"], tuple(t["dims"]),
                                           tuple(t["strides_bytes"]), tuple(t["box"]), t["swizzle"])
                             for t in l.get("tensor_maps", ())), bool(l.get("persistent", False)),
                       int(l.get("workspace_per_block", 0)))
            for l in d["launches"]
        )
        return KernelMetadata(d["name"], params, tuple(d["sym_dims"]), launches, d["target"], d.get("extra", {}))
