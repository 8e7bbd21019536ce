"""Reader plugins: each turns one vendor format into a `Session` (see `base.Reader`)."""
