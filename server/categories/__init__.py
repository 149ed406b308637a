"""Categories domain."""

# The calm round's category: proof that a patrol was out, never an incident to act on. The
# night view, the digest, the incident list and the map count and show it apart.
CALM = "lugnt"

# The safety walk's categories (migration 0011): offered only in walk mode on the phone and,
# like the calm round, never a night incident to count or act on.
WALK_CATEGORIES = frozenset(
    {
        "vandring_belysning",
        "vandring_sikt",
        "vandring_klotter",
        "vandring_skrap",
        "vandring_trafik",
        "vandring_tillganglighet",
        "vandring_ode",
        "vandring_ovrigt",
    }
)
# What is presence or a walk's note rather than an incident: kept apart in every count.
NOT_INCIDENTS = frozenset({CALM}) | WALK_CATEGORIES
