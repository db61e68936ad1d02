### Frågorna som bara användaren kan svara på: får hjälparen se skärmen, får hjälparen styra.

request-see-title = { $expert } vill se din skärm
request-see-body = Om du tillåter det ser { $expert } allt på din skärm tills sessionen avslutas. { $expert } kan inte använda din mus eller ditt tangentbord om du inte tillåter det också.
request-offer-title = { $operator } från { $organisation } erbjuder sig att hjälpa dig
request-offer-body = { $operator } arbetar på supportavdelningen hos { $organisation }. Om du tillåter det ser { $operator } allt på din skärm tills sessionen avslutas, men kan inte använda din mus eller ditt tangentbord om du inte tillåter det också.
request-control-title = { $expert } vill styra din dator
request-control-body = Om du tillåter det kan { $expert } använda din mus och ditt tangentbord, precis som om { $expert } satt vid din dator.
# ”Stoppa styrningen” är knappen session-stop-control
request-control-how-to-stop =
    Du kan ta tillbaka kontrollen när som helst:
    • håll ned Esc-tangenten en sekund,
    • tryck Ctrl+C i det här fönstret eller
    • klicka på ”Stoppa styrningen”.
# $left är en tidslängd
request-time-left = Du har { $left } på dig att svara.
request-allow = Tillåt
request-decline = Avböj
request-expired = Du svarade inte i tid, så begäran avböjdes.
