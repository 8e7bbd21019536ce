"""`nwbconvert preview`: an offline, self-contained HTML report (figures embedded) of any NWB file."""
