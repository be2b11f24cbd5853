"""Writes the nginx configuration of `make run-scaled` into a folder, from nginx.conf.template:
the folder (nginx's prefix, with its temporary folders), the port nginx listens on
(127.0.0.1), and the ports of the portal processes behind it.

    python3 deploy/nginx_conf.py <folder> <port> <process port>...
"""

import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
TEMPORARY_FOLDERS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(folder: Path, port: int, process_ports: list[int]) -> Path:
    for name in TEMPORARY_FOLDERS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    upstreams = "".join(
        # A process that fails (or refuses, see /health/ready) is left aside for a while.
        f"        server 127.0.0.1:{process_port} max_fails=3 fail_timeout=10s;\n"
        for process_port in process_ports
    )
    text = (
        TEMPLATE.read_text()
        .replace("@PREFIX@", str(folder))
        .replace("@PORT@", str(port))
        .replace("@UPSTREAMS@\n", upstreams)
        .replace("@DEPLOY@", str(TEMPLATE.parent.resolve()))
    )
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


if __name__ == "__main__":
    folder, port, *process_ports = sys.argv[1:]
    render(Path(folder), int(port), [int(process_port) for process_port in process_ports])
