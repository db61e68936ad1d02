### Supportdesken: inloggningen, översikten och det som dess skript säger, administratörernas
### formulär och sidorna som säger vad som gick fel. $machine är namnet på en användares dator.

# $page: vad sidan handlar om (organisationens namn, eller någon av rubrikerna nedan)
desk-page-title = { $page } · Supportdesk

## Att logga in.

desk-sign-in-title = Logga in
desk-sign-in-heading = Supportdesk
desk-sign-in-intro = Logga in för att se din organisations datorer och sessioner.
desk-login = Användarnamn
desk-password = Lösenord
desk-sign-in = Logga in
# $command: kommandot, visat som kod
desk-sign-in-hint = Inget konto än? Din administratör skapar ett. Den första administratören skapas på servern med { $command }.
desk-sign-in-wrong = Fel användarnamn eller lösenord.
desk-sign-in-too-many = För många inloggningsförsök. Vänta en minut och försök igen.
# $wait: en tidslängd, till exempel "45 sekunder"
desk-sign-in-wait = För många misslyckade inloggningar för det här användarnamnet. Försök igen om { $wait }.

## Översikten.

desk-heading = Supportdesk för { $organisation }
# $name: den inloggade personen, i fetstil
desk-signed-in-as = Inloggad som { $name }
desk-feed-connecting = Ansluter…
desk-feed-live = Direkt
desk-feed-lost = Anslutningen till servern bröts; ansluter igen…
desk-feed-bad-message = Servern förstod inte sidans meddelande.
desk-feed-database = Servern kan inte läsa sin databas just nu; försöker igen.
desk-feed-foreign-title = Nekad
desk-feed-foreign = Översiktens direktflöde är bara till för sidor på den här webbplatsen.
desk-notify = Slå på aviseringar
desk-notify-hint = Få veta på den här datorn när någon ber dig om hjälp, även när fliken ligger i bakgrunden
desk-sign-out = Logga ut
desk-direct-heading = Ber dig om hjälp
# $sent och $until: klockslag
desk-direct-asks = { $machine } ber dig om hjälp (skickad { $sent }, giltig till { $until }).
desk-accept = Acceptera
desk-decline = Avböj
desk-notification-title = { $machine } ber dig om hjälp
desk-notification-body = Öppna supportdesken för att acceptera eller avböja.
desk-machines-heading = Datorer
desk-column-name = Namn
desk-column-status = Status
# $command: kommandot, visat som kod
desk-no-machines = Ingen dator är registrerad än. En administratör skapar en registreringsnyckel; kör { $command } på datorn.
# $time: ett klockslag; $when: datum och tid
desk-online-since = Ansluten sedan { $time }
desk-online-since-busy = Ansluten sedan { $time }, i en session
desk-offline-last-seen = Frånkopplad, senast sedd { $when }
desk-offline-never = Frånkopplad, aldrig ansluten
desk-offer-help = Erbjud hjälp
desk-offer-offline = Datorn är frånkopplad.
desk-offer-busy = Datorn är redan i en session.
desk-sessions-heading = Pågående sessioner
desk-column-machine = Dator
desk-column-novice = Användare
desk-column-expert = Expert
desk-column-since = Sedan
desk-column-mode = Läge
desk-column-quality = Kvalitet
desk-mode-asking = Frågar användaren
desk-mode-view = Tittar
desk-mode-control = Styr
desk-quality-fps = { $fps } bilder/s
desk-quality-bitrate = { $mbits } Mbit/s
desk-quality-rtt = Svarstid { $ms } ms
desk-invitations-heading = Öppna inbjudningar
desk-column-created = Skapad
desk-column-expires = Går ut
desk-column-state = Tillstånd
desk-invitation-open = Öppen
desk-invitation-in-use = Används
# $operator: den som erbjöd hjälpen från desken
desk-invitation-open-offered = Öppen (erbjuden av { $operator })
desk-invitation-in-use-offered = Används (erbjuden av { $operator })

## Granskningsloggen.

