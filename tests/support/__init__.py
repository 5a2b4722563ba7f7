"""Helpers shared by the test suites; the fixtures in the conftest.py files call them.

- project.py: a project written to a folder (the demo bot's bot.yaml, flows, knowledge)
- engine.py: what a conversation with the engine said
- standin.py: the Bot API stand-in started for the tests, a person sending and waiting for the answer
- commands.py: `bots` as a real process: run to its end, or `bots run` kept running (BotProcess)
- store.py: the tests' secret key, a store opened with it, the rows a chat left in a database
- net.py: a free loopback port
- postgres.py: a throw-away PostgreSQL server
"""
