"""Local emulators of the outside systems (Salesforce, HubSpot, ...) and the demo data set.

Used by ``naturhome-sync demo``, ``naturhome-sync sandbox up``, the tests and the
benchmarks. Production code never imports this package (except the CLI commands that start
it); the emulators import nothing from production code except the schema reader.
"""
