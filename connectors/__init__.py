"""One module per outside system: typed, retrying, rate-aware clients with no business rules."""
