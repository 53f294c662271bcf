"""Operations: counters for what the database does not keep, metrics, spans and log lines."""
