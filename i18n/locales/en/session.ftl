### "During a session": who sees the screen, who controls it, the chat, and how it ended.

session-none = No session is running. When your helper opens your invitation, you are asked here before they see anything.
session-connecting = Connecting { $expert } to your screen…

## The band across the top of the window while the screen is shared.

banner-watching = { $expert } can see your screen
banner-controlling = { $expert } is controlling your computer
banner-paused = Sharing paused: { $expert } cannot see your screen now

session-watching = { $expert } is watching your screen. They cannot use your mouse or keyboard.
session-controlling = { $expert } is using your mouse and keyboard. To stop it: hold down Esc, press Ctrl+C in this window, or click “Stop control”.
session-paused = Your screen is not being shared right now. { $expert } sees nothing new until you resume.
chat-heading = Chat
chat-hint = Write a message to { $expert }
chat-send = Send
chat-you = You
session-stop-control = Stop control
session-pause = Pause sharing
session-resume = Resume sharing
session-end = End session

## What happened during the session, as lines among the chat.

event-control-granted = { $expert } now controls your mouse and keyboard.
event-control-ended-esc = You held down Esc, so remote control stopped.
event-control-ended-ctrl-c = You pressed Ctrl+C, so remote control stopped.
event-control-ended-button = You stopped remote control.
event-control-ended-expert = { $expert } gave control back.
event-control-declined = You declined remote control. { $expert } can still watch and chat.
event-control-request-expired = The request for remote control was declined because you did not answer in time.
event-paused = You paused sharing.
event-resumed = You resumed sharing.

## How the last session ended.

ended-heading = The session has ended
ended-not-shared = Your screen is no longer shared.
ended-novice = You ended the session.
ended-expert = Your helper ended the session.
ended-declined = You declined the request.
ended-timeout = The request was declined because nobody answered in time.
ended-connection-lost = The connection to your helper was lost.
ended-revoked = The invitation was expired, so the session ended.
ended-server-shutdown = The server is shutting down, so the session ended.
ended-not-recorded = The server could not record the session, so it did not go ahead. Try again later.
ended-video-unsupported = Your helper’s browser cannot show your screen: it plays neither H.264 nor VP8 video. Ask them to use a current Firefox, Chrome, Edge or Safari.
ended-browser-not-proven = Your helper’s browser came back but could not prove it is the one you allowed, so sharing stopped. You will be asked again.
ended-wrong-password = Your helper typed a wrong password, or someone is intercepting the connection. Nothing of your screen was shared.
ended-wrong-password-tries = Your helper typed a wrong password, or someone is intercepting the connection. Nothing of your screen was shared. { $tries ->
        [one] One more try is left before the invitation locks.
       *[other] { $tries } more tries are left before the invitation locks.
    }
ended-wrong-password-locked = Your helper typed a wrong password, or someone is intercepting the connection. Nothing of your screen was shared, and after too many wrong passwords the invitation is now locked.
