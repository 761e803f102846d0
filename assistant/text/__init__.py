"""Chinese-text helpers shared by more than one stage (ingest and retrieve), so neither imports the other."""
