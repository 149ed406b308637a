"""Safety walks (trygghetsvandringar): planned walks, their observations, the protocol."""
