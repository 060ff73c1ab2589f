"""Errors that carry a message meant for the person at the station, not a traceback."""


class InspectorError(Exception):
    """Base of every error whose message is shown to the user as it is."""

    exit_code = 1


class InputError(InspectorError):
    """Bad input from the user: a file, a URI, a field. The message names it and what to do."""

    exit_code = 2


class EngineUnavailable(InspectorError):
    """A judge engine cannot run here (package missing, model not found, no GPU...)."""

    exit_code = 3
