"""A real jupyter_client connecting to a kernel whose five sockets are each already full of
idle peers (QA's H1; run by tests/kernel_hostile.rs with the connection file as argument,
the kernel's session holding x = 42): it must get in on every channel and be served,
kernel_info on shell and control, a cell reading x, and a beating heartbeat. Exits non-zero
with a message on the first failed check.
"""
import sys
import time

from jupyter_client import BlockingKernelClient

TIMEOUT = 60


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def control_reply(kc, msg_type):
    """Sends a request of msg_type on the control channel; its reply's content."""
    msg = kc.session.msg(msg_type)
    kc.control_channel.send(msg)
    while True:
        reply = kc.control_channel.get_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]


def main():
    kc = BlockingKernelClient(connection_file=sys.argv[1])
    kc.load_connection_file()
    kc.start_channels()
    try:
        # What failed with 'Kernel died before replying to kernel_info'.
        kc.wait_for_ready(timeout=TIMEOUT)
        check(True, "kernel_info on shell (wait_for_ready)")
        outputs = []
        reply = kc.execute_interactive("x", timeout=TIMEOUT, output_hook=outputs.append)
        check(reply["content"]["status"] == "ok", f"a cell runs: {reply['content']}")
        results = [m["content"]["data"]["text/plain"] for m in outputs
                   if m["header"]["msg_type"] == "execute_result"]
        check(results == ["42"], f"the cell reads x set before: {results}")
        check(control_reply(kc, "kernel_info_request")["status"] == "ok",
              "kernel_info on control")
        # The heartbeat pings once a second: after 1.5 s at least one round is over.
        time.sleep(1.5)
        check(kc.hb_channel.is_beating(), "the heartbeat answers")
    finally:
        kc.stop_channels()


if __name__ == "__main__":
    main()
