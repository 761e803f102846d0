"""Chinese-text helpers shared by more than one stage (ingest, retrieve, answer), so none imports another."""
