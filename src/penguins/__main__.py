"""`python -m penguins <command>`: see penguins.cli."""

from penguins.cli import main

raise SystemExit(main())
