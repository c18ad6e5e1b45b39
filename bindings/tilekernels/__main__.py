"""`python -m tilekernels [--check]`: the version, the archs and kernels of this build, the GPU found (or why none),
and with --check a tiny GEMM and attention checked against float32 references."""
from __future__ import annotations

import argparse
import sys

import tilekernels
from tilekernels import _C


def _describe_gpu() -> dict | None:
    try:
        info = tilekernels.device_info()
    except tilekernels.NoGPUError as e:
        print(f"GPU: none ({e})")
        return None
    except tilekernels.CudaError as e:
        print(f"GPU: unusable ({e})")
        return None
    major, minor = info["compute_capability"]
    print(f"GPU: cuda:{info['index']} {info['name']} (compute capability {major}.{minor}, {info['sm_count']} SMs, "
          f"{info['max_shared_memory_per_block_optin'] // 1024} KiB shared memory per block; driver CUDA "
          f"{info['driver_cuda_version']}; {info['device_count']} GPU(s) visible)")
    print(f"  kernels usable on it: {len(info['usable_kernels'])} of {len(tilekernels.kernels())}")
    for name, reason in info["unusable_kernels"]:
        print(f"    not usable: {name}: {reason}")
    return info


def _run_case(torch, label: str, call, reference) -> int:
    """One self-check: 1 when it failed (printed), 0 when it passed or this build lacks the kernel."""
    try:
        got = call()
    except ValueError as e:
        if "this tilekernels build has no" in str(e):
            print(f"check {label}: skipped, not in this build")
            return 0
        print(f"check {label}: {type(e).__name__}: {e}")
        return 1
    except tilekernels.TilekernelsError as e:
        print(f"check {label}: {type(e).__name__}: {e}")
        return 1
    ref = reference()
    err = ((got.float() - ref).norm() / ref.norm().clamp_min(1e-30)).item()
    ok = err <= 1e-2 and not torch.isnan(got).any().item()
    print(f"check {label}: relative error {err:.2e} {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def _attention_ref(torch, q, k, v, causal: bool):
    """float32 attention with flash-attn's layout, GQA and bottom-right causal mask."""
    qf, kf, vf = (x.float().transpose(1, 2) for x in (q, k, v))
    rep = qf.shape[1] // kf.shape[1]
    kf, vf = kf.repeat_interleave(rep, 1), vf.repeat_interleave(rep, 1)
    s = (qf @ kf.transpose(-1, -2)) * qf.shape[-1] ** -0.5
    if causal:
        sq, sk = s.shape[-2:]
        s = s.masked_fill(torch.ones(sq, sk, dtype=torch.bool, device=s.device).tril(sk - sq).logical_not(),
                          float("-inf"))
    return torch.nan_to_num(torch.softmax(s, -1)).matmul(vf).transpose(1, 2)


def _check() -> int:
    try:
        import torch
    except ImportError:
        print("check: needs torch (pip install torch) to make test inputs", file=sys.stderr)
        return 2
    failures = 0
    for dtype in (torch.float16, torch.bfloat16):
        name = str(dtype).replace("torch.", "")
        for m, n, k, trans in ((1, 8, 8, False), (77, 200, 64, False), (128, 256, 512, True)):
            a = torch.randn(m, k, dtype=dtype, device="cuda")
            b = torch.randn(n, k, dtype=dtype, device="cuda").T if trans else torch.randn(k, n, dtype=dtype,
                                                                                            device="cuda")
            label = f"gemm {name} {m}x{n}x{k}{' (b transposed)' if trans else ''}"
            failures += _run_case(torch, label, lambda a=a, b=b: tilekernels.gemm(a, b),
                                  lambda a=a, b=b: a.float() @ b.float())
        for sq, sk, h, hkv, d, causal in ((77, 77, 4, 4, 64, False), (100, 130, 8, 2, 128, True)):
            q = torch.randn(2, sq, h, d, dtype=dtype, device="cuda")
            k, v = (torch.randn(2, sk, hkv, d, dtype=dtype, device="cuda") for _ in range(2))
            label = f"flash_attn {name} q{sq} k{sk} h{h}/{hkv} d{d}{' causal' if causal else ''}"
            failures += _run_case(torch, label, lambda q=q, k=k, v=v, c=causal: tilekernels.flash_attn(q, k, v, causal=c),
                                  lambda q=q, k=k, v=v, c=causal: _attention_ref(torch, q, k, v, c))
    print("check: passed" if not failures else f"check: {failures} failed")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tilekernels", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="run a tiny GEMM and attention self-check on the GPU (needs torch)")
    args = ap.parse_args(argv)
    print(f"tilekernels {tilekernels.__version__} (built with CUDA {_C.cuda_version})")
    print(f"archs: {' '.join(tilekernels.built_archs())}")
    ks = tilekernels.kernels()
    print(f"kernels: {len(ks)}")
    for k in ks:
        extra = ""
        if k.get("family") == "gemm":
            bound = (f" M<={k['max_m']}" if k["max_m"] else "") + (f" K>={k['min_k']}" if k.get("min_k") else "")
            extra = f", {k['dtype']}{' b transposed' if k['trans_b'] else ''}{bound}"
        elif k.get("family") in ("attention", "attention_varlen"):
            extra = f", {k['family']} {k['dtype']} head_dim {k['head_dim']}{' causal' if k['causal'] else ''}"
        print(f"  {k['name']}: {','.join(k['archs'])}, {k['threads']} threads, {k['smem_bytes'] // 1024} KiB smem"
              f"{extra}")
    info = _describe_gpu()
    if args.check:
        if info is None:
            print("check: skipped, no GPU", file=sys.stderr)
            return 1
        return _check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
