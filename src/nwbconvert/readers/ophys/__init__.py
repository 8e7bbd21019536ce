"""Imaging readers (roiextractors): movies and segmentations of optical physiology."""
