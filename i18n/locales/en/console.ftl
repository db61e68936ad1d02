### The expert console: the invitation page, the live session, and what its script says.
### $novice is the name of the person who invited; $machine the name of their computer.

console-title = Remote assistance
console-title-for = Remote assistance for { $novice }

## The page as the server renders it, for each state of the invitation.

console-code-headline = Open an invitation
console-code-explanation = Type the code you were given (five groups of four), then press Open.
console-code-label = Code
console-code-open = Open
console-unknown-headline = This invitation does not exist
console-unknown-explanation = Check that you copied the whole link, or ask for a new invitation.
console-asks-headline = { $novice } asks for your help
console-open-explanation = Enter your name so they know who is connecting. They will be asked to allow it.
console-in-use-explanation = Someone is already connected through this invitation.
console-expired-explanation = This invitation has expired. Ask for a new one.
console-revoked-explanation = This invitation was cancelled by the person who sent it.
console-locked-explanation = This invitation is locked after too many wrong passwords (or attempts to intercept the connection). Ask for a new one.
console-declined-explanation = This invitation was declined.
console-offering-headline = Offering help to { $machine }
console-helping-headline = Helping { $machine }
console-offered-explanation = The person there is asked whether to let you see their screen.
console-your-name = Your name
console-secret-code = Secret code
console-password = Password
console-connect = Connect
console-try-again = Try again
console-fit = Fit to window
console-actual = Actual size
console-take-control = Take control
console-release-control = Release control
console-end = End session
console-screen-label = The shared desktop
console-chat-placeholder = Type a message
console-chat-send = Send

## Joining, waiting for the novice's answer, and the connection.

console-name-needed = Please enter your name.
console-checking-invitation = Checking the invitation…
# $why: the browser's own words for the network error
console-server-unreachable = Cannot reach the server: { $why }. Check your connection and try again.
# $status: the HTTP status number
console-invitation-refused = The server refused the invitation ({ $status }).
console-refused-expired = This invitation has expired. Ask for a new one.
console-refused-revoked = This invitation was cancelled by the person who sent it.
console-refused-locked = This invitation is locked after too many wrong passwords. Ask for a new one.
console-refused-in-use = Someone is already connected through this invitation.
console-refused-unknown = No invitation has this code. Check the link or code you were given.
console-refused-rate-limited = Too many attempts from your address. Wait a minute and try again.
console-refused-bad-name = That name cannot be used: give at most 64 characters, without control characters.
console-cannot-connect = Cannot connect
console-damaged-page = This page is damaged. Go back to the dashboard and offer help again.
console-waiting-for = Waiting for { $novice } to allow the connection…
console-allowed = { $novice } allowed the connection. Connecting…
console-connected-to = Connected to { $novice }.
console-reconnecting = Lost the connection to the server; reconnecting…
console-server-lost = Lost the connection to the server. Open the invitation link again to reconnect.
console-error-bad-ticket = The server no longer accepts this page's admission. Open the invitation link again to reconnect.
console-error-ticket-expired = This page's admission has expired. Open the invitation link again to reconnect.
console-error-hello-expected = The server did not understand this page. Open the invitation link again to reconnect.
console-error-ticket-used = Another browser is already connected with this page's admission. Open the invitation link again to reconnect.
console-message-not-sent = Message not sent: the connection to the other computer is not open.
console-control-not-sent = Not sent: the connection to the other computer is not open.
console-asking-control = Asking for control…

## How the session ended.

console-ended-connection-closed = The connection ended (connection closed).
console-ended-connection-failed = The connection ended (connection failed).
console-ended-connection-disconnected = The connection ended (connection disconnected).
console-ended-channel-closed = The connection ended (data channel closed).
console-ended-track-ended = The connection ended (video track ended).
console-novice-ended = The person you are helping ended the session.
console-you-ended = You ended the session.
console-ended-novice-hung-up = The person you are helping ended the session.
console-ended-expert-hung-up = The expert ended the session.
console-ended-declined = The person you wanted to help declined the connection.
console-ended-consent-timeout = The person you wanted to help did not answer in time.
console-ended-peer-gone = The other side's connection was lost.
console-ended-revoked = The invitation was expired by its owner.
console-ended-server-shutdown = The server is shutting down.
console-ended-not-recorded = The server could not record the session; try again later.
console-ended-video-unsupported = This browser cannot show the picture: it decodes neither H.264 nor VP8 video. Open the invitation in a current Firefox, Chrome, Edge or Safari.
console-ended-password-mismatch = The password was wrong, or someone is intercepting the connection. Nothing was shared.
console-ended-invitation-closed = The computer you wanted to help no longer accepts this invitation (it expired, was cancelled or is locked). Ask for a new one.

## The invitation's secret, and the password check with the novice's computer.

console-secret-missing = This link is missing its secret part (after the #). Type the secret code you were given, or open the whole link.
console-secret-needed = Please type the secret code (the last eight characters of the code you were given).
console-code-invalid = That is not a whole code: it has five groups of four letters and digits.
console-checking = { $novice } allowed the connection. Checking the password with their computer…
console-wrong-password = The password was wrong, or someone is intercepting the connection. Nothing was shared.
# $tries: how many more wrong passwords the invitation takes before it locks
console-wrong-password-tries = { $tries ->
    [0] The password was wrong, or someone is intercepting the connection. Nothing was shared. The invitation is now locked.
    [one] The password was wrong, or someone is intercepting the connection. Nothing was shared. { $tries } more try before the invitation locks.
   *[other] The password was wrong, or someone is intercepting the connection. Nothing was shared. { $tries } more tries before the invitation locks.
}
console-intercepted = The computer that answered could not prove it is the one that invited you: someone may be intercepting the connection. Nothing was shown.
console-check-broken = The password check could not be completed: the other computer's answer could not be read.

## Before the novice is asked: can this browser show the picture?

console-unsupported-headline = This browser cannot show a live screen
console-not-asked = { $novice } has not been asked anything.
console-offer-withdrawn = Your offer to { $novice } was withdrawn.
console-no-webrtc = This browser cannot show a live screen: it has no WebRTC. Open the invitation in a current Firefox, Chrome, Edge or Safari.
console-no-codec = This browser cannot show a live screen: it cannot decode H.264 or VP8 video. Open the invitation in a current Firefox, Chrome, Edge or Safari.

## The live picture, and the line about the link's quality; the line's parts are joined with " · ".

console-frozen = Picture paused: poor connection
console-sharing-paused = { $novice } paused sharing: the picture comes back when they resume.
console-input-refused = That went to { $novice }’s own assistance window, which only they can use; it was not passed on.
console-quality-size = { $width }×{ $height }
console-quality-fps = { $fps } fps
# $numbers: the bitrate, round-trip time and loss, separated by commas
console-quality-good = Link good: { $numbers }
console-quality-fair = Link fair: { $numbers }
console-quality-poor = Link poor: { $numbers }
console-quality-bitrate = { $mbits } Mbit/s
console-quality-rtt = RTT { $ms } ms
console-quality-loss = { $percent } % lost
console-quality-direct = direct
console-quality-relayed = relayed
console-quality-reconnecting = reconnecting
