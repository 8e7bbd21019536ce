"""Behavior readers: pose estimation, videos, trial tables and behavioral signals, IBL ALF folders."""
