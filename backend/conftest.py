import os

# Tests run with DEBUG off, as production does; the key only has to exist.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
