"""Extra links of the provider's operators and sensors (the "Flyte Console" button)."""
