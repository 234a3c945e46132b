"""Settings split by environment: `dev` (laptop default), `test`, `integration`, `production`."""
