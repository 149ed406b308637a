"""Operations: the configuration check, backups and restores (`lagesbild check|backup|restore`)."""
