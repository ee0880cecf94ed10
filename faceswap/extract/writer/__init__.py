"""Writing extract's results: aligned faces, masks and the alignments file."""
