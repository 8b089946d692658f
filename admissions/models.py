# Models arrive with the admissions capability (see docs/architecture.md).
