"""The tilekernels catalogue: one module per kernel family (a tile-language generator, its variant table and the
rule that picks a variant). `tilec.aot` reads it; nothing here is imported at run time by the wheel."""
