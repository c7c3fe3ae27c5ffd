"""Parse raw e-mail bytes and isolate what the writer of a reply actually wrote."""
