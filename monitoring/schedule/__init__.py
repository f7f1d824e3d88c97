"""Time: fire times of triggers, the windows each run reads, and which runs are due."""