desk-audit-heading = Granskningslogg
desk-audit-machine = Dator
desk-audit-all-machines = Alla datorer
desk-audit-person = Person
desk-audit-person-hint = namn eller användarnamn
desk-audit-kind = Typ
desk-audit-all-kinds = Alla typer
desk-audit-from = Från
desk-audit-until = Till
desk-audit-csv = Ladda ned CSV
desk-audit-json = Ladda ned JSON
desk-column-time = Tid
desk-column-kind = Typ
desk-column-who = Vem
desk-column-detail = Detaljer
desk-kind-agent-registered = Agent registrerad
desk-kind-machine-enrolled = Dator registrerad
desk-kind-invitation-created = Inbjudan skapad
desk-kind-invitation-sent-directly = Inbjudan skickad direkt
desk-kind-invitation-revoked = Inbjudan återkallad
desk-kind-invitation-redeemed = Inbjudan öppnad
desk-kind-wrong-password = Fel lösenord
desk-kind-invitation-locked = Inbjudan låst
desk-kind-help-offered = Hjälp erbjuden
desk-kind-direct-invitation-accepted = Direktinbjudan accepterad
desk-kind-direct-invitation-declined = Direktinbjudan avböjd
desk-kind-session-accepted = Session accepterad
desk-kind-session-declined = Session avböjd
desk-kind-control-requested = Kontroll begärd
desk-kind-control-granted = Kontroll beviljad
desk-kind-control-refused = Kontroll nekad
desk-kind-control-stopped = Kontroll stoppad
desk-kind-session-ended = Session avslutad
desk-kind-signed-in = Inloggad
desk-kind-sign-in-failed = Misslyckad inloggning
desk-kind-signed-out = Utloggad
desk-kind-account-created = Konto skapat
desk-kind-enrolment-token-created = Registreringsnyckel skapad
desk-kind-enrolment-token-revoked = Registreringsnyckel återkallad

## Administration.

desk-admin-heading = Administration
desk-new-operator = Ny operatör
desk-operator-name = Namn som visas för andra
desk-operator-password = Lösenord (minst 10 tecken)
desk-create-operator = Skapa operatör
desk-enrol-heading = Registrera datorer
desk-token-hours = Giltig i (timmar)
desk-token-uses = Antal datorer (tomt: hur många som helst)
desk-create-token = Skapa registreringsnyckel
desk-token-title = Registreringsnyckel
desk-token-heading = Registreringsnyckeln är skapad
desk-token-copy-now = Kopiera den nu: den visas bara den här gången.
# $duration: hur länge nyckeln gäller, till exempel "1 dag"
desk-token-enrols-one = Den registrerar en dator, inom { $duration }.
desk-token-enrols-some = { $machines ->
    [one] Den registrerar en dator, inom { $duration }.
   *[other] Den registrerar upp till { $machines } datorer, inom { $duration }.
}
desk-token-enrols-any = Den registrerar hur många datorer som helst under { $duration }.
desk-token-run = Kör på varje dator:
desk-back = Tillbaka till översikten

## Sidor som säger vad som hände, eller vad som gick fel: en rubrik, sedan ett meddelande.

desk-refused-title = Det gick inte
desk-failed-title = Något gick fel
desk-failed = Något gick fel på servern. Försök igen senare.
desk-forged-title = Formuläret kan inte tas emot
desk-forged = Formuläret har gått ut eller kom inte från den här webbplatsen. Läs in sidan igen och försök på nytt.
desk-admins-only-title = Bara för administratörer
desk-admins-only = Bara en administratör i din organisation kan göra det här.
desk-operator-created-title = Operatören är skapad
desk-operator-created = { $name } kan nu logga in som "{ $login }" med lösenordet du valde.
desk-bad-hours = Giltighetstiden i timmar måste vara ett heltal.
desk-bad-uses = Antalet datorer måste vara ett heltal.
desk-no-machine-title = Datorn finns inte
desk-no-machine = Din organisation har ingen dator med den här identiteten. Den kan ha tagits bort.
desk-busy-title = Redan i en session
desk-busy = { $machine } är redan i en session eller får en fråga. Försök igen när den är slut.
desk-offline-title = Datorn är frånkopplad
desk-offline = { $machine } är inte ansluten just nu, så ingen där kan tillfrågas.
desk-no-invitation-title = Inbjudan finns inte
desk-no-invitation = Ingen inbjudan till dig har den här identiteten. Den kan ha varit menad för någon annan.
desk-invitation-expired-title = Inbjudan har gått ut
desk-invitation-expired = Den här inbjudan gäller inte längre. Den som skickade den kan skicka en ny.
desk-invitation-withdrawn-title = Inbjudan drogs tillbaka
desk-invitation-withdrawn = Den som skickade inbjudan har dragit tillbaka den.
desk-already-accepted-title = Redan accepterad
desk-already-accepted = Den här inbjudan har redan accepterats; den öppnar bara en session. Be om en ny inbjudan för att ansluta igen.
desk-already-declined-title = Redan avböjd
desk-already-declined = Den här inbjudan har redan avböjts. Be om en ny om du kan hjälpa till ändå.
