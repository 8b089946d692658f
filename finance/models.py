# Models arrive with the finance capability (see docs/architecture.md).
