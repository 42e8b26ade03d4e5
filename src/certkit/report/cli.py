"""``certkit report``: run the report notebooks and write offline HTML."""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  certkit report --data data/sample --out reports
  certkit report --notebook data_health -p teams=[payments,search] --show-code --pdf
  certkit report --config batch.yaml --share
  # cron (works from any directory; exit code 1 if any notebook failed):
  0 6 * * 1  /path/to/certkit/.venv/bin/certkit report --data /srv/eng-data --out /srv/reports --share --no-input
"""


def _cmd_report(args: argparse.Namespace) -> int:
    from certkit.report.params import parse_assignments
    from certkit.report.runner import run_report

    if args.list:
        from certkit.report.params import declared
        from certkit.report.runner import list_notebooks

        for name, path in list_notebooks().items():
            print(name)
            for p in declared(path).values():
                print(
                    f"    {p.name}: {p.type} = {p.default!r}" + (f"  # {p.help}" if p.help else "")
                )
        return 0
    parameters = parse_assignments(args.parameter or [])
    run = run_report(
        data=args.data,
        out=args.out,
        notebooks=args.notebook or None,
        parameters=parameters,
        config=args.config,
        no_input=True if args.no_input else None,
        share=True if args.share else None,
        jobs=args.jobs,
        progress=not (args.quiet or args.no_progress),
        show_code=True if args.show_code else None,
        pdf=args.pdf,
    )
    if not args.quiet:
        print(run.summary())
    for r in run.failed:
        print(f"\nFAILED {r.run}/{r.notebook}: {r.error}", file=sys.stderr)
        if r.ipynb and r.ipynb.exists():
            print(f"    partly executed notebook kept for diagnosis: {r.ipynb}", file=sys.stderr)
    if args.pdf and run.pdf_message:
        print(f"\n{run.pdf_message}", file=sys.stderr)
    elif args.pdf and not args.quiet:
        print(f"\n{len(run.pdfs)} PDF(s) written next to the HTML pages")
    if not args.quiet:
        print(f"\nOpen {run.index}")
    return 0 if run.ok else 1


def add_report_parser(subparsers) -> None:
    """Register ``certkit report`` on the main parser's sub-commands."""
    p = subparsers.add_parser(
        "report",
        help="run the report notebooks and write offline HTML reports",
        description="Execute certkit's report notebooks with papermill and write the executed "
        ".ipynb and a self-contained HTML page per notebook (charts work offline), plus an "
        "index.html, into a dated folder under --out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", default=None, help="data folder (default: data/sample)")
    p.add_argument("--out", default=None, help="output folder (default: reports)")
    p.add_argument(
        "--notebook",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="run only these notebooks (--notebook 01 02, or repeated)",
    )
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="KEY=VALUE",
        help="notebook parameter, value read as YAML (repeatable): -p teams=[a,b] -p privacy_k=10",
    )
    p.add_argument("--config", metavar="FILE.yaml", help="batch file listing several runs")
    p.add_argument(
        "--no-input",
        action="store_true",
        help="hide code in the HTML (the default; kept for old scripts)",
    )
    p.add_argument(
        "--show-code",
        action="store_true",
        help="show the notebooks' code in the HTML (the executed .ipynb always has it)",
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print the landing page and every page to PDF with headless Chromium",
    )
    p.add_argument(
        "--share",
        action="store_true",
        help="shared-report privacy rules: no individual engineers, groups under k hidden",
    )
    p.add_argument("--jobs", type=int, default=None, help="notebooks run at once (default 2)")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but failures (no progress bar, no summary)",
    )
    p.add_argument(  # the flag `certkit import` has (trial AE: --no-progress was refused)
        "--no-progress", action="store_true", help="no progress bar (the summary is printed)"
    )
    p.add_argument("--list", action="store_true", help="list notebooks and their parameters")
    p.set_defaults(func=_cmd_report)
