"""What the tests and benchmarks run against: the Bot API stand-in."""
