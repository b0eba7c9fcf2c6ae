from chat.tests.test_presence import redis_server, redis_url  # noqa: F401 (a redis-server of our own)
