### ”Inbjudningar”: alla inbjudningar, hur det står till med dem och ett sätt att avsluta dem.
### $when är en tidpunkt så som date-time-* skriver den.

invitations-heading = Dina inbjudningar
invitations-empty = Du har inga inbjudningar än.
invitations-refresh = Uppdatera
invitation-state-open = Väntar på hjälparen
invitation-state-in-session = Används: en session pågår
invitation-state-locked = Låst efter för många felaktiga lösenord
invitation-state-expired = Har gått ut: tiden är slut
invitation-state-revoked = Avslutad av dig
invitation-state-declined = Avböjd
invitation-created = Skapad { $when }
invitation-expires = Gäller till { $when }
invitation-expired-at = Gick ut { $when }
invitation-password = Skyddad med lösenord
invitation-wrong-passwords = { $count ->
    [one] Någon har skrivit fel lösenord en gång.
   *[other] Någon har skrivit fel lösenord { $count } gånger.
}
invitation-expire-now = Avsluta nu
invitation-expire-now-help = Efter det kan ingen använda inbjudan, och en session som använder den avslutas.
invitation-expiring = Avslutar…
