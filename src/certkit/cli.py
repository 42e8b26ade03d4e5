"""The ``certkit`` command line: validate, sample, panel, report, import.

Bad data and bad arguments end with a readable message and a non-zero exit code, never a
Python traceback (exit 1: the data has errors or a report failed; exit 2: usage error).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

from certkit.errors import CertkitError, DataValidationError


def _cmd_validate(args: argparse.Namespace) -> int:
    from certkit.data.dataset import validate

    report = validate(args.path)
    print(report.format())
    return 0 if report.ok else 1


def _cmd_sample(args: argparse.Namespace) -> int:
    from certkit.data.sample import write_sample

    ds = write_sample(  # all files at once; refuses to replace files certkit did not write
        args.out, n_engineers=args.engineers, months=args.months, seed=args.seed, format=args.format
    )
    print(f"Wrote a simulated organisation to {args.out}:")
    print(ds.summary())
    return 0


def _cmd_panel(args: argparse.Namespace) -> int:
    from certkit.data.dataset import load
    from certkit.data.outputs import data_folder_inputs, refuse_inputs
    from certkit.data.panel import build_panel
    from certkit.data.schema import TABLES
    from certkit.data.spark_sources import CATALOG_PREFIX

    source = args.data or args.path
    if not source:
        raise CertkitError("give the data: certkit panel PATH (or --data PATH_OR_FILE)")
    if args.data and args.path and args.data != args.path:
        raise CertkitError(f"two data sources given: {args.path} and --data {args.data}")
    out = Path(args.out)
    if source.split("://", 1)[0].split("+")[0] in DEVLAKE_SCHEMES:
        if args.table:
            raise CertkitError("--table does not apply to a DevLake URI (DevLake's own tables)")
        return _panel_devlake(args, source, out)
    given = [o for o in _DEVLAKE_OPTIONS if getattr(args, o.lstrip("-").replace("-", "_"), None)]
    if given:
        raise CertkitError(f"{', '.join(given)} only apply with a DevLake URI (--data mysql://...)")
    catalog = source.startswith(CATALOG_PREFIX)
    if not catalog:
        refuse_inputs(out, data_folder_inputs(source), kind="file")
        _refuse_table_output(out, Path(source), [*TABLES, *_table_names(args.table).values()])
    if out.is_dir():
        raise CertkitError(f"--out {out} is a folder; give a .parquet or .csv file name")
    engine = _panel_engine(args, source, catalog)
    if engine is None and args.table:
        raise CertkitError(
            "--table applies to tables scanned where they live: add --engine polars|duckdb"
            "|spark (a folder loaded into memory uses certkit's file names)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if engine is None:  # read and validate everything into memory (small organisations)
            panel = build_panel(
                load(source),
                args.period,
                fix_links=args.fix_links,
                keep_partial_end=args.keep_partial_end,
            )
        else:  # scan where the data lives, bring back only the panel
            panel = _lazy_panel(args, source, engine)
    return _write_panel(panel, out, args.period, caught)


def _lazy_panel(args: argparse.Namespace, source: str, engine: str):
    """The panel of ``open_dataset(source, engine)``, run in that engine; a Spark session
    opened for it (Spark Connect, a new local one) is stopped afterwards."""
    from certkit.data.panel import build_panel
    from certkit.data.panel_engines import ColumnTypeError
    from certkit.data.panel_sources import TABLES, open_dataset
    from certkit.data.spark_sources import CATALOG_PREFIX, catalog_names, opened_spark_session

    table_names = _table_names(args.table)
    with ExitStack() as stack:
        session = None
        if engine == "spark":
            if source.startswith(CATALOG_PREFIX):  # a typo costs no JVM start or connection
                catalog_names(source, TABLES, table_names)
            session = stack.enter_context(opened_spark_session(args.spark_remote))
        ds = open_dataset(
            source,
            engine,
            session=session,
            memory_limit=args.memory_limit,
            table_names=table_names,
        )
        if args.validate:  # whole-table rules, run in the engine (certkit.data.validate_lazy)
            from certkit.data.validate_lazy import validate_lazy

            report = validate_lazy(ds)
            if not report.ok:
                raise DataValidationError(report)
            if report.problems:
                print(report.format(), file=sys.stderr)
        try:
            return build_panel(
                ds,
                args.period,
                streaming=engine == "polars",
                fix_links=args.fix_links,
                keep_partial_end=args.keep_partial_end,
            )
        except ColumnTypeError as exc:  # name the source too, not only the table
            raise CertkitError(f"--data {source}: {exc}") from exc


def _refuse_table_output(out: Path, source: Path, names: list[str]) -> None:
    """``--out`` must not be (or land beside or inside) a table of the data folder: a
    ``NAME.parquet`` file or ``NAME/`` folder of parts, under certkit's or a ``--table`` name."""
    if not source.is_dir():
        return
    folder, target = source.resolve(), out.resolve()
    for name in names:
        table = (folder / name).resolve()
        if (target.stem == table.name and target.parent == table.parent) or (
            table in target.parents
        ):
            raise CertkitError(
                f"--out {out} would add to (or replace) the table {name} of the data folder "
                f"{source}; inputs are only ever read: write the panel elsewhere (e.g. "
                "reports/panel.parquet)"
            )


