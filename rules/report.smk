# report stage rules (see docs/ARCHITECTURE.md).
