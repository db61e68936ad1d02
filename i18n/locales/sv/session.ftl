### ”Under en session”: vem som ser skärmen, vem som styr, chatten och hur sessionen slutade.

session-none = Ingen session pågår. När hjälparen öppnar din inbjudan får du frågan här innan något av din skärm visas.
session-connecting = Ansluter { $expert } till din skärm…

## Bandet överst i fönstret medan skärmen delas.

banner-watching = { $expert } ser din skärm
banner-controlling = { $expert } styr din dator
banner-paused = Delningen är pausad: { $expert } ser inte din skärm just nu

session-watching = { $expert } tittar på din skärm men kan inte använda din mus eller ditt tangentbord.
session-controlling = { $expert } använder din mus och ditt tangentbord. Stoppa det genom att hålla ned Esc, trycka Ctrl+C i det här fönstret eller klicka på ”Stoppa styrningen”.
session-paused = Din skärm delas inte just nu. { $expert } ser inget nytt förrän du återupptar delningen.
chat-heading = Chatt
chat-hint = Skriv ett meddelande till { $expert }
chat-send = Skicka
chat-you = Du
session-stop-control = Stoppa styrningen
session-pause = Pausa delningen
session-resume = Återuppta delningen
session-end = Avsluta sessionen

## Det som hände under sessionen, som rader bland chattmeddelandena.

event-control-granted = { $expert } styr nu din mus och ditt tangentbord.
event-control-ended-esc = Du höll ned Esc, så fjärrstyrningen stoppades.
event-control-ended-ctrl-c = Du tryckte Ctrl+C, så fjärrstyrningen stoppades.
event-control-ended-button = Du stoppade fjärrstyrningen.
event-control-ended-expert = { $expert } lämnade tillbaka kontrollen.
event-control-declined = Du tackade nej till fjärrstyrning. { $expert } kan fortfarande se skärmen och chatta.
event-control-request-expired = Begäran om fjärrstyrning avböjdes eftersom du inte svarade i tid.
event-paused = Du pausade delningen.
event-resumed = Du återupptog delningen.

## Hur den senaste sessionen slutade.

ended-heading = Sessionen är avslutad
ended-not-shared = Din skärm delas inte längre.
ended-novice = Du avslutade sessionen.
ended-expert = Hjälparen avslutade sessionen.
ended-declined = Du avböjde begäran.
ended-timeout = Begäran avböjdes eftersom ingen svarade i tid.
ended-connection-lost = Anslutningen till hjälparen bröts.
ended-revoked = Inbjudan avslutades, så sessionen avslutades också.
ended-server-shutdown = Servern stängs av, så sessionen avslutades.
ended-not-recorded = Servern kunde inte registrera sessionen, så den startade inte. Försök igen senare.
ended-video-unsupported = Hjälparens webbläsare kan inte visa din skärm, eftersom den varken kan spela upp H.264- eller VP8-video. Be hjälparen använda en aktuell version av Firefox, Chrome, Edge eller Safari.
ended-browser-not-proven = Hjälparens webbläsare anslöt igen men kunde inte bevisa att det är den du tillät, så delningen stoppades. Du får frågan en gång till.
ended-wrong-password = Hjälparen skrev fel lösenord, eller så avlyssnar någon anslutningen. Inget av din skärm delades.
ended-wrong-password-tries = Hjälparen skrev fel lösenord, eller så avlyssnar någon anslutningen. Inget av din skärm delades. { $tries ->
        [one] Ett försök återstår innan inbjudan låses.
       *[other] { $tries } försök återstår innan inbjudan låses.
    }
ended-wrong-password-locked = Hjälparen skrev fel lösenord, eller så avlyssnar någon anslutningen. Inget av din skärm delades, och efter för många felaktiga lösenord är inbjudan nu låst.
