#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# delayproxy.py - a TCP relay that adds latency: every chunk read from one side
# is written to the other side DELAY_MS / 2 later, in order, so the round trip
# between client and server grows by DELAY_MS (a WAN link on loopback, where
# netem is not available).
# usage: delayproxy.py LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 both)
# prints "ready" once it listens; runs until killed.
import asyncio
import socket
import sys


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.write_eof() if writer.can_write_eof() else writer.close()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data or None))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()
        writer.close()


async def main():
    lport, tport, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 2000

    async def handle(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", tport)
        except OSError:
            cwriter.close()
            return
        for w in (cwriter, swriter):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(pump(creader, swriter, delay), pump(sreader, cwriter, delay),
                             return_exceptions=True)
        cwriter.close()
        swriter.close()

    server = await asyncio.start_server(handle, "127.0.0.1", lport, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
