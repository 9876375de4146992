"""Models and tokenizers: the one loading path (local directory, Hub id, adapter, 4-bit) and the tiny builder."""
