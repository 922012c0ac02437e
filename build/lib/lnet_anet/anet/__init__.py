"""ANet stage: dense (interweaved) multi-patch features, the per-attribute SVM head and their training."""
