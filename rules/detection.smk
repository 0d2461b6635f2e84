# detection stage rules (see docs/ARCHITECTURE.md).
