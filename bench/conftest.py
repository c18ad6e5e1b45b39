"""pytest setup of the benchmark suite: options, the GPU fixture, the shape sets and the results collector.

Run on a GPU machine:  python3 -m pytest bench [--bench-set quick|default|extended|all] [--bench-json OUT.json]
                         [--benchmark-json PB.json] [--bench-impls tilekernels,cublas,...] [--bench-budget-ms 250]
Without torch or CUDA every benchmark skips with the reason; `--collect-only` works anywhere (no torch import here).
`python3 -m bench.run_suite` wraps this and writes bench/results/<date>-<gpu>.{json,md,png}.
"""
from __future__ import annotations

import functools
import json
import os
import time
import warnings
from dataclasses import asdict, is_dataclass
from typing import Any

import pytest

from bench.render import OURS, REFERENCE_PEER
from bench.shapes import SETS


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("bench", "tilekernels benchmark suite (bench/)")
    g.addoption("--bench-set", default="default", choices=sorted(SETS), help="which shape set (bench/shapes.py)")
    g.addoption("--bench-json", default=None, metavar="PATH",
                help="write every measured figure, skip note and ratio of this run to PATH (bench.run_suite reads it)")
    g.addoption("--bench-impls", default=None, metavar="A,B",
                help="only these implementations (tilekernels,cublas,triton,tilelang,sdpa_cudnn,sdpa_flash)")
    g.addoption("--bench-budget-ms", type=float, default=250.0,
                help="GPU time spent on the timed repetitions of one measurement (big shapes get less)")
    g.addoption("--bench-sequential", action="store_true",
                help="time tilekernels and the reference peer (cuBLAS, cuDNN SDPA) one after the other instead of "
                     "in interleaved rounds (timing.measure_interleaved)")
    g.addoption("--bench-all-peers", action="store_true",
                help="run JIT-per-shape peers (TileLang) on every shape, not only those TARGETS.md has figures for")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    gemm, attn = SETS[metafunc.config.getoption("--bench-set")]
    if "gemm_case" in metafunc.fixturenames:
        metafunc.parametrize("gemm_case", gemm, ids=[c.key for c in gemm])
    if "attn_case" in metafunc.fixturenames:
        metafunc.parametrize("attn_case", attn, ids=[c.key for c in attn])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if not str(item.fspath).startswith(bench_dir):
            continue
        item.add_marker(pytest.mark.gpu)
        # Peers (torch, triton, tilelang) warn about their own internals; a benchmark must not fail on that
        # (the project-wide filterwarnings=error stays in force for tests/).
        item.add_marker(pytest.mark.filterwarnings("default"))


@functools.cache
def _no_gpu_reason() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import torch
        except ImportError:
            return "torch is not installed"
        if not torch.cuda.is_available():
            return "torch.cuda.is_available() is False"
    return ""


