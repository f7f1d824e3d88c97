"""How people and the app reach the domain: the CLI and the HTTP API's domain half."""
