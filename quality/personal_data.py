"""Personal data held by quality: survey invitations (who was asked and whether they answered — never what).

Responses are anonymous by construction (no link to a person), so they are neither exported nor erased per person."""
