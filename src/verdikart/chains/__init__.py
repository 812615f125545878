"""Value chains: the seed-003 mapping (orchestration) and the material-to-sector links."""
