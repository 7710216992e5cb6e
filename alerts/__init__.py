"""Per-office digests of suspected breaches: selection, rendering, delivery."""
