"""Dataset readers: each turns a dataset as shipped into one index DataFrame."""
