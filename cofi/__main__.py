"""`python -m cofi` runs the command-line interface."""

from cofi.cli import main

main()
