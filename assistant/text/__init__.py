"""Chinese-text helpers shared by several stages (figures today)."""
