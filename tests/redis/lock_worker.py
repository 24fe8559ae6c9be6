"""One process of the cross-process lock test: `python -m tests.redis.lock_worker URL PREFIX N`.

Makes N attempts to run a critical section under one lock; inside, it counts how many holders
are inside at once (an INCR on a plain key) and reports double runs as its exit output.
"""

from __future__ import annotations

import asyncio
import sys

from faster_redis.connection import connect
from faster_redis.service import RedisService
from faster_redis.settings import RedisSettings


async def main(url: str, prefix: str, attempts: int) -> None:
    settings = RedisSettings(_env_file=None, url=url, prefix=prefix, socket_timeout=2.0)
    service = RedisService(await connect(settings), settings)
    inside = service.key("inside")
    doubles = runs = 0
    for _ in range(attempts):
        async with service.lock("critical", ttl=5, timeout=30):
            if await service.client.incr(inside) != 1:
                doubles += 1
            await asyncio.sleep(0)
            await service.client.decr(inside)
            runs += 1
    await service.aclose()
    sys.stdout.write(f"{runs} {doubles}\n")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
