### ”Be om hjälp”: formuläret för inbjudan, sedan sätten att skicka den.

ask-heading = Be någon om hjälp
ask-intro = Skapa en inbjudan och skicka den till den som ska hjälpa dig. Din skärm visas först när du har tillåtit det, och du kan avsluta sessionen när du vill.
ask-name-label = Ditt namn, så som hjälparen ser det
ask-name-hint = till exempel: Anna hemma
ask-password-label = Lösenord (frivilligt)
ask-password-help = Om du väljer ett lösenord måste hjälparen skriva in det för att ansluta. Berätta lösenordet på något annat sätt än i inbjudan, till exempel i telefon.
ask-expiry-label = Inbjudan gäller i
ask-expiry-custom = En annan tid
ask-custom-amount-label = Hur länge
ask-custom-unit-minutes = minuter
ask-custom-unit-hours = timmar
ask-custom-unit-days = dagar
ask-create = Skapa inbjudan
ask-creating = Skapar inbjudan…
ask-error-not-a-number = Skriv tiden som ett heltal, till exempel 3.
ask-error-too-short = En inbjudan måste gälla i minst en minut.
ask-error-too-long = En inbjudan kan gälla i högst 30 dagar. Välj en kortare tid.
ask-error-password-too-long = Lösenordet är för långt. Välj ett kortare.

## Inbjudan är skapad: hur den skickas. $when är en tidpunkt så som date-time-* skriver den.

ask-ready-heading = Din inbjudan är klar
ask-ready-valid-until = Den kan användas till { $when }.
ask-ready-password = Hjälparen behöver också lösenordet du valde.
ask-send-heading = Skicka den till hjälparen på något av de här sätten:
ask-copy-link = Kopiera länken
ask-short-code-label = Eller läs upp den här koden för hjälparen i telefon:
ask-email = Skicka med e-post
ask-save-file = Spara som fil
ask-desk-heading = Eller skicka en inbjudan till någon på din supportavdelning:
ask-desk-online = inloggad nu
ask-desk-offline = inte inloggad
ask-desk-send = Skicka till { $name }
ask-new = Skapa en ny inbjudan

## Hur det gick med ett sätt att skicka.

sent-clipboard = Länken finns nu i urklipp. Klistra in den i ett meddelande till hjälparen.
sent-file = Inbjudan är sparad som { $path }. Skicka filen till hjälparen, som öppnar den med ett dubbelklick.
sent-mail = Ditt e-postprogram har öppnats med inbjudan. Lägg till hjälparens adress och skicka.
sent-desk-online = Inbjudan skickades till { $name }, som är inloggad nu.
sent-desk-offline = Inbjudan skickades till { $name }, som får se den vid nästa inloggning.
