"""The accounting: units, DESNZ factors, the activity catalogue, boundary options, registers and pricing."""