def _table_names(pairs: list[str]) -> dict[str, str]:
    """``--table pull_requests=github_prs`` options as ``{certkit table: name}``."""
    names: dict[str, str] = {}
    for pair in pairs:
        table, sep, name = pair.partition("=")
        if not sep or not table.strip() or not name.strip():
            raise CertkitError(f"--table {pair}: give TABLE=NAME, e.g. pull_requests=github_prs")
        if table.strip() in names:
            raise CertkitError(f"--table: {table.strip()} is named twice")
        names[table.strip()] = name.strip()
    return names


def _panel_engine(args: argparse.Namespace, source: str, catalog: bool) -> str | None:
    """The engine ``certkit panel`` runs in (None: load into memory), refusing options
    that do not apply to it."""
    engine = args.engine
    if engine is None and catalog:
        engine = "spark"  # tables of a Spark catalog schema
    elif engine is None and Path(source).is_file():
        engine = "duckdb"  # a single file is a DuckDB database
    if catalog and engine != "spark":
        raise CertkitError(f"--data {source}: catalog tables are read with --engine spark")
    if args.spark_remote and engine != "spark":
        raise CertkitError("--spark-remote only applies with --engine spark")
    if args.memory_limit and engine != "duckdb":
        raise CertkitError(
            "--memory-limit only applies with --engine duckdb (or a DuckDB database file)"
        )
    return engine


DEVLAKE_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb")
_DEVLAKE_OPTIONS = (
    "--engineers",
    "--certifications",
    "--identities",
    "--since",
    "--repo",
    "--project",
    "--ai-rules",
    "--agents",
    "--roster-only",
)


def _panel_devlake(args: argparse.Namespace, uri: str, out: Path) -> int:
    """``certkit panel --data postgresql://...``: the panel computed inside DevLake's database."""
    from certkit.connectors.devlake_panel import devlake_panel
    from certkit.data.outputs import refuse_inputs

    files = [
        ("--engineers file", args.engineers),
        ("--certifications file", args.certifications),
        ("--identities file", args.identities),
        ("--ai-rules file", args.ai_rules),
        ("--agents file", args.agents),
    ]
    refuse_inputs(out, files, kind="file")
    if out.is_dir():
        raise CertkitError(f"--out {out} is a folder; give a .parquet or .csv file name")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = devlake_panel(
            uri,
            engineers=args.engineers,
            certifications=args.certifications,
            period=args.period,
            since=args.since,
            repos=args.repo,
            project=args.project,
            identities=args.identities,
            ai_rules=args.ai_rules,
            agents=args.agents,
            roster_only=args.roster_only,
            fix_links=args.fix_links,
            keep_partial_end=args.keep_partial_end,
        )
    return _write_panel(panel, out, args.period, caught, " (computed in DevLake's database)")


