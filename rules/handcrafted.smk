# handcrafted stage rules (see docs/ARCHITECTURE.md).
