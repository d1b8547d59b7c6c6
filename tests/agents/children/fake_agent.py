"""A tiny simcore-agent/1 child for the exec-agent tests; argv[1] picks how it (mis)behaves.

Modes: ok (brakes gently), crash (raises at step 5), hang (stops answering at step 5),
garbage (prints junk at step 5), exit (exits quietly at step 5), version (answers hello with
another protocol version), mute (never answers hello), wrong_step (answers step 5 as 6),
tcp (like ok, over TCP to 127.0.0.1:$SIMCORE_AGENT_PORT), trajectory (plans along the route),
none (sends empty controls: no control), no_hello (answers hello with a control), array
(sends a JSON array at step 5), huge (a 5000-byte line at step 5), close_stdout (closes its
stdout at step 5, then hangs), nan (a NaN literal at step 5), null (accel null at steps 5-7),
mixed (accel and throttle at step 5), orphan (like ok, but leaves a sleeping grandchild
behind in its process group), eof (ignores close; exits at the end of its input and says so
on stderr), noisy (writes a 200 kB stderr line at reset, then crashes like crash), flood (sends
20,000 controls at reset, ahead of time), stranger_token (tcp with a wrong token in its hello).
"""

import json
import os
import socket
import subprocess
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
if mode in ("tcp", "stranger_token"):
    sock = socket.create_connection(("127.0.0.1", int(os.environ["SIMCORE_AGENT_PORT"])))
    rfile, wfile = sock.makefile("r"), sock.makefile("w")
else:
    rfile, wfile = sys.stdin, sys.stdout


def send(msg):
    wfile.write(json.dumps(msg) + "\n")
    wfile.flush()


route = None
if mode == "orphan":
    grandchild = subprocess.Popen(["sleep", "300"])  # same process group, inherits our pipes
    print(f"grandchild {grandchild.pid}", file=sys.stderr, flush=True)
for line in rfile:
    msg = json.loads(line)
    if msg["type"] == "hello":
        if mode == "mute":
            time.sleep(3600)
        if mode == "no_hello":
            send({"type": "control", "step": 0, "accel": 0.0, "steer": 0.0})
            continue
        proto = "simcore-agent/99" if mode == "version" else msg["protocol"]
        token = os.environ.get("SIMCORE_AGENT_TOKEN", "") if mode != "stranger_token" else "wrong"
        send({"type": "hello", "protocol": proto, "name": f"fake-{mode}", "token": token})
    elif msg["type"] == "reset":
        route = msg["route"]
        print(f"fake agent {mode} reset", file=sys.stderr, flush=True)
        if mode == "noisy":
            print("N" * 200_000, file=sys.stderr, flush=True)
        if mode == "flood":  # every control of the run ahead of time, and many more
            for k in range(20_000):
                send({"type": "control", "step": k, "accel": -0.5, "steer": 0.0})
    elif msg["type"] == "observation":
        if mode == "flood":
            continue
        step = msg["step"]
        if step == 5:
            if mode in ("crash", "noisy"):
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
            if mode in ("array", "huge", "nan", "mixed"):
                wfile.write(
                    {
                        "array": "[1, 2]",
                        "huge": json.dumps({"type": "control", "step": 5, "accel": 0, "steer": 0, "pad": "x" * 5000}),
                        "nan": '{"type": "control", "step": 5, "accel": NaN, "steer": 0}',
                        "mixed": '{"type": "control", "step": 5, "accel": 0, "throttle": 0, "brake": 0, "steer": 0}',
                    }[mode]
                    + "\n"
                )
                wfile.flush()
                continue
            if mode == "close_stdout":
                os.close(1)  # the engine's end of the pipe sees end of file; we live on
                time.sleep(3600)
        if mode == "null" and 5 <= step <= 7:
            send({"type": "control", "step": step, "accel": None, "steer": 0.0})
            continue
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
    elif msg["type"] == "close" and mode != "eof":
        break
if mode == "eof":
    print("eof mode: end of input", file=sys.stderr, flush=True)
