"""`nwbconvert batch`: convert a whole study, resumably, on a process pool or a Dask cluster."""
