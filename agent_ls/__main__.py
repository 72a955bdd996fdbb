"""`python -m agent_ls`: the same entry point as the `agent-ls` command."""

from agent_ls.cli import main

raise SystemExit(main())
