"""Layout algebra: shape:stride layouts, swizzles, thread-value fragments, MMA layouts.

Pure Python (+ numpy). Must not import tilec.transform, tilec.codegen or tilec.frontend.
"""
from tilec.layout.layout import Layout
from tilec.layout.swizzle import ComposedLayout, Swizzle, make_smem_tile_layout

__all__ = ["Layout", "Swizzle", "ComposedLayout", "make_smem_tile_layout"]
