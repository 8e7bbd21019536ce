"""`nwbconvert config schema|check`: session config files (the sources, metadata and options of one session)."""

from __future__ import annotations

from pathlib import Path

import typer

from nwbconvert.cli.options import DEBUG

app = typer.Typer(
    name="config",
    help="Session config files for `nwbconvert convert --config FILE.yaml` (see configs/session_config.yaml).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of session config files (for editors: yaml-language-server, VS Code, ...)."""
    import json

    from nwbconvert.cli.guard import INTERRUPTED_READING, guarded

    with guarded(False, INTERRUPTED_READING):  # a closed stdout (`| head`) ends quietly, as for the other commands
        from nwbconvert.config import json_schema

        print(json.dumps(json_schema(), indent=2))


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="Session config YAML file."),
    debug: bool = DEBUG,
) -> None:
    """Check a session config without reading recordings: keys, types, paths, metadata files."""
    from nwbconvert.cli.guard import INTERRUPTED_READING, guarded
    from nwbconvert.cli.render import stdout

    with guarded(debug, INTERRUPTED_READING):
        from nwbconvert.config import check_inputs, load_config, metadata_layers

        config = load_config(file)
        check_inputs(file, config)
        layers = metadata_layers(file, config)
        stdout.print(f"{file}: a valid session config.")
        for i, source in enumerate(config.sources):
            extra = f" (name {source.name})" if source.name else ""
            stdout.print(f"  sources[{i}] {source.path}{extra}")
        stdout.print(f"  output   {config.output or '-o on the command line'}")
        stdout.print(f"  metadata {len(layers)} layer(s): " + ", ".join(layer.origin for layer in layers))
