### Expertkonsolen: inbjudningssidan, sessionen och det som dess skript säger.
### $novice är namnet på den som bjöd in; $machine namnet på deras dator.

console-title = Fjärrhjälp
console-title-for = Fjärrhjälp åt { $novice }

## Sidan som servern visar den, för varje tillstånd som inbjudan kan ha.

console-code-headline = Öppna en inbjudan
console-code-explanation = Skriv koden du fick (fem grupper om fyra tecken) och tryck sedan på Öppna.
console-code-label = Kod
console-code-open = Öppna
console-unknown-headline = Den här inbjudan finns inte
console-unknown-explanation = Kontrollera att du kopierade hela länken, eller be om en ny inbjudan.
console-asks-headline = { $novice } ber om din hjälp
console-open-explanation = Skriv ditt namn så att de vet vem som ansluter. De får frågan om de vill tillåta det.
console-in-use-explanation = Någon är redan ansluten via den här inbjudan.
console-expired-explanation = Den här inbjudan har gått ut. Be om en ny.
console-revoked-explanation = Den här inbjudan drogs tillbaka av den som skickade den.
console-locked-explanation = Den här inbjudan är låst efter för många felaktiga lösenord (eller försök att avlyssna anslutningen). Be om en ny.
console-declined-explanation = Den här inbjudan avböjdes.
console-offering-headline = Erbjuder hjälp till { $machine }
console-helping-headline = Hjälper { $machine }
console-offered-explanation = Personen där får frågan om du får se deras skärm.
console-your-name = Ditt namn
console-secret-code = Hemlig kod
console-password = Lösenord
console-connect = Anslut
console-try-again = Försök igen
console-fit = Anpassa till fönstret
console-actual = Verklig storlek
console-take-control = Ta kontroll
console-release-control = Lämna tillbaka kontrollen
console-end = Avsluta sessionen
console-screen-label = Det delade skrivbordet
console-chat-placeholder = Skriv ett meddelande
console-chat-send = Skicka

## Att ansluta, vänta på svar och själva anslutningen.

console-name-needed = Skriv ditt namn.
console-checking-invitation = Kontrollerar inbjudan…
# $why: webbläsarens egna ord om nätverksfelet
console-server-unreachable = Det går inte att nå servern: { $why }. Kontrollera din anslutning och försök igen.
# $status: HTTP-statusens nummer
console-invitation-refused = Servern nekade inbjudan ({ $status }).
console-refused-expired = Den här inbjudan har gått ut. Be om en ny.
console-refused-revoked = Den här inbjudan drogs tillbaka av den som skickade den.
console-refused-locked = Den här inbjudan är låst efter för många felaktiga lösenord. Be om en ny.
console-refused-in-use = Någon är redan ansluten via den här inbjudan.
console-refused-unknown = Ingen inbjudan har den här koden. Kontrollera länken eller koden du fick.
console-refused-rate-limited = För många försök från din adress. Vänta en minut och försök igen.
console-refused-bad-name = Det namnet går inte att använda: skriv högst 64 tecken, utan styrtecken.
console-cannot-connect = Det går inte att ansluta
console-damaged-page = Den här sidan är skadad. Gå tillbaka till översikten och erbjud hjälp igen.
console-waiting-for = Väntar på att { $novice } ska tillåta anslutningen…
console-allowed = { $novice } tillät anslutningen. Ansluter…
console-connected-to = Ansluten till { $novice }.
console-reconnecting = Anslutningen till servern bröts; ansluter igen…
console-server-lost = Anslutningen till servern bröts. Öppna inbjudningslänken igen för att ansluta på nytt.
console-error-bad-ticket = Servern godtar inte längre den här sidans inträde. Öppna inbjudningslänken igen för att ansluta på nytt.
console-error-ticket-expired = Den här sidans inträde har gått ut. Öppna inbjudningslänken igen för att ansluta på nytt.
console-error-hello-expected = Servern förstod inte den här sidan. Öppna inbjudningslänken igen för att ansluta på nytt.
console-error-ticket-used = En annan webbläsare är redan ansluten med den här sidans inträde. Öppna inbjudningslänken igen för att ansluta på nytt.
console-message-not-sent = Meddelandet skickades inte: anslutningen till den andra datorn är inte öppen.
console-control-not-sent = Skickades inte: anslutningen till den andra datorn är inte öppen.
console-asking-control = Ber om kontroll…

## Hur sessionen slutade.

