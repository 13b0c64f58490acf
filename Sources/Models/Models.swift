// The Models module: see Docs/ARCHITECTURE-NOTES.md.
