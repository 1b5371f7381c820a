"""Small process-level helpers: library compatibility shims and silencing C output."""
