"""Real services for the test suite: PostgreSQL, Dovecot and an SMTP listener, each on 127.0.0.1.

The fixtures in tests/conftest.py are thin wrappers around these modules; a test that needs finer control
(a second IMAP user, a restart) can use the objects the fixtures yield.
"""
