"""Service-layer refusals that are not about the input: the API answers them 409, the workspace 409 with a message."""


class StateConflict(Exception):
    """The record is not in a state for this any more (someone acted first, or nothing is left to act on).

    `field` names what the conflict is about (the API's answer carries the message under it, as a 400 would).
    """

    def __init__(self, message: str, *, field: str = "detail") -> None:
        super().__init__(message)
        self.field = field
