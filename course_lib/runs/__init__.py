"""What the training loops of both framework packages share: per-run random draws
(:mod:`.draws`), running loss histories (:mod:`.history`) and the checks on runs trained as one
stacked network (:mod:`.stacking`). NumPy only."""
