"""One module per mirrored site; each renders the real format with the real absolute links."""
