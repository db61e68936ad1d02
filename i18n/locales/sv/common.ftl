### Ord och format som alla vyer använder: fönstret, flikarna, tidslängder och datum.

window-title = Fjärrhjälp
tab-ask = Be om hjälp
tab-invitations = Inbjudningar
tab-session = Session
language-label = Språk
close = Stäng
error-heading = Något gick fel
# $details: vad agenten rapporterade, med dess egna ord
error-details = { $details }

## Tidslängder. Högst två enheter visas, den största först.

duration-seconds = { $seconds ->
    [one] { $seconds } sekund
   *[other] { $seconds } sekunder
}
duration-minutes = { $minutes ->
    [one] { $minutes } minut
   *[other] { $minutes } minuter
}
duration-hours = { $hours ->
    [one] { $hours } timme
   *[other] { $hours } timmar
}
duration-hours-minutes = { $hours ->
    [one] { $hours } timme
   *[other] { $hours } timmar
} och { $minutes ->
    [one] { $minutes } minut
   *[other] { $minutes } minuter
}
duration-days = { $days ->
    [one] { $days } dag
   *[other] { $days } dagar
}
duration-days-hours = { $days ->
    [one] { $days } dag
   *[other] { $days } dagar
} och { $hours ->
    [one] { $hours } timme
   *[other] { $hours } timmar
}
duration-weeks = { $weeks ->
    [one] { $weeks } vecka
   *[other] { $weeks } veckor
}

## Datum och klockslag, med 24-timmarsklocka. $time är ett time-of-day, $month ett month-name.

# $hour och $minute har två siffror var
time-of-day = { $hour }:{ $minute }
month-name = { $month ->
    [1] januari
    [2] februari
    [3] mars
    [4] april
    [5] maj
    [6] juni
    [7] juli
    [8] augusti
    [9] september
    [10] oktober
    [11] november
   *[12] december
}
date-time-full = { $day } { $month } { $year } kl. { $time }
date-time-this-year = { $day } { $month } kl. { $time }
date-time-today = i dag kl. { $time }
date-time-tomorrow = i morgon kl. { $time }
date-time-yesterday = i går kl. { $time }
