### The support desk: signing in, the dashboard and what its script says, the administrators'
### forms, and the pages that say what went wrong. $machine is the name of a novice's computer.

# $page: what the page is about (the organisation's name, or one of the titles below)
desk-page-title = { $page } · Support desk

## Signing in.

desk-sign-in-title = Sign in
desk-sign-in-heading = Support desk
desk-sign-in-intro = Sign in to see your organisation's machines and sessions.
desk-login = Login
desk-password = Password
desk-sign-in = Sign in
# $command: the command, shown as code
desk-sign-in-hint = No account yet? Your administrator creates one. The first administrator is created on the server with { $command }.
desk-sign-in-wrong = Wrong login or password.
desk-sign-in-too-many = Too many sign-in attempts. Wait a minute and try again.
# $wait: a duration, such as "45 seconds"
desk-sign-in-wait = Too many failed sign-ins for this login. Try again in { $wait }.

## The dashboard.

desk-heading = { $organisation } support desk
# $name: the signed-in person, shown in bold
desk-signed-in-as = Signed in as { $name }
desk-feed-connecting = Connecting…
desk-feed-live = Live
desk-feed-lost = Lost the connection to the server; reconnecting…
desk-feed-bad-message = The server did not understand the page's message.
desk-feed-database = The server cannot read its database right now; retrying.
desk-feed-foreign-title = Refused
desk-feed-foreign = The dashboard's live feed is only for pages of this site.
desk-notify = Turn on notifications
desk-notify-hint = Be told on this computer when a novice asks you for help, even with this tab in the background
desk-sign-out = Sign out
desk-direct-heading = Asking you for help
# $sent and $until: times of day
desk-direct-asks = { $machine } asks you for help (sent { $sent }, valid until { $until }).
desk-accept = Accept
desk-decline = Decline
desk-notification-title = { $machine } asks you for help
desk-notification-body = Open the support desk to accept or decline.
desk-machines-heading = Machines
desk-column-name = Name
desk-column-status = Status
# $command: the command, shown as code
desk-no-machines = No machine is enrolled yet. An administrator creates an enrolment token; on the machine, run { $command }.
# $time: a time of day; $when: a date and time
desk-online-since = Online since { $time }
desk-online-since-busy = Online since { $time }, in a session
desk-offline-last-seen = Offline, last seen { $when }
desk-offline-never = Offline, never connected
desk-offer-help = Offer help
desk-offer-offline = The machine is offline.
desk-offer-busy = The machine is already in a session.
desk-sessions-heading = Live sessions
desk-column-machine = Machine
desk-column-novice = Novice
desk-column-expert = Expert
desk-column-since = Since
desk-column-mode = Mode
desk-column-quality = Quality
desk-mode-asking = Asking the novice
desk-mode-view = Viewing
desk-mode-control = In control
desk-quality-fps = { $fps } fps
desk-quality-bitrate = { $mbits } Mbit/s
desk-quality-rtt = RTT { $ms } ms
desk-invitations-heading = Open invitations
desk-column-created = Created
desk-column-expires = Expires
desk-column-state = State
desk-invitation-open = Open
desk-invitation-in-use = In use
# $operator: who offered the help from the desk
desk-invitation-open-offered = Open (offered by { $operator })
desk-invitation-in-use-offered = In use (offered by { $operator })

## The audit log.

desk-audit-heading = Audit log
desk-audit-machine = Machine
desk-audit-all-machines = All machines
desk-audit-person = Person
desk-audit-person-hint = name or login
desk-audit-kind = Kind
desk-audit-all-kinds = All kinds
desk-audit-from = From
desk-audit-until = Until
desk-audit-csv = Download CSV
desk-audit-json = Download JSON
desk-column-time = Time
desk-column-kind = Kind
desk-column-who = Who
desk-column-detail = Detail
desk-kind-agent-registered = Agent registered
desk-kind-machine-enrolled = Machine enrolled
desk-kind-invitation-created = Invitation created
desk-kind-invitation-sent-directly = Invitation sent directly
desk-kind-invitation-revoked = Invitation revoked
desk-kind-invitation-redeemed = Invitation opened
desk-kind-wrong-password = Wrong password
desk-kind-invitation-locked = Invitation locked
desk-kind-help-offered = Help offered
desk-kind-direct-invitation-accepted = Direct invitation accepted
desk-kind-direct-invitation-declined = Direct invitation declined
desk-kind-session-accepted = Session accepted
desk-kind-session-declined = Session declined
desk-kind-control-requested = Control requested
desk-kind-control-granted = Control granted
desk-kind-control-refused = Control refused
desk-kind-control-stopped = Control stopped
desk-kind-session-ended = Session ended
desk-kind-signed-in = Signed in
desk-kind-sign-in-failed = Sign-in failed
desk-kind-signed-out = Signed out
desk-kind-account-created = Account created
desk-kind-enrolment-token-created = Enrolment token created
desk-kind-enrolment-token-revoked = Enrolment token revoked

## Administration.

desk-admin-heading = Administration
desk-new-operator = New operator
desk-operator-name = Name shown to people
desk-operator-password = Password (at least 10 characters)
desk-create-operator = Create operator
desk-enrol-heading = Enrol machines
desk-token-hours = Valid for (hours)
desk-token-uses = Number of machines (empty: any)
desk-create-token = Create enrolment token
desk-token-title = Enrolment token
desk-token-heading = Enrolment token created
desk-token-copy-now = Copy it now: it is shown only this once.
# $duration: how long the token is valid, such as "1 day"
desk-token-enrols-one = It enrols one machine, within { $duration }.
desk-token-enrols-some = { $machines ->
    [one] It enrols one machine, within { $duration }.
   *[other] It enrols up to { $machines } machines, within { $duration }.
}
desk-token-enrols-any = It enrols any number of machines for { $duration }.
desk-token-run = On each machine, run:
desk-back = Back to the dashboard

## Pages that say what happened, or what went wrong: a title, then a message.

desk-refused-title = That did not work
desk-failed-title = Something went wrong
desk-failed = Something went wrong on the server. Try again later.
desk-forged-title = This form cannot be accepted
desk-forged = The form has expired or did not come from this site. Reload the page and try again.
desk-admins-only-title = Administrators only
desk-admins-only = Only an administrator of your organisation can do this.
desk-operator-created-title = Operator created
desk-operator-created = { $name } can now sign in as "{ $login }" with the password you chose.
desk-bad-hours = The validity in hours must be a whole number.
desk-bad-uses = The number of machines must be a whole number.
desk-no-machine-title = No such machine
desk-no-machine = Your organisation has no machine with this identity. It may have been removed.
desk-busy-title = Already in a session
desk-busy = { $machine } is already in a session or being asked. Try again when it has ended.
desk-offline-title = The machine is offline
desk-offline = { $machine } is not connected right now, so nobody there can be asked.
desk-no-invitation-title = No such invitation
desk-no-invitation = No invitation to you has this identity. It may have been meant for someone else.
desk-invitation-expired-title = The invitation has expired
desk-invitation-expired = This invitation is no longer valid. The person who sent it can send a new one.
desk-invitation-withdrawn-title = The invitation was withdrawn
desk-invitation-withdrawn = The person who sent this invitation has withdrawn it.
desk-already-accepted-title = Already accepted
desk-already-accepted = This invitation was accepted before; it opens one session only. Ask for a new invitation to connect again.
desk-already-declined-title = Already declined
desk-already-declined = This invitation was declined before. Ask for a new one if you can help after all.
