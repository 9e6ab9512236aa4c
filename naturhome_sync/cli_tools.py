"""The CLI's checking and trying-out commands: ``doctor``, ``mappings check``, ``demo`` and
``sandbox up`` (the only production code that may import ``sandbox``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from naturhome_sync.cli_support import CliState, err, fail, handled_errors, out, runtime_for
from naturhome_sync.logs import configure_logging
from naturhome_sync.settings import load_settings


def register(app: typer.Typer) -> None:
    app.command()(doctor)
    app.command()(demo)
    mappings_app = typer.Typer(help="Check the declarative mappings.", no_args_is_help=True)
    mappings_app.command("check")(mappings_check)
    app.add_typer(mappings_app, name="mappings")
    sandbox_app = typer.Typer(
        help="Local emulators and a service wired to them.", no_args_is_help=True
    )
    sandbox_app.command("up")(sandbox_up)
    app.add_typer(sandbox_app, name="sandbox")


def doctor(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check the store, Salesforce (login, API usage, the org's schema against salesforce/)
    and HubSpot. Exit 1 when something the flows need is missing."""
    from naturhome_sync.cli_output import doctor_report
    from naturhome_sync.doctor import diagnose

    with runtime_for(ctx, ensure_schema=False) as runtime:
        report = diagnose(runtime)
    if as_json:
        out.print_json(data={"ok": report.ok, "findings": [f.as_dict() for f in report.findings]})
    else:
        doctor_report(out, report)
    if not report.ok:
        raise typer.Exit(1)


def mappings_check(ctx: typer.Context) -> None:
    """Validate every mapping file (and the scoring and intake rules) against the schema in
    salesforce/: unknown fields, wrong types, picklist values not allowed. Exit 1 on any
    problem, each named by file and key."""
    from jobs.lead_intake import default_max_file_bytes
    from jobs.lead_intake_config import check_intake_config
    from jobs.scoring import check_scoring
    from naturhome_sync.mapping import check_mappings, load_mappings
    from naturhome_sync.sfschema import load_schema

    with handled_errors():
        settings = ctx.obj.settings()
        schema = load_schema(settings.salesforce_dir)
        problems = check_mappings(settings.mappings_dir, schema)
        problems += check_scoring(settings.config_dir / "scoring.yaml", schema)
        if not problems:
            problems += check_intake_config(
                settings.config_dir / "lead_intake.yaml",
                schema,
                load_mappings(settings.mappings_dir, schema),
                default_max_file_bytes(settings),
            )
    for problem in problems:
        err.print(f"[red]✗[/] {problem}", highlight=False)
    if problems:
        fail(f"{len(problems)} problem(s) in the mappings and scoring rules")
    files = sorted(p.name for p in settings.mappings_dir.glob("*.yaml"))
    out.print(
        f"✓ {', '.join(files)}, scoring.yaml and lead_intake.yaml match the schema",
        highlight=False,
    )


def demo(
    ctx: typer.Context,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the demo's state in this directory.")
    ] = None,
) -> None:
    """Play the whole story on a temporary local state and print what happened."""
    from naturhome_sync.demo import play

    state: CliState = ctx.obj
    configure_logging(state.log_level or "WARNING", "console")
    with handled_errors():
        code = play(out, state_dir=keep)
    raise typer.Exit(code)


def sandbox_up(
    ctx: typer.Context,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where emulators and service keep their data "
            "(default: <NATURHOME_STATE_DIR>/sandbox). Reuse it to keep the data.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="First line of output: one JSON object with the "
            "URLs and credentials (for scripts).",
        ),
    ] = False,
    empty: Annotated[bool, typer.Option("--empty", help="Do not load the demo data set.")] = (
        False
    ),
    port: Annotated[int, typer.Option("--port", help="Service HTTP port (0: a free one).")] = 0,
) -> None:
    """Start the emulators (Salesforce, HubSpot) and the service wired to them; run until
    interrupted. STATE_DIR/sandbox.env holds the service's settings, so any command can be
    run against it: naturhome-sync --env-file STATE_DIR/sandbox.env run FLOW."""
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.service import Service
    from sandbox.environment import SandboxEnvironment

    state: CliState = ctx.obj
    with handled_errors():
        base = state_dir or load_settings(state.env_file).state_dir / "sandbox"
        environment = SandboxEnvironment(base.resolve(), service_port=port)
        try:
            environment.start(seed=not empty)
            settings = load_settings(environment.env_file)
            configure_logging(state.log_level or settings.log.level, settings.log.format)
            runtime = Runtime(settings)
            runtime.ensure_schema()
            service = Service(runtime).start()
            if as_json:
                print(json.dumps(environment.describe()), flush=True)
            else:
                _print_sandbox(environment.describe())
            try:
                service.run_until_signal()
            finally:
                runtime.close()
        finally:
            environment.stop()


def _print_sandbox(info: dict[str, Any]) -> None:
    out.print(f"[bold]service[/]     {info['service_url']}", highlight=False)
    out.print(
        f"[bold]salesforce[/]  {info['salesforce']['url']}  user {info['salesforce']['username']}",
        highlight=False,
    )
    out.print(
        f"[bold]hubspot[/]     {info['hubspot']['url']}  forms "
        f"{', '.join(info['hubspot']['form_guids'])}",
        highlight=False,
    )
    out.print(f"[bold]state[/]       {info['state_dir']}", highlight=False)
    out.print(
        f"run commands against it with: naturhome-sync --env-file {info['env_file']} …",
        highlight=False,
    )
    out.print("Ctrl-C stops everything; the data stays in the state directory.", highlight=False)
