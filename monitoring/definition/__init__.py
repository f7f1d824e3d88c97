"""Monitor definitions: the YAML schema as pydantic models, its loader, and Azure ML's forms normalised."""
