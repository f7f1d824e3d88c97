"""What a run leaves: run.json and signal documents, history.parquet, and the HTML report."""
