"""``certkit import SOURCE ... --out DIR``: real data into a certkit data folder.

Sources: ``git REPO...``, ``github FILE.json...`` and ``devlake URI``. Any of them can add
``--github`` exports, ``--pagerduty`` / ``--jira`` incident and defect exports, a roster
(``--engineers``), certifications, an identity file and custom AI rules. The folder written
passes ``certkit validate`` when certifications are given.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from certkit.connectors.attribution import LOWER_BOUND_NOTE, load_rules
from certkit.connectors.base import Import, combine, write_commits_only, write_import
from certkit.connectors.identity import load_agents, read_identities
from certkit.errors import CertkitError, CertkitWarning, DataValidationError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output data folder (created if needed)")
    p.add_argument("--engineers", help="roster file (engineer_id, team, role, level, ...)")
    p.add_argument(
        "--roster-only",
        action="store_true",
        help="leave authors missing from the roster out of the analysis (default: add them "
        "as team 'unknown', counted as never certified)",
    )
    p.add_argument(
        "--certifications", help="certification records (engineer_id, certification, ...)"
    )
    p.add_argument(
        "--identities", help="CSV mapping aliases to engineer ids (engineer_id,email,login,name)"
    )
    p.add_argument("--ai-rules", help="AI-attribution rules YAML (default: the bundled rules)")
    p.add_argument(
        "--github",
        action="append",
        default=[],
        metavar="FILE",
        help="also read a `gh pr list --json` export (repeatable)",
    )
    p.add_argument("--pagerduty", action="append", default=[], metavar="FILE")
    p.add_argument("--jira", action="append", default=[], metavar="FILE")
    p.add_argument(
        "--link",
        default="pr_refs",
        help="how incidents/defects link to PRs: pr_refs (default), none, or a CSV "
        "(id,pr_id,engineer_id) that overrides the rows it names (the others keep the PR "
        "their text names)",
    )
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help="IANA time zone (e.g. Europe/Berlin) of --jira/--pagerduty dates written without "
        "a UTC offset, as Jira's CSV export writes them in the exporting user's profile zone "
        "(default: read as UTC, with a note); dates with an offset keep it",
    )
    p.add_argument(
        "--keep-resolutions",
        action="store_true",
        help="keep Jira defects resolved Duplicate, Won't Fix, Cannot Reproduce... (default: "
        "left out, with a note)",
    )
    p.add_argument("--format", choices=["parquet", "csv", "ndjson"], default="parquet")


def add_import_parser(sub) -> None:
    """Register ``certkit import`` and its sources on the main command's sub-parsers."""
    p = sub.add_parser(
        "import",
        help="read git history, GitHub exports or DevLake into a certkit data folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_subparsers(dest="source", required=True, metavar="SOURCE")

    g = src.add_parser("git", help="local git repositories (git log)")
    g.add_argument("repos", nargs="+", help="paths of local clones")
    g.add_argument("--rev", default="HEAD", help="branch whose history is the mainline")
    g.add_argument("--since", help="only commits from this date on (YYYY-MM-DD: its midnight UTC)")
    g.add_argument("--mailmap", help="extra git mailmap file")
    g.add_argument(
        "--direct-commits",
        choices=["ignore", "as_prs"],
        default="ignore",
        help="commits without a PR: ignore (default) or count each as a PR (trunk-based "
        "development)",
    )
    g.add_argument(
        "--repo-name",
        action="append",
        metavar="OWNER/NAME",
        help="name of each repository in PR ids, in the order given (repeatable; default: "
        "the GitHub origin's owner/name, else the folder name); use it to join a --github "
        "export of the same project",
    )
    g.add_argument(
        "--rework-days",
        type=int,
        default=21,
        metavar="N",
        help="line ledger window: lines changed again within N days count as rework (default 21)",
    )
    g.add_argument(
        "--no-rework",
        action="store_true",
        help="skip the line ledger (rework and surviving lines; one more pass over the history)",
    )
    g.add_argument(
        "--commits-only",
        action="store_true",
        help="write only the commits and AI-attribution tables (no PRs needed; no dataset)",
    )
    g.add_argument(
        "--agents", help="extra agent/automation identities YAML (added to the bundled list)"
    )
    g.add_argument("--no-progress", action="store_true")
    _common(g)
    g.set_defaults(func=_cmd_import)

    h = src.add_parser("github", help="`gh pr list --json ...` exports (JSON)")
    h.add_argument("files", nargs="+", help="JSON files, one per repository")
    h.add_argument("--repo", help="owner/name for PR ids (default: from the PR urls)")
    h.add_argument(
        "--agents", help="extra agent/automation identities YAML (added to the bundled list)"
    )
    _common(h)
    h.set_defaults(func=_cmd_import)

    d = src.add_parser("devlake", help="an Apache DevLake database (read-only)")
    d.add_argument("uri", help="postgresql://user:pass@host:5432/lake or mysql://...")
    d.add_argument("--since", help="only PRs created on or after this date (YYYY-MM-DD)")
    d.add_argument(
        "--repo",
        action="append",
        help="only this repository, and the defects/incidents of its boards (repeatable)",
    )
    d.add_argument(
        "--project",
        help="only this DevLake project: its repositories, boards and CI/CD scopes",
    )
    d.add_argument(
        "--agents", help="extra agent/automation identities YAML (added to the bundled list)"
    )
    _common(d)
    d.set_defaults(func=_cmd_import)


def _cmd_import(args: argparse.Namespace) -> int:
    from certkit.connectors.analyst_files import check_readable
    from certkit.connectors.devlake import read_devlake
    from certkit.connectors.git import read_git
    from certkit.connectors.github import read_github
    from certkit.connectors.incidents import NOT_A_DEFECT, read_exports
    from certkit.connectors.timezones import check_zone
    from certkit.data.outputs import args_inputs, refuse_inputs

    refuse_inputs(args.out, args_inputs(args))  # before any reading: inputs are never written
    absent = [f"{what} {path}" for what, path in args_inputs(args) if not Path(path).exists()]
    if absent:  # before minutes of reading git: a typo in the roster's path shows at once
        verb = " does not exist" if len(absent) == 1 else ": do not exist"
        raise CertkitError("; ".join(absent) + verb)
    check_zone(args.timezone, "--timezone")  # a typo shows before minutes of reading git
    if args.timezone and not (args.jira or args.pagerduty):
        raise CertkitError(
            "--timezone applies to the dates of --jira and --pagerduty exports, and none is "
            "given (git, GitHub and DevLake dates carry their offset)"
        )
    # before minutes of reading git: a malformed roster or certifications file shows at once
    ids = read_identities(args.identities)
    for note in check_readable(args.engineers, args.certifications, ids):
        print(f"note: {note}", file=sys.stderr)
    rules = load_rules(args.ai_rules)
    agents = load_agents(getattr(args, "agents", None))
    parts: list[Import] = []
    if args.source == "git":
        parts.append(
            read_git(
                args.repos,
                rev=args.rev,
                since=args.since,
                identities=ids,
                mailmap=args.mailmap,
                rules=rules,
                repo_names=args.repo_name,
                direct_commits=args.direct_commits,
                progress=False if args.no_progress else None,
                agents=agents,
                rework_days=None if args.no_rework else args.rework_days,
            )
        )
        if args.commits_only:
            folder = write_commits_only(parts[0], args.out)
            print(parts[0].summary())
            print(f"Wrote {folder}: commits.parquet, ai_evidence.csv, import.json (no PRs)")
            print(f"note: {LOWER_BOUND_NOTE}")
            return 0
    elif args.source == "github":
        parts.append(
            read_github(args.files, repo=args.repo, identities=ids, rules=rules, agents=agents)
        )
    else:
        parts.append(
            read_devlake(
                args.uri,
                since=args.since,
                repos=args.repo,
                project=args.project,
                identities=ids,
                rules=rules,
                agents=agents,
            )
        )
    if args.github:
        parts.append(read_github(args.github, identities=ids, rules=rules, agents=agents))
    if args.pagerduty or args.jira:
        parts.append(
            _read_exports(args, read_exports, () if args.keep_resolutions else NOT_A_DEFECT)
        )
    imp = combine(*parts)
    imp.notes[:] = [cli_words(n) for n in imp.notes]
    try:
        ds, folder = write_import(
            imp,
            args.out,
            engineers=args.engineers,
            certifications=args.certifications,
            format=args.format,
            identities=ids,
            roster_only=args.roster_only,
        )
    except CertkitError as exc:
        for n in imp.notes:  # what reading found still helps when the folder is refused
            print(f"note: {cli_words(n)}", file=sys.stderr)
        written = getattr(exc, "written", [])
        stopped = (
            f"nothing was written to {args.out} but the draft identity file "
            f"{', '.join(str(p) for p in written)}"
            if written
            else f"nothing was written to {args.out}"
        )
        if isinstance(exc, DataValidationError):
            print(exc.report.format(), file=sys.stderr)
            print(f"certkit: {stopped}", file=sys.stderr)
            return 1
        raise CertkitError(f"{cli_words(str(exc))}; {stopped}") from None
    print(imp.summary())
    print(f"Wrote {folder}: {ds.pull_requests.height:,} PRs, {ds.engineers.height:,} engineers")
    for p in ds.validation.warnings:  # those the notes above said are not repeated
        if p.message not in imp.notes:
            print(p.format(), file=sys.stderr)  # "WARNING  file, column ..."
    print(f"note: {LOWER_BOUND_NOTE}")
    if args.certifications is None:
        print(
            f"next: add {folder}/certifications.csv (engineer_id, certification, earned_date), "
            f"then run `certkit validate {folder}`"
        )
    else:
        print(f"next: certkit validate {folder}")
    return 0


#: Python spellings in notes and messages -> what a command-line user types (trial I, I8).
CLI_WORDS = (
    (" (Python: read_git(..., direct_commits='as_prs'))", ""),
    (" (Python: write_commits_only(imp, out))", ""),
    (" (Python: read_git(repo_names=[...]))", ""),
    ("direct_commits='as_prs'", "`--direct-commits as_prs`"),
)


def cli_words(text: str) -> str:
    """``text`` (a note or message written for the Python API) as a command-line run says
    it: ``direct_commits='as_prs'`` is ``--direct-commits as_prs``; parenthesised Python
    spellings beside an option are dropped."""
    for python, cli in CLI_WORDS:
        text = text.replace(python, cli)
    return text


def _read_exports(args: argparse.Namespace, read_exports, not_defect: tuple) -> Import:
    """The PagerDuty/Jira exports; their read-time warnings are in the import's notes (and
    printed with the summary), so they are not printed twice."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imp = read_exports(
            args.pagerduty,
            args.jira,
            link=args.link,
            not_defect=not_defect,
            timezone=args.timezone,
        )
    for w in caught:
        if not (issubclass(w.category, CertkitWarning) and str(w.message) in imp.notes):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return imp
