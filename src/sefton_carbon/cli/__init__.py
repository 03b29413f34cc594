"""The command line: each command parses its options and calls one library function."""
