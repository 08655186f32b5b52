"""The bottom layer: pieces every app uses and that know no app (forms, pagination, validators, dates, working
days, encryption, PDF rendering, charts). import-linter keeps it so (pyproject.toml)."""
