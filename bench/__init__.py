"""GPU benchmarks of tilekernels against the peers a user would pick instead (pytest-benchmark; see README.md).

A package so that the suite's helpers import as `bench.timing`, `bench.flops`, ... from the test modules and from
`python -m bench.run_suite`. Nothing here may import torch at import time: `pytest bench --collect-only` must work on a
machine without torch or a GPU.
"""
