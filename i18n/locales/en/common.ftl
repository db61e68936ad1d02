### Words and formats every screen uses: the window, its tabs, durations and dates.

window-title = Remote Assistance
tab-ask = Ask for help
tab-invitations = Invitations
tab-session = Session
language-label = Language
close = Close
error-heading = Something went wrong
# $details: what the agent reported, in its own words
error-details = { $details }

## Durations. At most two units are shown, the larger first.

duration-seconds = { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}
duration-minutes = { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}
duration-hours = { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}
duration-hours-minutes = { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
} and { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}
duration-days = { $days ->
    [one] { $days } day
   *[other] { $days } days
}
duration-days-hours = { $days ->
    [one] { $days } day
   *[other] { $days } days
} and { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}
duration-weeks = { $weeks ->
    [one] { $weeks } week
   *[other] { $weeks } weeks
}

## Dates and times, on the 24-hour clock. $time is a time-of-day, $month a month-name.

# $hour and $minute come with two digits each
time-of-day = { $hour }:{ $minute }
month-name = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
}
date-time-full = { $day } { $month } { $year } at { $time }
date-time-this-year = { $day } { $month } at { $time }
date-time-today = today at { $time }
date-time-tomorrow = tomorrow at { $time }
date-time-yesterday = yesterday at { $time }