class Gpu:
    """What a benchmark needs: torch, the options, and the collector of rows for `--bench-json`."""

    def __init__(self, config: pytest.Config):
        import torch
        self.torch = torch
        self.config = config
        self.budget_ms = config.getoption("--bench-budget-ms")
        self.all_peers = config.getoption("--bench-all-peers")
        impls = config.getoption("--bench-impls")
        self.impls = set(impls.split(",")) if impls else None
        self.interleave = not config.getoption("--bench-sequential")
        self.paired: dict[tuple[str, str, str], Any] = {}  # (family, case key, impl) -> its interleaved Timing
        self.rows: list[dict[str, Any]] = []
        self.device_name = torch.cuda.get_device_name()
        torch.backends.cuda.matmul.allow_tf32 = False

    def wanted(self, impl: str) -> None:
        if self.impls is not None and impl not in self.impls:
            pytest.skip(f"{impl} not in --bench-impls")

    def budget_for(self, flops: float) -> float:
        """Fewer repetitions for the biggest problems (the suite must fit in ~6 minutes): the budget halves above
        1 TFLOP per call; the repetition count never drops below timing.measure's min_reps."""
        return self.budget_ms * (0.5 if flops > 1e12 else 1.0)

    def timing(self, family: str, case: Any, impl: str, fn: Any, copies: list, flops: float,
               peer: tuple[str, Any] | None = None) -> Any:
        """The Timing of `impl` on `case`. With `peer` = (name, fn) (tilekernels' test passes the family's reference
        peer, already run once on these inputs) both are timed in interleaved rounds and the peer's Timing is kept
        for the peer's own test, which checks its output and then takes that Timing instead of measuring again."""
        from bench.timing import measure, measure_interleaved

        kept = self.paired.pop((family, case.key, impl), None)
        if kept is not None:
            return kept
        budget = self.budget_for(flops)
        if peer is not None and self.interleave:
            ours, theirs = measure_interleaved([fn, peer[1]], copies, budget_ms=budget)
            self.paired[(family, case.key, peer[0])] = theirs
            return ours
        return measure(fn, copies, budget_ms=budget)

    def peer_for_pairing(self, family: str, impl: str, make: Any, args: tuple) -> tuple[str, Any] | None:
        """(name, fn) of the family's reference peer for `Gpu.timing`, when `impl` is tilekernels, interleaving is
        on, the peer is wanted and `make()` gives a function that runs on `args`; None otherwise (each is then
        measured alone)."""
        peer = REFERENCE_PEER.get(family)
        if impl != OURS or not self.interleave or peer is None or (self.impls is not None and peer not in self.impls):
            return None
        try:
            fn = make()
            fn(*args)
            self.torch.cuda.synchronize()
        except Exception:  # noqa: BLE001 - the peer's own test reports why it cannot run; time ours alone
            return None
        return peer, fn

    def record(self, family: str, case: Any, impl: str, status: str, note: str = "", **figures: Any) -> dict:
        row = dict(family=family, key=case.key, impl=impl, status=status, note=note,
                   case=asdict(case) if is_dataclass(case) else dict(case), **figures)
        self.rows.append(row)
        return row


def pytest_configure(config: pytest.Config) -> None:
    # pytest-benchmark warns "Not saving anything" at session end when every benchmark skipped (no GPU); under the
    # project's filterwarnings=error that would turn a clean all-skipped run into an error.
    config.addinivalue_line("filterwarnings", "default::pytest_benchmark.logger.PytestBenchmarkWarning")
    config._bench_gpu = None        # type: ignore[attr-defined]
    config._bench_t0 = time.time()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def gpu(request: pytest.FixtureRequest) -> Gpu:
    reason = _no_gpu_reason()
    if reason:
        pytest.skip(f"needs a CUDA GPU: {reason}")
    if request.config._bench_gpu is None:
        request.config._bench_gpu = Gpu(request.config)
    return request.config._bench_gpu


def compute_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For every case: tilekernels against every peer, and every implementation against the family's reference
    peer (cuBLAS, cuDNN SDPA). ratio = peer_ms / impl_ms, so > 1 means `impl` is faster."""
    by_key: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r["status"] == "ok":
            by_key.setdefault(r["key"], {})[r["impl"]] = r
    out = []
    for key, impls in by_key.items():
        family = next(iter(impls.values()))["family"]
        ref = REFERENCE_PEER.get(family)
        pairs = set()
        if OURS in impls:
            pairs |= {(OURS, p) for p in impls if p != OURS}
        if ref in impls:
            pairs |= {(i, ref) for i in impls if i != ref}
        for impl, peer in sorted(pairs):
            out.append(dict(family=family, key=key, impl=impl, peer=peer,
                            ratio=impls[peer]["ms"] / impls[impl]["ms"]))
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--bench-json", None)
    gpu: Gpu | None = getattr(session.config, "_bench_gpu", None)
    if not path:
        return
    rows = gpu.rows if gpu is not None else []
    doc = dict(set=session.config.getoption("--bench-set"), wall_s=time.time() - session.config._bench_t0,
               exitstatus=int(exitstatus), rows=rows, ratios=compute_ratios(rows))
    if gpu is not None:
        from bench.environment import environment
        doc["environment"] = environment(gpu.torch)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, default=str)
