# Models arrive with the certification capability (see docs/architecture.md).
