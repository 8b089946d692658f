# Models arrive with the programmes capability (see docs/architecture.md).
