# Models arrive with the assessment capability (see docs/architecture.md).
