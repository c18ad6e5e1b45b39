"""Ahead-of-time build of a kernel catalogue: plan variants x archs, emit CUDA, compile checked cubins, bundle
fatbins, generate the C++ dispatch table and the manifest. Each step is a `python -m tilec.aot` subcommand that
CMake (cmake/Tilec.cmake) runs under ninja; the contract is kernels/README.md.

Imports the compiler (frontend, transform, codegen, toolchain); nothing in tilec imports this package.
"""
