### "Ask for help": the invitation form, then the ways to send the invitation.

ask-heading = Ask someone to help you
ask-intro = Create an invitation and send it to the person who will help you. They see your screen only after you allow it, and you can end the session at any time.
ask-name-label = Your name, as your helper will see it
ask-name-hint = for example: Anna at home
ask-password-label = Password (optional)
ask-password-help = If you choose a password, your helper must type it to connect. Tell it to them another way than the invitation, for example on the phone.
ask-expiry-label = The invitation is valid for
ask-expiry-custom = Another length of time
ask-custom-amount-label = How long
ask-custom-unit-minutes = minutes
ask-custom-unit-hours = hours
ask-custom-unit-days = days
ask-create = Create invitation
ask-creating = Creating the invitation…
ask-error-not-a-number = Type the length of time as a whole number, for example 3.
ask-error-too-short = An invitation must be valid for at least one minute.
ask-error-too-long = An invitation can be valid for at most 30 days. Choose a shorter time.
ask-error-password-too-long = The password is too long. Choose a shorter one.

## The invitation is made: how to send it. $when is a moment as date-time-* says it.

ask-ready-heading = Your invitation is ready
ask-ready-valid-until = It can be used until { $when }.
ask-ready-password = Your helper will also need the password you chose.
ask-send-heading = Send it to your helper in one of these ways:
ask-copy-link = Copy link
ask-short-code-label = Or read this code out to your helper on the phone:
ask-email = Send by e-mail
ask-save-file = Save as a file
ask-desk-heading = Or send an invitation to someone at your support desk:
ask-desk-online = online now
ask-desk-offline = not online
ask-desk-send = Send to { $name }
ask-new = Create a new invitation

## What became of a way of sending.

sent-clipboard = The link is on the clipboard. Paste it into a message to your helper.
sent-file = The invitation is saved as { $path }. Send this file to your helper; they open it with a double-click.
sent-mail = Your e-mail program has opened with the invitation. Add your helper’s address and send it.
sent-desk-online = The invitation was sent to { $name }, who is online now.
sent-desk-offline = The invitation was sent to { $name }, who will see it the next time they sign in.
