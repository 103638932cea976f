"""The camera's parameter tree, as param.cgi reads and writes it."""
