"""The practical limit: a bare `websockets` server that fans out with `broadcast()`.

    python -m bench.baseline_server --port 8001

Clients connect to any path but `/control`; each gets a tiny snapshot, then whatever is
broadcast. A message `<seq> <size>` on a `/control` websocket broadcasts an event of
`size` bytes shaped like the app's (`{"type":"event","seq":<seq>,...}`) to every client,
then answers `sent`. No compression; uvloop's event loop when installed, as uvicorn uses.
"""

import argparse
import asyncio
import json
import resource

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


def event(seq: int, size: int) -> str:
    """An event message of about `size` bytes."""
    head = {"type": "event", "seq": seq, "kind": "floor.hand_raised", "data": {"pad": ""}}
    padding = max(0, size - len(json.dumps(head, separators=(",", ":"))))
    head["data"] = {"pad": "x" * padding}
    return json.dumps(head, separators=(",", ":"))


async def handler(websocket: ServerConnection) -> None:
    """Control connections trigger broadcasts; every other connection receives them."""
    if websocket.request is not None and websocket.request.path == "/control":
        async for message in websocket:
            seq, size = (int(part) for part in str(message).split())
            broadcast(CLIENTS, event(seq, size))
            await websocket.send("sent")
        return
    CLIENTS.add(websocket)
    try:
        await websocket.send('{"type":"snapshot","seq":0}')
        await websocket.wait_closed()
    finally:
        CLIENTS.discard(websocket)


async def run(port: int) -> None:
    """Serve until killed."""
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096) as server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args.port))
    else:
        uvloop.run(run(args.port))


if __name__ == "__main__":
    main()
