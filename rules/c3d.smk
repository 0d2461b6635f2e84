# c3d stage rules (see docs/ARCHITECTURE.md).
