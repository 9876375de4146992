"""Training support shared by the ``sft`` and ``grpo`` entry points: script arguments, callbacks, Hub push."""
