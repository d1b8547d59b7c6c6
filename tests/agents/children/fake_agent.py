"""A tiny simcore-agent/1 child for the exec-agent tests; argv[1] picks how it (mis)behaves.

Modes: ok (brakes gently), crash (raises at step 5), hang (stops answering at step 5),
garbage (prints junk at step 5), exit (exits quietly at step 5), version (answers hello with
another protocol version), mute (never answers hello), wrong_step (answers step 5 as 6),
tcp (like ok, over TCP to 127.0.0.1:$SIMCORE_AGENT_PORT), trajectory (plans along the route),
none (sends empty controls: no control).
"""

import json
import os
import socket
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
if mode == "tcp":
    sock = socket.create_connection(("127.0.0.1", int(os.environ["SIMCORE_AGENT_PORT"])))
    rfile, wfile = sock.makefile("r"), sock.makefile("w")
else:
    rfile, wfile = sys.stdin, sys.stdout


def send(msg):
    wfile.write(json.dumps(msg) + "\n")
    wfile.flush()


route = None
for line in rfile:
    msg = json.loads(line)
    if msg["type"] == "hello":
        if mode == "mute":
            time.sleep(3600)
        proto = "simcore-agent/99" if mode == "version" else msg["protocol"]
        send({"type": "hello", "protocol": proto, "name": f"fake-{mode}"})
    elif msg["type"] == "reset":
        route = msg["route"]
        print(f"fake agent {mode} reset", file=sys.stderr, flush=True)
    elif msg["type"] == "observation":
        step = msg["step"]
        if step == 5:
            if mode == "crash":
                print("about to fail on purpose", file=sys.stderr, flush=True)
                raise RuntimeError("fake agent crashed on purpose")
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                wfile.write("this is not json\n")
                wfile.flush()
                continue
            if mode == "exit":
                sys.exit(0)
            if mode == "wrong_step":
                step = 6
        if mode == "trajectory":
            st = msg["state"]
            s0 = st["progress"]
            pts = [k for k, s in enumerate(route["s"]) if s0 - 2 <= s <= s0 + 40]
            xs = [route["x"][k] for k in pts]
            ys = [route["y"][k] for k in pts]
            send(
                {
                    "type": "control",
                    "step": step,
                    "trajectory": {"x": xs, "y": ys, "yaw": [0.0] * len(xs), "speed": [6.0] * len(xs)},
                }
            )
        elif mode == "none":
            send({"type": "control", "step": step})
        else:
            send({"type": "control", "step": step, "accel": -0.5, "steer": 0.0})
    elif msg["type"] == "close":
        break
