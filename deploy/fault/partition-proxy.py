#!/usr/bin/env python3
"""A TCP proxy that can partition the network without root (no iptables/nftables).

    partition-proxy.py LISTEN_HOST:LISTEN_PORT=TARGET_HOST:TARGET_PORT [...]

Forwards every listed address to its target. SIGUSR1 partitions: no byte moves in either
direction on any connection and new connections are held before reaching the target. SIGUSR2
heals: everything held moves on. This is what a real partition does to TCP: segments are lost
and retransmitted, so the connections survive and the data arrives late (unless an endpoint
gives up and closes first). At most one read buffer per direction is held in the proxy; the rest
waits in the kernel's socket buffers, so the senders feel the stall.

Each state change and connection is logged to stdout with a timestamp.
"""
import asyncio
import signal
import sys
import time

open_ = asyncio.Event()


def log(msg):
    print("%.3f %s" % (time.time(), msg), flush=True)


async def pump(reader, writer, name):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await open_.wait()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def handler(target_host, target_port, label):
    async def handle(client_reader, client_writer):
        await open_.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError as e:
            log("%s: cannot reach the target: %s" % (label, e))
            client_writer.close()
            return
        log("%s: connection" % label)
        await asyncio.gather(
            pump(client_reader, up_writer, label + " >"),
            pump(up_reader, client_writer, label + " <"),
        )

    return handle


def parse(arg):
    try:
        listen, target = arg.split("=")
        lh, lp = listen.rsplit(":", 1)
        th, tp = target.rsplit(":", 1)
        return lh, int(lp), th, int(tp)
    except ValueError:
        sys.exit(
            "partition-proxy: bad mapping %r; expected LISTEN_HOST:PORT=TARGET_HOST:PORT" % arg
        )


async def main(mappings):
    loop = asyncio.get_running_loop()

    def partition():
        open_.clear()
        log("PARTITIONED")

    def heal():
        open_.set()
        log("HEALED")

    loop.add_signal_handler(signal.SIGUSR1, partition)
    loop.add_signal_handler(signal.SIGUSR2, heal)
    open_.set()
    servers = []
    for lh, lp, th, tp in mappings:
        label = "%s:%d->%s:%d" % (lh, lp, th, tp)
        servers.append(await asyncio.start_server(handler(th, tp, label), lh, lp))
        log("listening %s" % label)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    asyncio.run(main([parse(a) for a in sys.argv[1:]]))
