// The Journal module: see Docs/ARCHITECTURE-NOTES.md.
