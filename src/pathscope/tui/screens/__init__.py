"""One module per screen; each is a Textual MODE of :class:`PathscopeApp`."""
