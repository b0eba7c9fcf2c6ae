"""Settings for the test suites: production's, with a fast password hasher.

PBKDF2's 1,000,000 rounds cost about a quarter of a second of a core per
sign-up and per login, and the suites sign up well over a thousand people
(in-process, and through the Daphne servers the e2e and browser tests start).
What the hasher protects is not what they test. pyproject points pytest here;
tests/harness.py and the browser tests' server.ts point their servers here.
"""

from config.settings import *  # noqa: F403 - everything else exactly as deployed

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
