"""The judge engines: one file each, registered in `inspector.judges.registry`."""
