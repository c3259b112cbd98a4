"""The one error type every stand-in backend raises; the server renders it in the service's protocol."""


class ServiceError(Exception):
    """An AWS error response.

    code: the AWS error code (e.g. "InvalidTokenException", "IncorrectState").
    documented: True when AWS documents this code for this situation, False when it is our best guess.
    """

    def __init__(self, code, message, status=400, documented=True):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.documented = documented
