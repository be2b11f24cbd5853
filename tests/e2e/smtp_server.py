"""A slow SMTP server for the tests: it greets only after ``delay`` seconds (as a mail server
far away, or overloaded, does), then takes every message."""

from __future__ import annotations

import socketserver
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header


class SlowSmtpServer:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list = []
        outer = self

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                time.sleep(outer.delay)
                self.reply("220 slow.example ESMTP")
                while line := self.rfile.readline():
                    verb = line.decode().strip().split(" ", 1)[0].upper()
                    if verb == "DATA":
                        self.reply("354 go ahead")
                        outer.messages.append(message_from_bytes(self.data()))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # EHLO, MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

            def reply(self, text: str) -> None:
                self.wfile.write(f"{text}\r\n".encode())

            def data(self) -> bytes:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line)
                return b"".join(lines)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def subjects(self) -> list[str]:
        """The messages' subjects, unfolded."""
        return [
            str(make_header(decode_header(m["Subject"].replace("\r\n ", " "))))
            for m in self.messages
        ]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
