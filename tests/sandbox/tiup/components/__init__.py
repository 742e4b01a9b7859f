"""tiup components the stand-in has: one module per component.

``tests/sandbox/tiup/components/<name>.py`` (a dash in the component name becomes an
underscore) provides:

    def main(argv, ctx) -> int        # argv: the arguments after the component name
    SKIP_STARTING_MESSAGE = False      # True for cluster/playground (tiup prints no
                                       # "Starting component ..." line for them)
    DEFAULT_VERSION = "v7.5.1"         # the version reported for an unversioned call
    BINARY = "tidb-lightning"          # optional: the binary's file name, shown in the
                                       # "Starting component" line (default: the name)

ctx is a ComponentContext (component name, requested version, binary path). Adding a
component is adding such a module; nothing else has to change.
"""
import importlib
import re


class ComponentContext(object):
    def __init__(self, name, version, binary):
        self.name = name
        self.version = version
        self.binary = binary


def load(name):
    """The module of component `name`, or None if the stand-in does not have it."""
    if not re.match(r"^[a-z][a-z0-9-]*$", name or ""):
        return None
    try:
        return importlib.import_module("%s.%s" % (__name__, name.replace("-", "_")))
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(name.replace("-", "_")):
            return None
        raise
