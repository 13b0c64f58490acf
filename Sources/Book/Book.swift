// The Book module: see Docs/ARCHITECTURE-NOTES.md.
