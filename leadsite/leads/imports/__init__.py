"""CSV import: the upload stored in chunks, its rows through the pipeline, the worker's job."""
