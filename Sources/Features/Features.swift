// The Features module: see Docs/ARCHITECTURE-NOTES.md.
