"""The terminal and the in-memory conversation: `bots chat`, `bots test` and the tests talk to the engine through these."""