def _write_panel(panel, out: Path, period: str, caught: list, where: str = "") -> int:
    """Print the caught warnings, write ``panel`` to ``out`` (CSV or Parquet) and say so."""
    from certkit.data.outputs import write_file_atomic

    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    write_file_atomic(out, panel.write_csv if out.suffix == ".csv" else panel.write_parquet)
    print(
        f"Wrote {panel.height:,} engineer-{period} rows "
        f"({panel['engineer_id'].n_unique():,} engineers) to {out}{where}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certkit",
        description="Does ML certification change engineering outcomes? "
        "Causal estimates (DiD, matched cohorts) and ROI from engineering data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a data folder and list every problem found")
    p.add_argument("path", help="folder with engineers, certifications, pull_requests, ... files")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("sample", help="write a simulated organisation with known effects")
    p.add_argument("--out", default="data/sample", help="output folder (default: data/sample)")
    p.add_argument("--engineers", type=int, default=400)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--format", choices=["parquet", "csv", "ndjson"], default="parquet")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("panel", help="build the engineer x period outcome panel")
    p.add_argument("path", nargs="?", help="data folder (or use --data)")
    p.add_argument(
        "--data",
        help="data folder, folder of Parquet tables, DuckDB database file (.duckdb), tables "
        "of a Spark catalog schema (spark:SCHEMA or spark:CATALOG.SCHEMA, e.g. "
        "spark:main.devprod: engineers, certifications, pull_requests[, defects, incidents]), "
        "or a DevLake database URI (postgresql://... or mysql://...: the panel is computed "
        "inside it; see --engineers)",
    )
    p.add_argument(
        "--engine",
        choices=["polars", "duckdb", "spark"],
        help="scan Parquet/DuckDB/catalog tables lazily in this engine without loading them "
        "(polars: streaming); default: spark for spark:SCHEMA, duckdb for a database file, "
        "else load and validate the folder in memory",
    )
    p.add_argument(
        "--spark-remote",
        metavar="URL",
        help="with --engine spark: a Spark Connect server instead of a local session, "
        "sc://HOST[:PORT][/;key=value;...] (Databricks: sc://WORKSPACE:443/;token=...;"
        "x-databricks-cluster-id=...; the token may instead be in "
        "SPARK_CONNECT_AUTHENTICATE_TOKEN); default: $SPARK_REMOTE",
    )
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="with --engine duckdb: DuckDB's memory_limit (e.g. 4GB; default 80%% of RAM); "
        "it spills to a temporary folder beyond it",
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="with --engine: first check column types, unique keys, foreign keys and date "
        "order in the engine (stops on errors)",
    )
    p.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="TABLE=NAME",
        help="with --engine (or a DuckDB file, spark:SCHEMA): a certkit table under another "
        "name in --data, e.g. pull_requests=github_prs (a Parquet file or folder, a DuckDB "
        "table or view, schema.name for another schema, a catalog table); repeatable",
    )
    p.add_argument("--period", choices=["week", "month", "quarter"], default="month")
    p.add_argument(
        "--fix-links",
        choices=["drop", "keep"],
        default="drop",
        help="a defect or incident linked to a PR merged at or after it was reported: drop "
        "(default: that PR most likely fixed it, not counted against its author) or keep "
        "(your links name the PRs that caused them)",
    )
    p.add_argument(
        "--keep-partial-end",
        action="store_true",
        help="keep the data's last period when the data end well inside it (default: left "
        "out with a warning, as a partial period counts fewer PRs for every engineer)",
    )
    p.add_argument("--out", default="reports/panel.parquet", help=".parquet or .csv file")
    d = p.add_argument_group("with a DevLake URI (as for `certkit import devlake`)")
    d.add_argument("--engineers", help="roster file (engineer_id, team, role, level, ...)")
    d.add_argument("--certifications", help="certification records file")
    d.add_argument("--identities", help="CSV mapping aliases to engineer ids")
    d.add_argument("--since", help="only PRs created on or after this date (YYYY-MM-DD)")
    d.add_argument("--repo", action="append", help="only this repository (repeatable)")
    d.add_argument("--project", help="only this DevLake project")
    d.add_argument("--ai-rules", help="AI-attribution rules YAML (default: the bundled rules)")
    d.add_argument(
        "--agents", help="extra agent/automation identities YAML (added to the bundled list)"
    )
    d.add_argument(
        "--roster-only",
        action="store_true",
        help="leave authors missing from the roster out (default: team 'unknown', never certified)",
    )
    p.set_defaults(func=_cmd_panel)

    # Commands contributed by other modules, each registering its own sub-parser.
    for module in ("certkit.report.cli", "certkit.connectors.cli"):
        try:
            mod = import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        for attr in ("add_report_parser", "add_import_parser"):
            if hasattr(mod, attr):
                getattr(mod, attr)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``certkit`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        print(exc.report.format(), file=sys.stderr)
        return 1
    except CertkitError as exc:
        from certkit.data.spark_sources import redact  # a Spark Connect token is never shown

        print(
            f"certkit: error: {redact(str(exc), getattr(args, 'spark_remote', None))}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("certkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
