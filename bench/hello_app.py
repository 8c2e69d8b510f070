"""The baseline for bench/throughput.py: the smallest Flask app, served like the real one.

    .venv/bin/gunicorn -w 2 -b 127.0.0.1:8000 --pythonpath bench hello_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
