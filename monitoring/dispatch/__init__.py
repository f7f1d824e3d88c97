"""What starts runs: the scheduler's due fire times, and uploads that arrive for bring-your-own data."""
