"""Load a catalogue directory (one Python module per kernel family) and plan its variant x arch matrix."""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tilec.errors import TilecError
from tilec.toolchain.arch import ArchEntry, Target, parse_arch_list

_REQUIRED = ("FAMILY", "DIMS", "TENSORS", "CPP_STRUCT", "variants")
# Which targets can run the code of each lowering family.
_LOWERING_FAMILIES = {"sm80": ("sm80", "sm90a", "sm100a"), "sm90a": ("sm90a",)}


@dataclass(frozen=True)
class VariantBase:
    """Fields every catalogue variant has. Families subclass it, adding `build()` and `cpp_fields()`.

    name: deterministic, unique across the catalogue (it names files and kernels).
    lowering: "sm80" (cp.async + mma.sync, runs on every arch we build) or "sm90a" (TMA + wgmma, sm_90a only).
    archs: restrict to these target names ("sm_90a", ...); empty means every arch the lowering runs on.
    """

    name: str
    lowering: str = "sm80"
    archs: tuple = ()

    def build(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def cpp_fields(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(eq=False)
class Family:
    """One family module of the catalogue."""

    name: str
    module: ModuleType
    dims: tuple
    tensors: tuple
    cpp_struct: str
    variants: list = field(default_factory=list)
    scalars: tuple = ()  # SCALARS: float32 kernel arguments after the tensors (KernelInfo.n_scalars)

    @property
    def table_name(self) -> str:
        """The generated table's array of this family's rows: `kGemm`, `kAttentionVarlen`."""
        return "k" + "".join(w[:1].upper() + w[1:] for w in self.name.split("_"))


@dataclass
class PlannedVariant:
    """A variant with the archs it is built for (cubins) and the PTX arch it embeds, if any."""

    family: Family
    variant: VariantBase
    archs: list[Target]
    ptx: str | None = None


def _import(path: Path) -> ModuleType:
    """Import a family module; as `<dir>.<stem>` when its directory is a package (so the catalogue's own
    `from kernels import gemm` and ours are one module), else by file path."""
    root = str(path.parent.parent)
    if (path.parent / "__init__.py").is_file():
        if root not in sys.path:
            sys.path.insert(0, root)
        return importlib.import_module(f"{path.parent.name}.{path.stem}")
    name = f"_tilec_catalogue_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TilecError(f"cannot import catalogue module {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_catalogue(directory: str | Path, families: list[str] | None = None, *,
                   shipped_only: bool = False) -> list[Family]:
    """Import every family module (`*.py` not starting with `_`) of `directory`, sorted by file name.

    shipped_only: skip families whose module sets `SHIPPED = False` (no dispatch stub in bindings/ yet: the
    AOT build leaves them out; tests still load them).

    Raises:
        TilecError: the directory does not exist, a module lacks a required name, a family filter names no
            family, or two variants share a name.
    """
    d = Path(directory)
    if not d.is_dir():
        raise TilecError(f"catalogue directory {d} does not exist")
    out, seen = [], set()
    for path in sorted(d.glob("*.py")):
        if path.name.startswith("_"):
            continue
        mod = _import(path)
        missing = [n for n in _REQUIRED if not hasattr(mod, n)]
        if missing:
            raise TilecError(f"catalogue module {path} lacks {', '.join(missing)} (see kernels/README.md)")
        if (families and mod.FAMILY not in families) or (shipped_only and not getattr(mod, "SHIPPED", True)):
            continue
        fam = Family(mod.FAMILY, mod, tuple(mod.DIMS), tuple(mod.TENSORS), mod.CPP_STRUCT, list(mod.variants()),
                     tuple(getattr(mod, "SCALARS", ())))
        for v in fam.variants:
            if v.name in seen:
                raise TilecError(f"two catalogue variants are named {v.name}")
            seen.add(v.name)
        out.append(fam)
    if families:
        unknown = set(families) - {f.name for f in out}
        if unknown:
            raise TilecError(f"no catalogue family named {', '.join(sorted(unknown))} in {d}")
    return out


def find_variant(families: list[Family], name: str) -> tuple[Family, VariantBase]:
    """The family and variant called `name`. Raises TilecError naming a few known variants otherwise."""
    for fam in families:
        for v in fam.variants:
            if v.name == name:
                return fam, v
    known = [v.name for f in families for v in f.variants]
    raise TilecError(f"no catalogue variant named {name!r}; known: {', '.join(known[:6])}, ...")


def emit_target(variant: VariantBase) -> Target:
    """The target whose lowering generates the variant's source (one .cu serves all archs of its family)."""
    from tilec.toolchain.arch import parse_target

    return parse_target("sm_90a" if variant.lowering == "sm90a" else "sm_80")


def plan(families: list[Family], arch_spec: str, smem_bytes) -> tuple[list[PlannedVariant], list[str]]:
    """Intersect each variant's supported archs with the requested matrix.

    smem_bytes(variant) -> the variant's dynamic shared memory (from lowering it), so an arch whose per-block
    limit is smaller is skipped. Returns the planned variants and one line per skipped (variant, arch) pair
    saying why. Raises ValueError for a malformed or unknown arch list (from parse_arch_list).
    """
    entries: list[ArchEntry] = parse_arch_list(arch_spec)
    ptx_entry = next((e for e in reversed(entries) if e.ptx), None)
    planned, skipped = [], []
    for fam in families:
        for v in fam.variants:
            allowed = _LOWERING_FAMILIES.get(v.lowering)
            if allowed is None:
                raise TilecError(f"variant {v.name}: unknown lowering {v.lowering!r} (sm80 or sm90a)")
            smem = smem_bytes(v)
            archs = []
            for e in entries:
                t = e.target
                if t.family not in allowed:
                    skipped.append(f"{v.name} x {t.arch}: its {v.lowering} lowering does not run on {t.arch}")
                elif v.archs and t.arch not in v.archs:
                    skipped.append(f"{v.name} x {t.arch}: the variant supports only {', '.join(v.archs)}")
                elif smem > t.smem_max:
                    skipped.append(f"{v.name} x {t.arch}: needs {smem} bytes of shared memory, {t.arch} has "
                                   f"{t.smem_max}")
                else:
                    archs.append(t)
            ptx = None
            if ptx_entry is not None and ptx_entry.target in archs and v.lowering == "sm80":
                ptx = ptx_entry.target.generic.compute
            if archs:
                planned.append(PlannedVariant(fam, v, archs, ptx))
            else:
                skipped.append(f"{v.name}: no requested arch can run it; not built")
    return planned, skipped
