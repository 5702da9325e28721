"""A small HTTP server that speaks Ollama's documented API (/api/tags; /api/chat streaming NDJSON, or one JSON object
with `"stream": false`, with first-token `logprobs` when asked). The Ollama server itself cannot be installed on these
machines; this stands in for it in tests."""

from __future__ import annotations

import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOllama:
    def __init__(self, models=("fake-model:latest",), reply=None, logprobs=True):
        self.models = list(models)
        self.logprobs = logprobs  # False: a server older than Ollama's logprobs support, which ignores the field
        self.requests: list[dict] = []
        # default reply: cite the evidence line that mentions the ceasefire offer
        self.reply = reply or self._ceasefire_reply
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/api/tags":
                    self._json(200, {"models": [{"name": m, "model": m, "size": 1} for m in server.models]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if self.path != "/api/chat":
                    return self._json(404, {"error": "not found"})
                name = body["model"] if ":" in body["model"] else body["model"] + ":latest"  # as Ollama resolves it
                if name not in server.models:
                    return self._json(404, {"error": f"model '{body['model']}' not found"})
                text = server.reply(body["messages"])
                if body.get("stream") is False:
                    reply = {"model": body["model"], "message": {"role": "assistant", "content": text}, "done": True,
                             "done_reason": "stop", "prompt_eval_count": 321, "eval_count": 1}
                    if body.get("logprobs") and server.logprobs:
                        reply["logprobs"] = [server._first_token_logprobs(text)]
                    return self._json(200, reply)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for piece in re.findall(r"\S+\s*", text):
                    chunk = {"model": body["model"], "message": {"role": "assistant", "content": piece}, "done": False}
                    self.wfile.write((json.dumps(chunk) + "\n").encode())
                    self.wfile.flush()
                final = {"model": body["model"], "message": {"role": "assistant", "content": ""}, "done": True,
                         "done_reason": "stop", "prompt_eval_count": 321, "eval_count": 12}
                self.wfile.write((json.dumps(final) + "\n").encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def _first_token_logprobs(text):
        """A confident model: 0.9 on the first word of its reply, 0.1 on the opposite verdict."""
        first = text.split()[0] if text.split() else ""
        other = {"YES": "NO", "NO": "YES"}.get(first, "NO")
        top = [{"token": first, "logprob": math.log(0.9)}, {"token": other, "logprob": math.log(0.1)}]
        return {"token": first, "logprob": math.log(0.9), "top_logprobs": top}

    @staticmethod
    def _ceasefire_reply(messages):
        user = messages[-1]["content"]
        if messages[0]["content"].startswith("You decide whether evidence sentences"):  # does the evidence answer?
            return "YES" if "30-tägigen" in user else "NO"
        if user.startswith("Article:"):  # the claim check: the quote states the ceasefire offer
            return "YES" if "30-tägigen" in user and "30-day" in user else "NO"
        match = re.search(r"^\[(\d+)\][^\n]*30-tägigen", user, flags=re.MULTILINE)
        if not match:
            return "NOT_IN_ARTICLES"
        return f"The US offered Ukraine a 30-day ceasefire [{match.group(1)}]."

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
