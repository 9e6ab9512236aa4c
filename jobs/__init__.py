"""One module per flow: a pure core (what to write, given what was read) and a thin ``run()``."""
