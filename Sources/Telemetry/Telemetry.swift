// The Telemetry module: see Docs/ARCHITECTURE-NOTES.md.
