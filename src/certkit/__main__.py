"""``python -m certkit ...``: the ``certkit`` command, for environments without it on PATH."""

from certkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
