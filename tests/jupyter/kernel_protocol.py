"""The bumplab kernel spoken to by jupyter_client, as a notebook front end does.

Run by tests/jupyter.rs with JUPYTER_PATH pointing at a freshly installed kernelspec:
kernel_info, execute (stream, execute_result, display_data image/png, positioned errors),
is_complete, complete, inspect, interrupt during a long cell (the session survives), a raw
socket claiming a 2^62-byte frame on shell and control (issue 18: the kernel and this client
carry on) and shutdown. Exits non-zero with a message on the first failed check.
"""
import base64
import queue
import socket
import sys
import time

from jupyter_client.manager import start_new_kernel

TIMEOUT = 60


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def run(kc, code):
    """Executes code; returns (reply content, iopub messages of this request)."""
    outputs = []
    reply = kc.execute_interactive(code, timeout=TIMEOUT, output_hook=outputs.append)
    return reply["content"], outputs


def shell_reply(kc, msg_id):
    """The shell reply to the request msg_id."""
    while True:
        msg = kc.get_shell_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def of_type(outputs, msg_type):
    return [m["content"] for m in outputs if m["header"]["msg_type"] == msg_type]


def main():
    km, kc = start_new_kernel(kernel_name="bumplab", startup_timeout=TIMEOUT)
    try:
        info = shell_reply(kc, kc.kernel_info())
        check(info["implementation"] == "bumplab", "kernel_info names the implementation")
        check(info["language_info"]["name"] == "rhai", "kernel_info names the language")
        time.sleep(1.5)
        check(kc.hb_channel.is_beating(), "the heartbeat answers")

        reply, outputs = run(kc, 'let x = 40 + 2;\nprint(`x is ${x}`);\nx')
        check(reply["status"] == "ok", "a cell runs")
        streams = "".join(s["text"] for s in of_type(outputs, "stream"))
        check("x is 42" in streams, f"print() reaches the cell as a stream: {streams!r}")
        results = of_type(outputs, "execute_result")
        check(results and results[0]["data"]["text/plain"] == "42", "the last value is the result")

        reply, outputs = run(kc, "lhco_toy(#{ background: 50, signal: 0 })")
        html = of_type(outputs, "execute_result")[0]["data"].get("text/html", "")
        check("<table>" in html and "mjj" in html, "an event set shows as an HTML table")

        reply, outputs = run(kc, "let edges = linear_bins(0.0, 1.0, 200);\n"
                                 "let flat = hist_from_counts(edges, edges.map(|e| 100.0).extract(1));\n"
                                 "bump_hunter(flat, flat, #{ npe: 1500000 }).global_p")
        bars = [m["content"] for m in outputs
                if m["header"]["msg_type"] in ("display_data", "update_display_data")
                and "display_id" in m["content"].get("transient", {})]
        check(bars and "pseudo-experiments" in bars[0]["data"]["text/plain"],
              f"a long loop shows a progress bar under the cell: {reply['status']}, {len(bars)} updates")
        check(bars[-1]["data"]["text/plain"] == "", "the finished bar is cleared")

        reply, outputs = run(kc, "x * 2")
        check(of_type(outputs, "execute_result")[0]["data"]["text/plain"] == "84",
              "variables persist across cells")

        # Issue 18: a ZMTP greeting and one frame header claiming 2^62 bytes, before any
        # authentication, used to abort the kernel. Now only that connection is closed.
        for port in (km.shell_port, km.control_port):
            attack = socket.create_connection((km.ip, port))
            attack.sendall(b"\xff" + b"\0" * 8 + b"\x7f\x03\x00NULL" + b"\0" * 48
                           + b"\x06" + (2**62).to_bytes(8, "big"))
            attack.settimeout(TIMEOUT)
            try:
                while attack.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            attack.close()
        check(km.is_alive(), "a frame claiming 2^62 bytes does not kill the kernel")
        reply, outputs = run(kc, "x")
        check(of_type(outputs, "execute_result")[0]["data"]["text/plain"] == "42",
              "the session and its client survive the attack")

        reply, outputs = run(kc, "let h = [1.0, 2.0, 2.5, 3.0].hist(linear_bins(0.0, 4.0, 4));\nh.plot()")
        displays = of_type(outputs, "display_data")
        check(reply["status"] == "ok" and len(displays) == 1, f"plot() without a path displays: {reply}")
        png = base64.b64decode(displays[0]["data"]["image/png"])
        check(png.startswith(b"\x89PNG"), "the display is a PNG image")
        reply, outputs = run(kc, 'inline_figures("svg");\nh.plot(#{ log_y: true });\ninline_figures("png");')
        displays = of_type(outputs, "display_data")
        check(len(displays) == 1 and "<svg" in displays[0]["data"].get("image/svg+xml", ""),
              "inline_figures(\"svg\") displays SVG")

        reply, outputs = run(kc, "let y = 1;\nlet z = no_such_function(y);")
        check(reply["status"] == "error", "a failing cell replies with an error")
        errors = of_type(outputs, "error")
        trace = "\n".join(errors[0]["traceback"]) if errors else ""
        check(":2:" in trace and "In[" in trace, f"the error names the cell position: {trace!r}")
        reply, _ = run(kc, "y")
        check(reply["status"] == "ok", "the session survives an error")

        check(shell_reply(kc, kc.is_complete("fn f(a) {\n"))["status"] == "incomplete",
              "an open block is incomplete")
        check(shell_reply(kc, kc.is_complete("let a = 1;"))["status"] == "complete",
              "a statement is complete")

        content = shell_reply(kc, kc.complete("lhco_t", 6))
        check("lhco_toy" in content["matches"] and content["cursor_start"] == 0,
              f"completion of built-ins: {content['matches']}")
        content = shell_reply(kc, kc.complete("h.integ", 7))
        check("integral" in content["matches"], f"completion of methods by type: {content['matches']}")

        content = shell_reply(kc, kc.inspect("bump_hunter(", 3))
        check(content["found"] and "bump_hunter" in content["data"]["text/plain"],
              "inspect shows the help text")

        # Interrupt a long cell: the reply is an interruption and the session stays.
        msg_id = kc.execute("let s = 0;\nfor i in 0..1000000000 { s += i; }\ns")
        time.sleep(2.0)
        km.interrupt_kernel()
        started = time.time()
        content = shell_reply(kc, msg_id)
        check(content["status"] == "error" and content["ename"] == "Interrupted",
              f"interrupt stops a running cell: {content.get('ename')}")
        check(time.time() - started < 10, "the interruption is prompt")
        reply, outputs = run(kc, "x")
        check(of_type(outputs, "execute_result")[0]["data"]["text/plain"] == "42",
              "the session survives an interruption")
        check(km.is_alive(), "the kernel is alive after the interruption")

        # Interrupt a long training inside a built-in: it stops between batches.
        msg_id = kc.execute(
            'let ev = lhco_toy(#{ background: 100000, signal: 0 });\n'
            'let m = mlp(#{ inputs: 4, hidden: [64, 64, 64] });\n'
            'm.fit(ev, #{ features: ["mj1", "mj2", "tau21_1", "tau21_2"], target: "label", '
            'epochs: 1000 })')
        time.sleep(4.0)
        km.interrupt_kernel()
        started = time.time()
        content = shell_reply(kc, msg_id)
        check(time.time() - started < 15, "an interrupted training stops promptly")
        check(content["status"] == "error" and content["ename"] == "Interrupted",
              f"the training cell reports the interruption: {content}")
        reply, outputs = run(kc, "m.parameters")
        check(reply["status"] == "ok" and of_type(outputs, "execute_result"),
              "the model trained so far is still in the session")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    check(not km.is_alive(), "shutdown ends the kernel")


if __name__ == "__main__":
    main()
