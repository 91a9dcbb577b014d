"""mailbot's tests; `tests.servers` holds the real-server fixtures others import."""
