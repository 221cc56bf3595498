# Drives Corvid with redis-py (Debian's python3-redis) the way an
# application does: connection handshake, strings with TTL, hashes, sorted
# sets, a MULTI/EXEC pipeline, CLIENT LIST, INFO. Exits non-zero on any
# mismatch. Invoked by TestRedisPyClient with the server's port.
import sys
import redis

r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
r.set("py:k", "v", ex=100)
assert r.get("py:k") == "v"
assert 0 < r.ttl("py:k") <= 100
r.hset("py:h", mapping={"a": "1", "b": "2"})
assert r.hgetall("py:h") == {"a": "1", "b": "2"}
assert r.zadd("py:z", {"m": 1.5}) == 1
assert r.zscore("py:z", "m") == 1.5
p = r.pipeline(transaction=True)
p.incr("py:c")
p.incr("py:c")
assert p.execute() == [1, 2]
assert r.info()["redis_version"] == "7.2.4"
assert any(c.get("id") for c in r.client_list())
assert r.object("encoding", "py:h") == "listpack"
print("ok")
