### "Invitations": every invitation, its state, and a way to expire it. $when is a moment as
### date-time-* says it.

invitations-heading = Your invitations
invitations-empty = You have no invitations yet.
invitations-refresh = Refresh
invitation-state-open = Waiting for your helper
invitation-state-in-session = In use: a session is running
invitation-state-locked = Locked after too many wrong passwords
invitation-state-expired = Expired: its time ran out
invitation-state-revoked = Expired by you
invitation-state-declined = Declined
invitation-created = Created { $when }
invitation-expires = Valid until { $when }
invitation-expired-at = Expired { $when }
invitation-password = Protected by a password
invitation-wrong-passwords = { $count ->
    [one] Someone typed a wrong password once.
   *[other] Someone typed a wrong password { $count } times.
}
invitation-expire-now = Expire now
invitation-expire-now-help = Nobody can use the invitation after this, and a session using it ends.
invitation-expiring = Expiring…
