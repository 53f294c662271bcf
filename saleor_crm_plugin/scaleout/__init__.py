"""Running past one machine: a read replica for analytics, monthly partitions, one beat."""
