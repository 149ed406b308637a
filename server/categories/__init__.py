"""Categories domain."""

# The calm round's category: proof that a patrol was out, never an incident to act on. The
# night view, the digest, the incident list and the map count and show it apart.
CALM = "lugnt"
