"""Guard rounds: checkpoints, planned rounds, round runs and checkpoint scans."""
