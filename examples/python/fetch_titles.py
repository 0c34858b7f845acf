"""The fetch example in CPython, for comparing output."""
import re
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The pages of the local server: the title, and the ms it takes.
PAGES = {"/deno": ("Deno", 300), "/bun": ("Bun", 100), "/python": ("Python", 200)}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        page = PAGES.get(self.path)
        if page is None:
            self.send_response(404)
            self.end_headers()
            return
        title, delay = page
        time.sleep(delay / 1000)
        body = f"<title>{title}</title>".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"


def fetch_title(path):
    try:
        with urllib.request.urlopen(base + path) as response:
            html = response.read().decode()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{path}: HTTP {error.code}") from error
    match = re.search(r"<title>(.*?)</title>", html)
    return match[1] if match else path


paths = ["/deno", "/bun", "/python", "/missing"]
with ThreadPoolExecutor(max_workers=4) as pool:
    start = time.perf_counter()
    futures = [pool.submit(fetch_title, path) for path in paths]
    for future in as_completed(futures):
        try:
            print(future.result())
        except Exception as error:
            print("failed:", error)
    elapsed = time.perf_counter() - start
    serial = sum(delay for _, delay in PAGES.values())
    print(
        f"# {len(paths)} fetches, 4 at a time: {elapsed * 1000:.0f} ms",
        f"(one after another: over {serial} ms)",
    )
server.shutdown()
