"""qa serve [--port N] [--host H] — start the dashboard (the same app as `streamlit run app_streamlit.py`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import QAError


def app_path() -> Path:
    """The dashboard's entry script, ``app_streamlit.py`` at the root of the checkout (the one entry:
    ``streamlit run app_streamlit.py`` runs the same file); QAError when it is not there."""
    path = Path(__file__).resolve().parents[2] / "app_streamlit.py"
    if not path.is_file():
        raise QAError("the dashboard entry app_streamlit.py is not next to the qa package: run from the source "
                      "checkout (pip install -e .)", str(path))
    return path


def serve_command(port: int = 8501, host: str = "127.0.0.1", headless: bool = True) -> list[str]:
    """The Streamlit command line ``qa serve`` runs. Uncaught exceptions show a generic message
    (``client.showErrorDetails none``); uploads are capped at ``QA_MAX_UPLOAD_MB`` (Streamlit's
    ``server.maxUploadSize``, default 1024: larger request bodies are refused by Streamlit itself);
    QAError (one line) for a bad ``QA_MAX_UPLOAD_MB``."""
    from ..config import max_upload_mb

    return [sys.executable, "-m", "streamlit", "run", str(app_path()), "--server.port", str(port),
            "--server.address", host, "--server.headless", "true" if headless else "false",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.maxUploadSize", str(max_upload_mb()), "--client.toolbarMode", "viewer",
            "--client.showErrorDetails", "none"]


def serve(port: int = 8501, host: str = "127.0.0.1", headless: bool = True, env: dict | None = None) -> int:
    """Replace this process by the Streamlit server (signals such as SIGTERM reach it directly),
    started with ``serve_command``; the server prints a warning at start while demo accounts exist
    (``qa.dashboard.web.lifespan``)."""
    os.environ.update(env or {})
    cmd = serve_command(port, host, headless)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, cmd)
    except OSError as e:
        raise QAError(f"cannot start streamlit: {e}") from None
    return 0  # not reached


def register(sub):
    """Add ``qa serve``."""
    p = sub.add_parser("serve", help="start the dashboard",
                       description="Start the Streamlit dashboard on the store of QA_DATABASE_URL / QA_DATA_DIR.")
    p.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "8501")))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the whole network)")
    p.set_defaults(func=lambda args: serve(args.port, args.host))
