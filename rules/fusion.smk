# fusion stage rules (see docs/ARCHITECTURE.md).
