"""The small shared kernel every app may import: base model, the error type, API plumbing, health."""
