"""Quality reviews (D8): one per programme and academic year, with the evidence computed from the other apps, the
team's findings and the improvement plan. Built by issue 12 (in progress)."""
