// The Strategy module: see Docs/ARCHITECTURE-NOTES.md.
