"""CUDA C++ code generation from lowered tile IR, plus launch metadata. Must not import tilec.frontend."""
