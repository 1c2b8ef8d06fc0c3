"""A real IPython kernel driven as JupyterLab drives it: code sent for execution, widget comms
collected from iopub, slider moves sent as widget "update" comm messages. Used by
tests/test_live_kernel.py and benchmarks/bench_sliders.py."""

import os
import queue
import time

import jupyter_client

TIMEOUT = 300


class Kernel:
    """A started kernel and its client, collecting widget comms from iopub."""

    def __init__(self, cwd):
        self.manager = jupyter_client.KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=dict(os.environ, SGD_UTILS_SLIDERS="live"))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=TIMEOUT)
        self.comms = {}     # comm id -> latest widget state
        self.output = []    # what the kernel printed

    def drain(self, until=None, timeout=TIMEOUT):
        """Read iopub, recording widget states, until ``until(message)`` is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
                self.comms[content["comm_id"]] = dict(content["data"]["state"])
            elif kind == "comm_msg" and content["comm_id"] in self.comms:
                self.comms[content["comm_id"]].update(content["data"].get("state", {}))
            elif kind == "stream":
                self.output.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            if until is not None and until(message):
                return message
        raise AssertionError("timed out waiting for the kernel")

    def widgets(self, model_name):
        """Comm ids of the widgets of ``model_name`` (e.g. "FloatLogSliderModel")."""
        return [cid for cid, state in self.comms.items() if state.get("_model_name") == model_name]

    def wait_for_value(self, comm_id):
        """Wait until the widget ``comm_id`` gets a new ``value``; return the seconds waited."""
        start = time.perf_counter()
        self.drain(lambda m: m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
                   and "value" in m["content"]["data"].get("state", {}))
        return time.perf_counter() - start

    def run(self, code):
        msg_id = self.client.execute(code)
        self.drain(lambda m: m["parent_header"].get("msg_id") == msg_id
                   and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")

    def set_value(self, comm_id, value, key="value"):
        """What a front end sends when the reader releases a slider (``key="index"`` for a
        SelectionSlider)."""
        self.client.shell_channel.send(self.client.session.msg("comm_msg", {
            "comm_id": comm_id, "data": {"method": "update", "state": {key: value},
                                         "buffer_paths": []}}))

    def stop(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
