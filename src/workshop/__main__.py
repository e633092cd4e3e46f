"""`python -m workshop <command>`: classroom tools (doctor, diagram)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check this laptop before class")
    commands.add_parser("diagram", help="render the bird's-eye picture into notebooks/img")
    commands.add_parser("stage-map", help="print the stage map as a markdown table")
    args = parser.parse_args()
    if args.command == "doctor":
        from workshop import doctor

        return doctor.run()
    if args.command == "diagram":
        from penguins.paths import project_root
        from workshop import diagram

        for path in diagram.render_all((project_root() or Path.cwd()) / "notebooks" / "img"):
            print(f"wrote {path}")
        return 0
    from workshop.stages import markdown_table

    print(markdown_table())
    return 0


raise SystemExit(main())
