"""The audit log: who viewed, exported or changed what, from where (the CLI from nowhere)."""
