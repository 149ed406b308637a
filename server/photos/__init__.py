"""Photos: upload and download views, processing (imaging.py) and storage (storage.py)."""