console-ended-connection-closed = Anslutningen avslutades (anslutningen stängdes).
console-ended-connection-failed = Anslutningen avslutades (anslutningen misslyckades).
console-ended-connection-disconnected = Anslutningen avslutades (anslutningen bröts).
console-ended-channel-closed = Anslutningen avslutades (datakanalen stängdes).
console-ended-track-ended = Anslutningen avslutades (videon tog slut).
console-novice-ended = Personen du hjälper avslutade sessionen.
console-you-ended = Du avslutade sessionen.
console-ended-novice-hung-up = Personen du hjälper avslutade sessionen.
console-ended-expert-hung-up = Experten avslutade sessionen.
console-ended-declined = Personen du ville hjälpa avböjde anslutningen.
console-ended-consent-timeout = Personen du ville hjälpa svarade inte i tid.
console-ended-peer-gone = Anslutningen till den andra sidan bröts.
console-ended-revoked = Inbjudan avslutades av den som äger den.
console-ended-server-shutdown = Servern stängs av.
console-ended-not-recorded = Servern kunde inte registrera sessionen; försök igen senare.
console-ended-video-unsupported = Den här webbläsaren kan inte visa bilden: den avkodar varken H.264- eller VP8-video. Öppna inbjudan i en aktuell Firefox, Chrome, Edge eller Safari.
console-ended-password-mismatch = Lösenordet var fel, eller så avlyssnar någon anslutningen. Ingenting delades.
console-ended-invitation-closed = Datorn du ville hjälpa tar inte längre emot den här inbjudan (den har gått ut, dragits tillbaka eller låsts). Be om en ny.

## Inbjudans hemliga del, och lösenordskontrollen med den andra datorn.

console-secret-missing = Den här länken saknar sin hemliga del (efter #). Skriv den hemliga koden du fick, eller öppna hela länken.
console-secret-needed = Skriv den hemliga koden (de sista åtta tecknen i koden du fick).
console-code-invalid = Det är inte en hel kod: den har fem grupper om fyra bokstäver och siffror.
console-checking = { $novice } tillät anslutningen. Kontrollerar lösenordet med deras dator…
console-wrong-password = Lösenordet var fel, eller så avlyssnar någon anslutningen. Ingenting delades.
# $tries: hur många fler felaktiga lösenord inbjudan tål innan den låses
console-wrong-password-tries = { $tries ->
    [0] Lösenordet var fel, eller så avlyssnar någon anslutningen. Ingenting delades. Inbjudan är nu låst.
    [one] Lösenordet var fel, eller så avlyssnar någon anslutningen. Ingenting delades. { $tries } försök till innan inbjudan låses.
   *[other] Lösenordet var fel, eller så avlyssnar någon anslutningen. Ingenting delades. { $tries } försök till innan inbjudan låses.
}
console-intercepted = Datorn som svarade kunde inte bevisa att den är den som bjöd in dig: någon kan avlyssna anslutningen. Ingenting visades.
console-check-broken = Lösenordskontrollen kunde inte slutföras: svaret från den andra datorn gick inte att läsa.

## Innan någon tillfrågas: kan den här webbläsaren visa bilden?

console-unsupported-headline = Den här webbläsaren kan inte visa en skärm direkt
console-not-asked = { $novice } har inte tillfrågats om något.
console-offer-withdrawn = Ditt erbjudande till { $novice } drogs tillbaka.
console-no-webrtc = Den här webbläsaren kan inte visa en skärm direkt: den saknar WebRTC. Öppna inbjudan i en aktuell Firefox, Chrome, Edge eller Safari.
console-no-codec = Den här webbläsaren kan inte visa en skärm direkt: den kan inte avkoda H.264- eller VP8-video. Öppna inbjudan i en aktuell Firefox, Chrome, Edge eller Safari.

## Den direktsända bilden, och raden om länkens kvalitet; radens delar skiljs åt med " · ".

console-frozen = Bilden står still: dålig anslutning
console-sharing-paused = { $novice } pausade delningen: bilden kommer tillbaka när delningen återupptas.
console-input-refused = Det gick till { $novice }s eget fönster för fjärrhjälp, som bara hen kan använda; det skickades inte vidare.
console-quality-size = { $width }×{ $height }
console-quality-fps = { $fps } bilder/s
# $numbers: bithastigheten, svarstiden och förlusten, åtskilda med kommatecken
console-quality-good = Länken bra: { $numbers }
console-quality-fair = Länken godtagbar: { $numbers }
console-quality-poor = Länken dålig: { $numbers }
console-quality-bitrate = { $mbits } Mbit/s
console-quality-rtt = Svarstid { $ms } ms
console-quality-loss = { $percent } % förlorat
console-quality-direct = direkt
console-quality-relayed = via relä
console-quality-reconnecting = ansluter igen
