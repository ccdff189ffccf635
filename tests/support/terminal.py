"""A real ``switchroom`` on a pseudo-terminal, driven by key presses and read as a user would read it."""

from pathlib import Path
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))
_CONTROLS = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str], columns: int = 120, rows: int = 40) -> None:
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen([SWITCHROOM, *args], stdin=follower, stdout=follower, stderr=follower,
                                        env={"TERM": "xterm-256color", **env}, start_new_session=True)
        os.close(follower)
        self.output = bytearray()

    @property
    def text(self) -> str:
        """What was written so far, terminal controls taken out."""
        return _CONTROLS.sub(b"", bytes(self.output)).decode(errors="replace")

    def read(self, seconds: float = 0.1) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.leader], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # the process has ended
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, wanted: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while wanted not in self.text:
            assert time.monotonic() < deadline, f"{wanted!r} never shown; the screen had:\n{self.text[-3000:]}"
            assert self.process.poll() is None, f"ended ({self.process.returncode}):\n{self.text[-3000:]}"
            self.read()

    def press(self, keys: str) -> None:
        os.write(self.leader, keys.encode())
        self.read(0.3)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            status = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        os.close(self.leader)
        return status
