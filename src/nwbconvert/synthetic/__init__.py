"""Writers of small synthetic recordings in real vendor layouts (sample data, tests, benchmarks).

The files follow the vendors' own layouts byte for byte so that neo and spikeinterface read them
exactly as they read files from the acquisition systems.
"""
