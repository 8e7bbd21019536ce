"""Session metadata: layered sources (headers < files < --set), DANDI requirements checked up front."""
