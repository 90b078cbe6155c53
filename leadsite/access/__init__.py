"""Who may get in, and where: server-side staff sessions, invitations, password resets."""
