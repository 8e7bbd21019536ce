"""NWB writer: builds the file structure with pynwb and streams bulk samples chunk by chunk."""
