"""The CUDA tilec emits for a variant is the same in every process: the nightly shards compare each variant's
.cu byte for byte before merging, and the compile caches key on the source. Object ids and string hashes differ
between processes, so any ordering that depends on them shows up here."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_EMIT = r"""
import hashlib, sys
junk = [object() for _ in range(int(sys.argv[1]))] + [bytearray(n) for n in range(int(sys.argv[1]))]
from tilec.aot.catalogue import load_catalogue
from tilec.aot.steps import lower_variant
out = []
for fam in load_catalogue("kernels", ["gemm"]):
    for v in fam.variants:
        if "bf16" in v.name:  # every tile config and lowering once (the bf16 half of the table)
            out.append(v.name + " " + hashlib.sha256(lower_variant(v)[0].encode()).hexdigest())
print("\n".join(out))
"""


def _emit_hashes(junk: int, seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", _EMIT, str(junk)], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout


def test_gemm_sources_do_not_depend_on_the_process() -> None:
    first = _emit_hashes(0, "0")
    assert first.count("\n") >= 3, first
    assert _emit_hashes(5000, "12345") == first
