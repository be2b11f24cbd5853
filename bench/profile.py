"""Profiles of the server under the bench's load: ``bench.run --profile DIR`` records each
server with py-spy (sampling, from outside the process: the server runs unchanged) during the
boot storm, the realistic Authorize saturation and the fleet day's measured window, as
collapsed stacks (``DIR/<server>-<scenario>.txt``, one ``frame;frame;… count`` line a stack:
``flamegraph.pl`` or speedscope draw them), and prints where the samples went.

    .venv/bin/python -m bench.profile DIR/portal-2.txt     # the summary again
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 100  # samples a second: light enough not to be what is measured


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("--profile needs py-spy (requirements-dev.txt): pip install py-spy")
    return found


class Recording:
    """py-spy recording process ``pid`` into ``path`` until :meth:`stop`."""

    def __init__(self, pid: int, path: Path) -> None:
        self.path = path
        command = [py_spy(), "record", "--pid", str(pid), "--rate", str(RATE)]
        command += ["--format", "raw", "--threads", "--nonblocking", "--output", str(path)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def stop(self) -> Path | None:
        """Stop sampling and write the stacks (py-spy writes them on SIGINT)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, errors = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None
        if not self.path.exists():
            print(f"   (no profile: {errors.strip()[-300:]})")
            return None
        return self.path


def read(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def summary(path: Path, top: int = 12) -> str:
    """The functions holding most samples: their own (self) and with what they call."""
    stacks = read(path)
    total = sum(count for _, count in stacks) or 1
    own: Counter = Counter()
    inclusive: Counter = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        for frame in dict.fromkeys(frames):  # once a stack (recursion), in a stable order
            inclusive[frame] += count
    lines = [f"{path.name}: {total} samples"]
    for title, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"  {title}:")
        lines += [
            f"    {100 * count / total:5.1f} %  {frame}"
            for frame, count in counter.most_common(top)
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(summary(Path(argument)))
