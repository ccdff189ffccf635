"""The exit codes of every ``switchroom`` command, in one table (``switchroom --help`` prints it)."""

OK, FAILED, USAGE, HUB = 0, 1, 2, 3

TABLE = """exit codes (every command):
  0  done: records printed (perhaps none matched), every rerun succeeded, a dry run, the dashboard quit
  1  failed: a rerun failed again or was refused, a bulk was cancelled, no cache of that hub to read,
     the embedded demo hub did not start, the dashboard crashed
  2  bad usage: an unknown option or command, a bad filter, an unknown connection or hub name, a
     settings file with problems, a hub named without a token
  3  the hub could not be reached, refused the token, or failed (`logs` reads the cache as it is
     only with --offline)"""


class Stop(Exception):
    """Ends a command with an exit code and, unless empty, a message on stderr."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
