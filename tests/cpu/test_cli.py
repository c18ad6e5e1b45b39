"""The `tilec show` command."""
from __future__ import annotations

from pathlib import Path

import pytest

from tilec.cli import main

GEMM = str(Path(__file__).resolve().parents[1] / "kernels" / "gemm.py")


def test_show_cuda(capsys: pytest.CaptureFixture) -> None:
    assert main(["show", f"{GEMM}:matmul", "--param", "M=sym:M", "--param", "N=256", "--param", "K=128"]) == 0
    out = capsys.readouterr().out
    assert 'extern "C" __global__' in out and "tilec::gemm_ss" in out


@pytest.mark.parametrize("after", ["parse", "pipeline_loops", "infer_layout", "defer_lane_reductions", "lower_tile_ops"])
def test_show_after_pass(after: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["show", f"{GEMM}:matmul", "--param", "M=256", "--param", "N=256", "--param", "K=128",
                 "--after", after]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def main(")
    assert ("T.gemm(" in out) == (after in ("parse", "pipeline_loops", "infer_layout", "defer_lane_reductions"))


def test_show_reports_kernel_errors(capsys: pytest.CaptureFixture) -> None:
    # 128x128 tiles with 4 warps cannot be split by FullCol... use an invalid tile instead: K tile 8 (< 16)
    assert main(["show", f"{GEMM}:matmul", "--param", "M=256", "--param", "N=256", "--param", "K=128",
                 "--param", "block_K=8"]) == 1
    assert "multiple of 16" in capsys.readouterr().err


def test_bad_spec() -> None:
    with pytest.raises(SystemExit):
        main(["show", "nofile.py:f"])
